"""Pages of the built site that the book promises: bibliography, citations, statistics."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.site

SITE = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html")).resolve()
CITED_WORKS = {
    "reddi2018convergence": "Reddi",
    "kingma2015adam": "Kingma",
    "duchi2011adaptive": "Duchi",
    "tran2019convergence": "Tran",
    "zhang2022adam": "Zhang",
    "defossez2022simple": "fossez",
    "korzeniowski2017experiments": "Korzeniowski",
}


def _page(name: str) -> str:
    path = SITE / name
    assert path.exists(), f"{name} is not in the built site {SITE}: run `make book` first"
    return path.read_text(encoding="utf-8")


def test_bibliography_has_the_works_the_book_builds_on():
    bib = (REPO / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    assert set(CITED_WORKS) <= keys, f"missing from references.bib: {set(CITED_WORKS) - keys}"
    references = _page("references.html")
    for author in CITED_WORKS.values():
        assert author in references, f"{author} is missing from the references page"


def test_every_chapter_cites_the_literature():
    chapters = sorted((SITE / "chapters").glob("*.html"))
    assert chapters, "no chapter in the built site"
    for page in chapters:
        text = page.read_text(encoding="utf-8")
        assert re.search(r'href="[./]*references\.html#', text), f"{page.name} cites nothing from references.bib"
