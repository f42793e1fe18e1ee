"""The built site is self-contained: every script, style, font and image comes from it.

Static checks of ``_build/html`` (``make book`` builds it); ``test_browser.py`` checks the
same in a real browser. MathJax, the ipywidgets manager and RequireJS are served from
``_assets/`` (copied from npm packages by ``_ext/offline_assets.py``).
"""

from __future__ import annotations

import html.parser
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import REPO

pytestmark = pytest.mark.site

SITE = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html")).resolve()
NOT_PAGES = {"_static", "_assets", "_sources", "_images", "_downloads"}
ASSETS = {
    "mathjax": "_assets/mathjax/tex-mml-chtml.js",
    "@jupyter-widgets/html-manager": "_assets/jupyter-widgets/embed-amd.js",
    "requirejs": "_assets/requirejs/require.js",
}

# (tag, attribute) pairs that make a browser fetch something when the page loads
LOADING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"),
           ("audio", "src"), ("embed", "src"), ("object", "data"), ("input", "src"), ("track", "src")}
LOADING_LINK_RELS = {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "prefetch",
                     "apple-touch-icon", "manifest"}


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    assert (SITE / "index.html").exists(), f"no built site in {SITE}: run `make book` first"
    return {
        p.relative_to(SITE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(SITE.rglob("*.html"))
        if not NOT_PAGES.intersection(p.relative_to(SITE).parts)
    }


class _Loads(html.parser.HTMLParser):
    """Collects the URLs a page loads (not the links it offers)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for t, attr in LOADING:
            if tag == t and a.get(attr):
                self.urls.append(a[attr])
        if tag == "img" and a.get("srcset"):
            self.urls += [part.split()[0] for part in a["srcset"].split(",") if part.strip()]
        if tag == "link" and a.get("href") and LOADING_LINK_RELS.intersection((a.get("rel") or "").lower().split()):
            self.urls.append(a["href"])
        if a.get("style"):
            self.styles.append(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _remote(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data", "blob")


CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def _css_remote_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [u for u in CSS_URL.findall(css) if _remote(u)]


def test_no_page_loads_anything_from_another_host(pages):
    offenders = {}
    for name, text in pages.items():
        parser = _Loads()
        parser.feed(text)
        remote = [u for u in parser.urls if _remote(u)]
        remote += [u for s in parser.styles for u in _css_remote_urls(s)]
        if remote:
            offenders[name] = remote
    assert not offenders, f"pages that load from another host: {offenders}"


def test_no_stylesheet_loads_from_another_host():
    offenders = {}
    for css in list(SITE.glob("_static/**/*.css")) + list(SITE.glob("_assets/**/*.css")):
        remote = _css_remote_urls(css.read_text(encoding="utf-8", errors="replace"))
        if remote:
            offenders[css.relative_to(SITE).as_posix()] = remote
    assert not offenders, f"stylesheets with fonts or imports from another host: {offenders}"


def test_the_site_serves_its_own_mathjax_widgets_and_requirejs():
    lock = json.loads((REPO / "package-lock.json").read_text())["packages"]
    for package, path in ASSETS.items():
        assert (SITE / path).is_file(), f"{path} is missing from the site (run `make assets`, then build)"
        assert f"node_modules/{package}" in lock, f"{package} is not pinned in package-lock.json"
    assert (SITE / "_assets/jupyter-widgets-setup.js").is_file()
    assert list(SITE.glob("_assets/mathjax/output/chtml/fonts/woff-v2/*.woff")), "MathJax's fonts are missing"
    assert lock["node_modules/mathjax"]["version"].startswith("3.")


def test_pages_with_math_load_the_local_mathjax(pages):
    with_math = [n for n, t in pages.items() if 'class="math' in t]
    assert "intro.html" in with_math
    for name in with_math:
        scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', pages[name], flags=re.I)
        assert scripts, f"{name} has math but loads no MathJax"
        assert all("_assets/mathjax/tex-mml-chtml.js" in s for s in scripts), (name, scripts)


def test_pages_with_widgets_load_the_local_widget_manager(pages):
    for name, text in pages.items():
        if "application/vnd.jupyter.widget-state+json" not in text:
            continue
        scripts = re.findall(r'<script[^>]*src="([^"]*)"', text)
        local = [s for s in scripts if "_assets/" in s]
        assert any("jupyter-widgets-setup.js" in s for s in local), name
        assert any("requirejs/require.js" in s for s in local), name
        assert any("jupyter-widgets/embed-amd.js" in s for s in local), name
        assert "cdn.jsdelivr.net" not in text and "cdnjs.cloudflare.com" not in text, name


def test_no_thebe_or_cdn_code_on_the_pages(pages):
    """Thebe is off: sphinx-thebe's scripts (which name unpkg.com) must not be on the pages."""
    for name, text in pages.items():
        assert "THEBE_JS_URL" not in text and "sphinx-thebe.js" not in text, name
        assert "unpkg.com" not in text, name
