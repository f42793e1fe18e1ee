"""The chapters' downloads: the executed notebook, and nothing a student must not see.

sphinx-book-theme offers ``_sources/<chapter>.ipynb`` (a copy of myst-nb's
``_build/jupyter_execute/<chapter>.ipynb``) and ``_sources/<chapter>.md`` in the download menu
of every notebook page. After the build this

- fills in the outputs of the ``.ipynb`` from the jupyter-cache (when a chapter comes from
  the cache, myst-nb writes that file without outputs), so the download is always the
  executed chapter;
- drops the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines, as the pages do;
- in the student edition (``student_edition = True``, set by ``make student-book``), drops
  every solution (what lies between ``{solution-start}`` and ``{solution-end}``: prose, answer
  and test cells) from both downloads, as sphinx-exercise's ``hide_solutions`` does on the pages;
- refuses (a warning, an error under ``-W``) a download with hidden tests, which belong in
  ``grading/`` only.

The published notebook also opens outside the book's environment (the Colab button of
each page, _ext/colab_button.py, opens it from the published branch): its first cell
installs the package from the book's repository when ``adaptive_methods`` cannot be
imported, and does nothing where it can.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>solution-start|solution-end)\}")


def strip_solution_lines(text: str, inside: bool = False) -> tuple[str, bool]:
    """Text without what lies between {solution-start} and {solution-end} (both included);
    `inside` says whether the text starts inside a solution. Returns (text, inside at its end)."""
    kept, closing = [], None
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line.strip())
        if closing is not None:  # the directive's own lines, up to its closing fence
            if line.strip() == closing:
                closing = None
            continue
        if m:
            inside = m["name"] == "solution-start"
            closing = m["fence"]
            continue
        if not inside:
            kept.append(line)
    return "".join(kept), inside


def without_solutions(nb):
    """A notebook without its solutions (prose and code cells between the directives)."""
    cells, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source, inside = strip_solution_lines(cell.source, inside)
            if source.strip():
                cell.source = source.strip("\n")
                cells.append(cell)
        elif not inside:
            cells.append(cell)
    nb.cells = cells
    return nb


def clean_download(nb, student_edition: bool):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = SOLUTION_MARKER.sub("", cell.source)
    return without_solutions(nb) if student_edition else nb


# Marks the install cell, so that a notebook is given it once.
INSTALL_CELL_TAG = "install-package"
INSTALL_CELL = """\
# Outside the book's environment (on Colab, say) this installs the book's package first.
import importlib.util, subprocess, sys
if importlib.util.find_spec("adaptive_methods") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "{requirement}"], check=True)"""


def install_cell(repository_url: str, branch: str) -> nbformat.NotebookNode:
    requirement = f"adaptive-methods @ git+{repository_url.rstrip('/')}.git@{branch}"
    cell = nbformat.v4.new_code_cell(INSTALL_CELL.format(requirement=requirement))
    cell.metadata["tags"] = [INSTALL_CELL_TAG]
    cell.id = INSTALL_CELL_TAG  # fixed, so that every build writes the same notebook
    return cell


def fill_in_outputs(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    student = bool(app.config.student_edition)
    sources = Path(app.outdir) / "_sources"
    config = getattr(app.env, "mystnb_config", None)
    cache, executed = None, None
    if config is not None and config.execution_cache_path:
        from jupyter_cache import get_cache

        cache = get_cache(config.execution_cache_path)
        executed = Path(config.output_folder)
    filled = 0
    theme = app.config.html_theme_options
    repository_url, branch = theme.get("repository_url", ""), theme.get("repository_branch", "main")
    for download in sorted(sources.rglob("*.ipynb")):
        docname = download.relative_to(sources).with_suffix("").as_posix()
        notebook = executed / f"{docname}.ipynb" if executed else download
        nb = nbformat.read(notebook if notebook.exists() else download, as_version=4)
        if cache is not None and notebook.exists():
            try:
                _, nb = cache.merge_match_into_notebook(nb)
                filled += 1
            except KeyError:  # not in the cache (e.g. execution switched off): keep it as it is
                pass
        nb.metadata.pop("source_map", None)  # myst-nb's internal bookkeeping
        if repository_url and not any(INSTALL_CELL_TAG in c.metadata.get("tags", []) for c in nb.cells):
            nb.cells.insert(0, install_cell(repository_url, branch))
        nbformat.write(clean_download(nb, student), download)
    for download in sorted([*sources.rglob("*.md"), *sources.rglob("*.md.txt")]):
        text = SOLUTION_MARKER.sub("", download.read_text())
        if student:
            text, _ = strip_solution_lines(text)
        download.write_text(text)
    for download in sorted(sources.rglob("*")):
        if download.name.endswith((".ipynb", ".md", ".md.txt")) and HIDDEN_MARKER in download.read_text():
            logger.warning(f"notebook_downloads: {download.name} has hidden tests; they belong in grading/")
    logger.info(f"notebook_downloads: {filled} executed notebook(s) in _sources/"
                + (" (student edition: no solutions)" if student else ""))


def setup(app: Sphinx) -> dict:
    app.add_config_value("student_edition", False, "env")
    app.connect("build-finished", fill_in_outputs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
