"""Every chapter of the book executes, within its time budget, and follows the house style.

`make test` builds the book first, which executes each chapter through jupyter-cache; the
execution test here reads that cache (a record exists only for a notebook whose code cells
match the current source and that ran without error) and re-executes a chapter with
nbclient only when no matching record exists (e.g. `pytest` run without `make book`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import jupytext
import nbclient
import pytest
import yaml

from .conftest import CITATION, REPO

# seconds on the 2-core CI machine (the issues' budgets)
TIME_LIMITS = {"intro": 60, "01": 60, "02": 60, "03": 60, "04": 120, "05": 120, "06": 180, "07": 180,
               "appendix": 60}


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def notebooks() -> list[Path]:
    out = []
    for f in toc_files():
        path = REPO / f"{f}.md"
        if path.read_text().startswith("---\njupytext:"):
            out.append(path)
    return out


def chapter_key(path: Path) -> str:
    return "intro" if path.stem == "intro" else path.stem.split("_")[0]


def test_every_chapter_file_is_in_the_toc():
    listed = set(toc_files())
    on_disk = {f"chapters/{p.stem}" for p in (REPO / "chapters").glob("*.md")}
    assert on_disk <= listed, f"chapters missing from _toc.yml: {sorted(on_disk - listed)}"
    assert all((REPO / f"{f}.md").exists() for f in listed), "the toc lists a file that does not exist"


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_chapter_executes_within_budget(path):
    from jupyter_cache import get_cache

    limit = TIME_LIMITS[chapter_key(path)]
    nb = jupytext.read(path)
    cache_dir = REPO / "_build" / ".jupyter_cache"
    if cache_dir.exists():
        try:
            record = get_cache(cache_dir).match_cache_notebook(nb)
        except KeyError:
            record = None
        if record is not None:
            seconds = record.data["execution_seconds"]
            assert seconds < limit, f"{path.name} took {seconds:.1f} s in the book build (limit {limit} s)"
            return
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    assert seconds < limit, f"{path.name} took {seconds:.1f} s (limit {limit} s)"


CHAPTERS = [p for p in notebooks() if p.parent.name == "chapters" and not p.stem.startswith("appendix")]
APPENDICES = [p for p in notebooks() if p.parent.name == "chapters" and p.stem.startswith("appendix")]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_structure(path):
    text = path.read_text()
    assert re.search(r"^#+ .*(learning objectives|objectives)", text, re.I | re.M), "learning objectives at the top"
    assert re.search(r"^#+ .*summary", text, re.I | re.M), "a summary at the end"
    assert len(re.findall(r"^```{exercise}", text, re.M)) >= 2, "at least two exercises"
    assert len(re.findall(r"^```{solution-start}", text, re.M)) >= 2, "exercises need solutions"
    assert ":class: dropdown" in text, "solutions are dropdowns"
    assert CITATION.search(text), "citations as [Reddi et al. (2018)](cite:t:KEY) links"
    for caption_block in re.findall(r":mystnb:\n((?::.*\n)+)", text):
        if "figure:" not in caption_block:  # other myst-nb options (e.g. markdown_format)
            continue
        assert "caption:" in caption_block and "name: fig-" in caption_block, f"figure without caption/label: {caption_block}"
    assert not re.search(r"\b(TODO|FIXME|XXX)\b", text), "no TODO left in a chapter"


@pytest.mark.parametrize("path", APPENDICES, ids=lambda p: p.stem)
def test_appendix_structure(path):
    """An appendix explains code the chapters use: objectives and a summary, no exercises."""
    text = path.read_text()
    assert re.search(r"^#+ .*objectives", text, re.I | re.M), "learning objectives at the top"
    assert re.search(r"^#+ .*summary", text, re.I | re.M), "a summary at the end"
    assert not re.search(r"\b(TODO|FIXME|XXX)\b", text), "no TODO left in an appendix"


# What jupyterlab-myst shows as a BibTeX key or a bare label (it renders one notebook, without
# the bibliography or the other chapters): a citation role, a reference role without the
# text a reader sees, the {doc} role (its link is not the chapter's file either).
BARE_IN_JUPYTERLAB = re.compile(r"\{cite(?::\w+)?\}`[^`]*`|\{(?:numref|prf:ref|ref|eq)\}`[^`<]*`|\{doc\}`[^`]*`")


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_citations_and_references_carry_the_text_a_reader_sees(path):
    """In JupyterLab a chapter shows "Reddi et al. (2018)" and "Fig. 4.3", as the book does:
    citations are [text](cite:t:KEY) links, references have their text
    ({numref}`Fig. 4.1 <fig-thm1>`), chapters are linked as [title](file.md)
    (docs/design.md, "Citations and references in JupyterLab")."""
    bare = BARE_IN_JUPYTERLAB.findall(path.read_text())
    assert not bare, bare
