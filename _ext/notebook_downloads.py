"""Make each chapter's ``.ipynb`` download the executed notebook, with its outputs.

sphinx-book-theme offers ``_sources/<chapter>.ipynb`` (a copy of myst-nb's
``_build/jupyter_execute/<chapter>.ipynb``) in the download menu of every notebook page.
When a chapter comes from the execution cache, myst-nb writes that file without outputs.
After the build, this fills in the outputs from the same jupyter-cache, so the download is
always the executed chapter.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


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
        nbformat.write(nb, download)
        filled += 1
    logger.info(f"notebook_downloads: {filled} executed notebook(s) in _sources/")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", fill_in_outputs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
