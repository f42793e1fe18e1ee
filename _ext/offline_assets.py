"""Serve the site's front-end JavaScript from the site itself, so it works offline.

MathJax, the ipywidgets embed manager and RequireJS come from the npm registry at pinned
versions (``package.json`` / ``package-lock.json``, installed by ``make assets``). This
extension copies them from ``node_modules/`` into ``<html outdir>/_assets/`` (outside
``_static/``, which Sphinx copies anew on every build; here only changed files are
copied) and checks that every script the configuration points at is local and present.
It also loads MathJax on every page (chapter titles in the navigation have math) and,
with Thebe off, keeps sphinx-thebe's CDN-pointing scripts off the pages.

``_config.yml`` points Sphinx and myst-nb at the copies. Sphinx resolves a relative script
path against ``_static/``, hence the ``../_assets/...`` form there.
``jupyter-widgets-setup.js`` (served from ``_assets/`` too) runs before the widget manager:
it points the manager at its own fonts and lets ipywidgets 8, which typesets labels with
the MathJax 2 API, work with MathJax 3.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path, PurePosixPath

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ASSETS_DIR = "_assets"

# (package in node_modules, path inside it, destination under _assets/, what to leave out)
BUNDLES = (
    ("mathjax", "es5", "mathjax", ()),
    ("@jupyter-widgets/html-manager", "dist", "jupyter-widgets", ("*.map",)),
    ("requirejs", "require.js", "requirejs/require.js", ()),
)


# Files of this extension served next to them: (file in _ext/, destination under _assets/)
OWN_FILES = (("jupyter-widgets-setup.js", "jupyter-widgets-setup.js"),)


def _node_modules(app: Sphinx) -> Path:
    return Path(app.confdir) / "node_modules"


def _missing_bundles(app: Sphinx) -> list[str]:
    modules = _node_modules(app)
    return [f"{pkg}/{inner}" for pkg, inner, _, _ in BUNDLES if not (modules / pkg / inner).exists()]


def _sync(src: Path, dst: Path, ignore: tuple[str, ...]) -> int:
    """Copy src to dst, skipping files that are already identical; return files copied."""
    if src.is_file():
        if dst.exists() and filecmp.cmp(src, dst, shallow=True):
            return 0
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        return 1
    copied = 0
    patterns = shutil.ignore_patterns(*ignore) if ignore else None
    for path in sorted(src.rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(src)
        if patterns and patterns(str(path.parent), [path.name]):
            continue
        copied += _sync(path, dst / rel, ())
    return copied


def _local_script_paths(app: Sphinx) -> dict[str, str]:
    """Every script URL the configuration sets: name of the setting -> URL."""
    urls = {"mathjax_path": app.config.mathjax_path}
    for url in getattr(app.config, "nb_ipywidgets_js", {}) or {}:
        urls[f"nb_ipywidgets_js[{url!r}]"] = url
    return urls


def check_config(app: Sphinx) -> None:
    """Fail early, with the fix in the message, when an asset would come from elsewhere."""
    if app.builder.format != "html":
        return
    missing = _missing_bundles(app)
    if missing:
        raise ExtensionError(
            "offline_assets: node_modules lacks " + ", ".join(missing)
            + ". Run `make assets` (needs Node.js and npm) before building the book."
        )
    for setting, url in _local_script_paths(app).items():
        if "://" in url or url.startswith("//"):
            raise ExtensionError(
                f"offline_assets: {setting} = {url!r} loads a script from another host; "
                f"point it at a copy under {ASSETS_DIR}/ (see _config.yml)"
            )
    outdir = Path(app.outdir)
    copied = sum(
        _sync(_node_modules(app) / pkg / inner, outdir / ASSETS_DIR / dest, ignore)
        for pkg, inner, dest, ignore in BUNDLES
    )
    here = Path(__file__).parent
    copied += sum(_sync(here / name, outdir / ASSETS_DIR / dest, ()) for name, dest in OWN_FILES)
    logger.info(f"offline_assets: {copied} file(s) copied to {ASSETS_DIR}/")
    for setting, url in _local_script_paths(app).items():
        # Sphinx puts relative script paths under _static/
        target = PurePosixPath("_static") / url
        if not (outdir / target).resolve().is_file():
            raise ExtensionError(f"offline_assets: {setting} = {url!r} is not a file of the built site ({target})")


def drop_thebe(app: Sphinx, config) -> None:
    """With Thebe off, keep sphinx-thebe (which Jupyter Book always loads) out of the pages.

    Its scripts name a CDN (unpkg) and are added twice under Sphinx 7, which makes every
    page throw "Identifier 'THEBE_JS_URL' has already been declared".
    """
    launch = (config.html_theme_options or {}).get("launch_buttons", {}) or {}
    if launch.get("thebe"):
        return
    for event in ("env-before-read-docs", "doctree-resolved"):
        for listener in list(app.events.listeners.get(event, [])):
            if getattr(listener.handler, "__module__", "") == "sphinx_thebe" and listener.handler.__name__ in (
                "init_thebe_core", "update_thebe_context"
            ):
                app.disconnect(listener.id)
    app.registry.css_files = [(name, attrs) for name, attrs in app.registry.css_files if name != "sphinx-thebe.css"]


def setup(app: Sphinx) -> dict:
    # Chapter titles with math ("$\\Gamma_t$: ...") are in every page's navigation, so
    # every page needs MathJax, not only those with math in the body.
    app.set_html_assets_policy("always")
    app.connect("config-inited", drop_thebe)
    app.connect("builder-inited", check_config)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
