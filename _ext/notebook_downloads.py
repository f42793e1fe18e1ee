"""Make each chapter's ``.ipynb`` download the executed notebook, with its outputs.

sphinx-book-theme offers ``_sources/<chapter>.ipynb`` (a copy of myst-nb's
``_build/jupyter_execute/<chapter>.ipynb``) in the download menu of every notebook page.
When a chapter comes from the execution cache, myst-nb writes that file without outputs.
After the build, this fills in the outputs from the same jupyter-cache, so the download is
always the executed chapter.

The published notebook also opens outside the book's environment (the Colab button of
each page, _ext/colab_button.py, opens it from the published branch): its first cell
installs the package from the book's repository when ``adaptive_methods`` cannot be
imported, and does nothing where it can.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

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
    config = getattr(app.env, "mystnb_config", None)
    if config is None or not config.execution_cache_path:
        return
    from jupyter_cache import get_cache

    cache = get_cache(config.execution_cache_path)
    executed = Path(config.output_folder)
    sources = Path(app.outdir) / "_sources"
    filled = 0
    theme = app.config.html_theme_options
    repository_url, branch = theme.get("repository_url", ""), theme.get("repository_branch", "main")
    for download in sorted(sources.rglob("*.ipynb")):
        docname = download.relative_to(sources).with_suffix("").as_posix()
        notebook = executed / f"{docname}.ipynb"
        if not notebook.exists():
            continue
        nb = nbformat.read(notebook, as_version=4)
        try:
            _, nb = cache.merge_match_into_notebook(nb)
        except KeyError:  # not in the cache (e.g. execution switched off): keep it as it is
            continue
        nb.metadata.pop("source_map", None)  # myst-nb's internal bookkeeping
        if repository_url and not any(INSTALL_CELL_TAG in c.metadata.get("tags", []) for c in nb.cells):
            nb.cells.insert(0, install_cell(repository_url, branch))
        nbformat.write(nb, download)
        filled += 1
    logger.info(f"notebook_downloads: {filled} executed notebook(s) in _sources/")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", fill_in_outputs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
