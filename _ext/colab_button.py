"""A "Colab" launch button on every notebook page, opening the executed chapter.

Colab opens ``.ipynb`` files from GitHub, not MyST Markdown, so the button opens the
notebook the site publishes, ``_sources/<page>.ipynb`` (executed, with its install cell:
see notebook_downloads.py), from the branch that holds the built site
(``colab_published_branch``, gh-pages: .github/workflows/book.yml pushes it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sphinx.application import Sphinx

COLAB = "https://colab.research.google.com"


def colab_url(repository_url: str, branch: str, pagename: str) -> str:
    owner_repo = urlsplit(repository_url).path.strip("/")
    return f"{COLAB}/github/{owner_repo}/blob/{branch}/_sources/{pagename}.ipynb"


def add_colab_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if not context.get("ipynb_source"):  # not a notebook page
        return
    repository_url = app.config.html_theme_options.get("repository_url", "")
    if urlsplit(repository_url).netloc != "github.com":
        return
    launch = next((b for b in context.get("header_buttons", []) if b.get("label") == "launch-buttons"), None)
    if launch is None:
        return
    launch["buttons"].append({
        "type": "link",
        "text": "Colab",
        "tooltip": "Launch on Colab",
        "icon": "_static/images/logo_colab.png",
        "url": colab_url(repository_url, app.config.colab_published_branch, pagename),
    })


def setup(app: Sphinx) -> dict:
    app.add_config_value("colab_published_branch", "gh-pages", "html")
    # after sphinx-book-theme has made the launch menu (its handlers run at 501)
    app.connect("html-page-context", add_colab_button, priority=510)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
