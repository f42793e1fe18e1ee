"""Launch and download buttons lead somewhere real.

Every chapter page offers two launchers. Binder's link opens that chapter's source in
JupyterLab in the repository and branch of ``_config.yml``; Binder builds the repository
from ``environment.yml`` and ``postBuild``, which makes JupyterLab open ``.md`` files as
notebooks (jupytext). Colab's opens the executed ``.ipynb`` the site publishes, from the
branch the publishing workflow pushes the site to; its first cell installs the package
when it is missing and does nothing in the book's environment. Every chapter also offers
its executed ``.ipynb``.
``test_browser.py`` opens the Binder target in a local JupyterLab set up by ``postBuild``.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jupytext
import nbformat
import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.site

SITE = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html")).resolve()
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
WORKFLOW = REPO / ".github" / "workflows" / "book.yml"
OTHER_LAUNCHERS = ("deepnote.com", "hub/user-redirect", "jupyterlite",
                   "launch-thebe", "initThebeSBT")


def notebook_pages() -> list[tuple[str, Path]]:
    """(page, source) for every page of the book written as a notebook (jupytext header)."""
    pages = []
    for html_path in sorted(SITE.rglob("*.html")):
        rel = html_path.relative_to(SITE)
        if rel.parts[0].startswith("_"):
            continue
        source = REPO / rel.with_suffix(".md")
        if source.exists() and source.read_text().lstrip().startswith("---") and "kernelspec" in source.read_text()[:800]:
            pages.append((rel.as_posix(), source))
    return pages


def colab_links(text: str) -> list[str]:
    return [htmllib.unescape(u) for u in re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', text)]


def binder_links(text: str) -> list[str]:
    return [htmllib.unescape(u) for u in re.findall(r'href="(https://mybinder\.org/[^"]+)"', text)]


def test_there_are_chapter_pages():
    assert (SITE / "index.html").exists(), f"no built site in {SITE}: run `make book` first"
    names = [p for p, _ in notebook_pages()]
    assert "intro.html" in names


@pytest.mark.parametrize("page,source", notebook_pages() or [("none", None)],
                         ids=[p for p, _ in notebook_pages()] or ["none"])
def test_binder_button_opens_this_chapter_of_this_repository(page, source):
    if source is None:
        pytest.fail("no notebook page in the built site")
    text = (SITE / page).read_text(encoding="utf-8")
    links = binder_links(text)
    assert len(links) == 1, f"{page}: expected one Binder link, found {links}"
    url = urlsplit(links[0])
    repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    branch = CONFIG["repository"]["branch"]
    assert url.path == f"/v2/gh/{repo}/{branch}", links[0]
    (urlpath,) = parse_qs(url.query)["urlpath"]
    assert urlpath.startswith("lab/tree/"), "Binder should open JupyterLab (jupytext opens .md there)"
    target = urlpath[len("lab/tree/"):]
    assert (REPO / target).resolve() == source.resolve(), f"{page}: Binder opens {target}, not {source.name}"
    for launcher in OTHER_LAUNCHERS:
        assert launcher not in text, f"{page} offers a launcher that cannot run the chapter: {launcher}"


@pytest.mark.parametrize("page,source", notebook_pages() or [("none", None)],
                         ids=[p for p, _ in notebook_pages()] or ["none"])
def test_chapter_offers_its_executed_notebook(page, source):
    if source is None:
        pytest.fail("no notebook page in the built site")
    text = (SITE / page).read_text(encoding="utf-8")
    hrefs = [h for h in re.findall(r'href="([^"]+\.ipynb)"', text) if "://" not in h]  # Colab: below
    assert hrefs, f"{page} has no .ipynb download"
    for href in hrefs:
        target = (SITE / page).parent / href
        assert target.is_file(), f"{page} links {href}, which is not in the site"
        nb = nbformat.read(target, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        # the chapter's code cells, after the install cell the published notebook starts with
        assert "install-package" in code[0].metadata.get("tags", [])
        assert len(code) == 1 + sum(c.cell_type == "code" for c in jupytext.read(source).cells)
        assert any(c.get("outputs") for c in code) or not code, f"{href} was not executed"
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_pages_that_are_not_notebooks_offer_no_launcher():
    notebooks = {p for p, _ in notebook_pages()}
    for html_path in SITE.glob("*.html"):
        if html_path.name not in notebooks:
            assert not binder_links(html_path.read_text(encoding="utf-8")), html_path.name


def test_binder_builds_from_the_root_environment_and_postbuild():
    # a binder/ or .binder/ folder would make repo2docker ignore the root files
    assert not (REPO / "binder").exists() and not (REPO / ".binder").exists()
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("jupytext") for d in conda) and any(d.startswith("jupyterlab") for d in conda)
    post = REPO / "postBuild"
    assert post.exists() and os.access(post, os.X_OK), "postBuild must exist and be executable"
    assert "jupytext-config set-default-viewer" in post.read_text()
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org" and launch["notebook_interface"] == "jupyterlab"
    assert not launch.get("colab_url") and not launch.get("jupyterhub_url") and not launch.get("thebe")


def test_postbuild_makes_jupyterlab_open_markdown_as_notebooks(tmp_path):
    venv_bin = REPO / ".venv" / "bin"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path),
               PATH=os.pathsep.join([str(venv_bin), os.environ.get("PATH", "")]))
    subprocess.run(["bash", str(REPO / "postBuild")], cwd=REPO, env=env, check=True)
    import json

    overrides = json.loads((tmp_path / "labconfig" / "default_setting_overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook" and viewers["myst"] == "Jupytext Notebook"


@pytest.mark.parametrize("page,source", notebook_pages() or [("none", None)],
                         ids=[p for p, _ in notebook_pages()] or ["none"])
def test_colab_button_opens_this_chapters_executed_notebook_on_the_published_branch(page, source):
    if source is None:
        pytest.fail("no notebook page in the built site")
    links = colab_links((SITE / page).read_text(encoding="utf-8"))
    assert len(links) == 1, f"{page}: expected one Colab link, found {links}"
    repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    prefix = f"/github/{repo}/blob/gh-pages/"
    path = urlsplit(links[0]).path
    assert path.startswith(prefix), links[0]
    assert "gh-pages" in WORKFLOW.read_text(), "the workflow publishes the site on gh-pages"
    target = SITE / path[len(prefix):]
    assert target.is_file(), f"{page}: Colab opens {path[len(prefix):]}, which the site does not publish"
    nb = nbformat.read(target, as_version=4)
    assert "install-package" in nb.cells[0].metadata.get("tags", []), "the first cell installs the package"
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{target.name} was not executed"


def test_the_install_cell_is_a_no_op_in_the_books_environment(monkeypatch):
    (_, source), *_ = notebook_pages()
    nb = nbformat.read(SITE / "_sources" / Path(source.relative_to(REPO)).with_suffix(".ipynb"), as_version=4)
    cell = nb.cells[0].source
    assert f"git+{CONFIG['repository']['url']}.git@{CONFIG['repository']['branch']}" in cell
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(compile(cell, "install-cell", "exec"), {})
    assert calls == [], "the install cell ran pip in the book's environment"


def test_the_install_cell_installs_where_the_package_is_missing(monkeypatch):
    import importlib.util

    (_, source), *_ = notebook_pages()
    nb = nbformat.read(SITE / "_sources" / Path(source.relative_to(REPO)).with_suffix(".ipynb"), as_version=4)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: calls.append(cmd))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    exec(compile(nb.cells[0].source, "install-cell", "exec"), {})
    (cmd,) = calls
    assert cmd[1:4] == ["-m", "pip", "install"] and cmd[-1].startswith("adaptive-methods @ git+")
