"""The book as one PDF (`make pdf`, which `make test` runs first): its text, read back
with poppler's pdftotext, has every chapter title, every theorem-like title, the
bibliography and no unresolved reference; xelatex found every glyph; a page renders
with ink on it; every page of the site links the PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import jupytext
import pytest
import yaml

from .conftest import CITATION, REPO

SITE = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html")).resolve()
LATEX = REPO / "_build" / "latex"
PDF_NAME = "adam-and-beyond.pdf"
PDF = LATEX / PDF_NAME
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
THEOREM_LIKE = ("theorem", "lemma", "corollary", "proposition", "definition", "algorithm")

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed (see .ci/run)")


def _chapter_files() -> list[Path]:
    files = [TOC["root"]] + [c["file"] for part in TOC["parts"] for c in part["chapters"]]
    return [REPO / f"{f}.md" for f in files]


def _markdown(source: Path) -> str:
    """The prose of a page: the markdown cells of a notebook page, or the whole file."""
    text = source.read_text()
    if "kernelspec" not in text[:800]:
        return text
    return "\n".join(c.source for c in jupytext.read(source).cells if c.cell_type == "markdown")


def _comparable(text: str) -> str:
    """Letters and digits only, lower case: survives line breaks, hyphenation, typesetting."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _words_outside_math(title: str) -> list[str]:
    return [_comparable(part) for part in re.split(r"\$[^$]*\$", title) if _comparable(part)]


@pytest.fixture(scope="module")
def pdf_text() -> str:
    assert PDF.exists(), f"{PDF} is missing: `make pdf` builds it"
    return subprocess.run(["pdftotext", str(PDF), "-"], check=True, capture_output=True, text=True).stdout


def test_every_chapter_title_is_in_the_pdf(pdf_text):
    text = _comparable(pdf_text)
    for source in _chapter_files():
        title = re.search(r"^# (.+)$", _markdown(source), re.M).group(1)
        for words in _words_outside_math(title):
            assert words in text, f"{source.name}: title {title!r} is not in the PDF"


def test_every_theorem_title_is_in_the_pdf(pdf_text):
    text = _comparable(pdf_text)
    titles = []
    for source in _chapter_files():
        titles += re.findall(rf"^```+{{prf:(?:{'|'.join(THEOREM_LIKE)})}} *(.+)$", _markdown(source), re.M)
    assert len(titles) >= 10, titles
    for title in titles:
        for words in _words_outside_math(title):
            assert words in text, f"theorem title {title!r} is not in the PDF"


def test_the_bibliography_lists_every_cited_work(pdf_text):
    bib = (REPO / "references.bib").read_text()
    entries = dict(re.findall(r"@\w+\{([^,]+),(.*?)\n\}", bib, re.S))
    cited = set()
    for source in _chapter_files():
        for citation in CITATION.finditer(source.read_text()):
            cited.update(k.strip() for k in citation["keys"].split(","))
    assert cited and cited <= set(entries), sorted(cited - set(entries))
    assert "Bibliography" in pdf_text
    # the list starts under its running head (upper case); "Bibliography" also heads the
    # last page and the table of contents
    bibliography = _comparable(pdf_text[pdf_text.rindex("BIBLIOGRAPHY"):])
    for key in sorted(cited):
        title = re.search(r"title\s*=\s*\{(.+)\},?\s*$", entries[key], re.M).group(1)
        assert _comparable(title.replace("{", "").replace("}", "")) in bibliography, f"{key} is not in the bibliography"


def test_no_unresolved_reference_and_no_solution(pdf_text):
    assert "??" not in pdf_text, pdf_text[max(0, pdf_text.index("??") - 200):pdf_text.index("??") + 50]
    # the PDF is the students' copy: exercises yes, their solutions no (the site has them)
    assert re.search(r"Exercise \d+\.\d+ \(", pdf_text)  # numbered by chapter
    assert "Solution to Exercise" not in pdf_text
    # a widget panel is left out, not printed as its Python repr
    assert not re.search(r"\b(VBox|HBox|interactive)\(children=", pdf_text)


def test_xelatex_found_every_glyph_and_every_reference():
    log = (LATEX / PDF_NAME).with_suffix(".log").read_text(errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?)!", log)))
    assert not missing, missing
    assert "There were undefined references" not in log
    assert "Citation" not in re.findall(r"LaTeX Warning: (\w+)", log)


def test_executed_outputs_and_figures_are_in_the_pdf(pdf_text):
    images = subprocess.run(["pdfimages", "-list", str(PDF)], check=True, capture_output=True, text=True).stdout
    figures = len(images.splitlines()) - 2  # two header lines
    pngs = len(list(LATEX.glob("*.png")))
    assert pngs >= 10 and figures >= pngs, (figures, pngs)
    assert "steps: largest difference" in pdf_text or re.search(r"\d\.\d{3}", pdf_text)


def test_a_rendered_page_is_not_blank(tmp_path):
    info = subprocess.run(["pdfinfo", str(PDF)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages > 50
    page = pages // 2
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", str(page), "-l", str(page), str(PDF),
                    str(tmp_path / "page")], check=True)
    (image,) = tmp_path.glob("page*.pgm")
    data = image.read_bytes()
    # binary PGM: "P5\n<width> <height>\n<max>\n" then one byte a pixel
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(header.group(1)), int(header.group(2))
    pixels = data[header.end():]
    assert len(pixels) == width * height
    # at 40 dpi text is anti-aliased grey, so count every pixel that is not paper-white: a
    # page of text or a figure marks a fifth to a half of them, a blank page none
    ink = sum(1 for p in pixels if p < 250) / len(pixels)
    assert ink > 0.05, f"page {page} is blank ({ink:.4f} of it is not white)"


def test_every_page_of_the_site_links_the_pdf():
    assert (SITE / PDF_NAME).read_bytes() == PDF.read_bytes(), "`make pdf` copies the PDF to the site's root"
    pages = [p for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_")
             and "http-equiv=\"refresh\"" not in p.read_text(encoding="utf-8").lower()]
    assert len(pages) >= 8
    for page in pages:
        hrefs = re.findall(rf'href="([^"]*{re.escape(PDF_NAME)})"', page.read_text(encoding="utf-8"))
        assert hrefs, f"{page.relative_to(SITE)} does not link the PDF"
        for href in hrefs:
            assert (page.parent / href).resolve() == (SITE / PDF_NAME).resolve(), href
