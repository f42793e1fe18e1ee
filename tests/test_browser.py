"""The built site in a real browser: headless Chromium loads every page from 127.0.0.1.

Each page must load nothing from another host, log no JavaScript error, load every image,
have every piece of mathematics typeset by the site's own MathJax, and render its
ipywidgets with the site's own widget manager. Screenshots of two pages are saved to
``artifacts/`` (look at them after a change to the theme or the assets).

Needs the built book (``make book``) and Debian's ``chromium`` (``.ci/run`` installs it);
only a missing browser skips these tests. ``BOOK_HTML`` points them at another build.
"""

from __future__ import annotations

import functools
import html as htmllib
import json
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .cdp import Chromium, find_chromium
from .conftest import CITATION, REPO

pytestmark = [pytest.mark.site, pytest.mark.timeout(900)]

SITE = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html")).resolve()
ARTIFACTS = REPO / "artifacts"
WIDGET_CHAPTER = "chapters/04_figure1_and_phase_diagrams.html"
NOT_PAGES = {"_static", "_assets", "_sources", "_images", "_downloads"}


def site_pages() -> list[str]:
    if not (SITE / "index.html").exists():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not NOT_PAGES.intersection(p.relative_to(SITE).parts)
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def server():
    assert (SITE / "index.html").exists(), f"no built site in {SITE}: run `make book` first"
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    chrome = Chromium(executable)
    yield chrome
    chrome.close()


@pytest.fixture
def fresh_browser():
    """A Chromium of its own: the walk over every page must not inherit the state the
    JupyterLab tests leave in the shared one."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    chrome = Chromium(executable)
    yield chrome
    chrome.close()


def _offsite(requests: list[str], server: str) -> list[str]:
    host = urlsplit(server).netloc
    bad = []
    for url in requests:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            continue
        if parts.scheme not in ("http", "https") or parts.netloc != host:
            bad.append(url)
    return bad


# Waits for MathJax (when the page loaded it) to finish typesetting.
MATHJAX_DONE = """
(async () => {
  if (!window.MathJax || !window.MathJax.startup) return document.querySelectorAll('.math').length === 0;
  await window.MathJax.startup.promise;
  return true;
})()
"""

MATH_REPORT = """
(() => {
  const maths = Array.from(document.querySelectorAll('.math'));
  return {
    math: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
    containers: document.querySelectorAll('mjx-container').length,
  };
})()
"""

IMAGES_REPORT = """
(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return {
    count: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  };
})()
"""

WIDGETS_VIEWS = "document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length"

WIDGETS_REPORT = """
(() => {
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  const rendered = views.filter(v => {
    const area = v.previousElementSibling;
    return area && area.classList.contains('widget-subarea') && area.querySelector('.jupyter-widgets, [class*="widget-"]');
  });
  return {views: views.length, rendered: rendered.length,
          controls: document.querySelectorAll('.widget-subarea .jupyter-widgets').length};
})()
"""


def test_the_site_has_pages():
    assert (SITE / "index.html").exists(), f"no built site in {SITE}: run `make book` first"
    assert "intro.html" in site_pages()


@pytest.mark.parametrize("page", site_pages() or ["index.html"])
def test_page_works_offline(page, server, browser):
    log = browser.load(f"{server}/{page}")
    assert browser.evaluate(MATHJAX_DONE), f"{page}: the page has math but MathJax did not load"
    math = browser.evaluate(MATH_REPORT)
    images = browser.evaluate(IMAGES_REPORT)
    n_views = browser.evaluate(WIDGETS_VIEWS, await_promise=False)
    if n_views:
        browser.wait_for(f"({WIDGETS_REPORT}).rendered >= {n_views}", timeout=60)
        widgets = browser.evaluate(WIDGETS_REPORT)
    log = browser.log()  # everything up to now, including late requests (fonts, widgets)

    assert not _offsite(log.requests, server), f"{page} loads from another host: {_offsite(log.requests, server)}"
    assert not log.exceptions, f"{page}: uncaught JavaScript exceptions: {log.exceptions}"
    assert not log.console_errors, f"{page}: console errors: {log.console_errors}"
    assert not log.http_errors, f"{page}: failed requests: {log.http_errors}"
    assert not log.failed, f"{page}: requests that failed: {log.failed}"
    assert not images["broken"], f"{page}: images that did not load: {images['broken']}"
    assert not math["untypeset"], f"{page}: math not typeset: {math['untypeset']}"
    assert not math["errors"], f"{page}: MathJax errors: {math['errors']}"
    if math["math"]:
        assert math["containers"] >= math["math"]
    if n_views:
        assert widgets["rendered"] == n_views, f"{page}: {widgets['rendered']} of {n_views} widgets rendered"


def test_math_is_typeset_on_the_intro(server, browser):
    browser.load(f"{server}/intro.html")
    assert browser.evaluate(MATHJAX_DONE)
    math = browser.evaluate(MATH_REPORT)
    assert math["math"] > 0 and math["containers"] >= math["math"]
    src = browser.evaluate("Array.from(document.scripts).map(s => s.src).filter(s => s.includes('mathjax'))", await_promise=False)
    assert src and all("/_assets/mathjax/" in s for s in src), src


def test_widgets_render_on_the_widget_chapter(server, browser):
    if not (SITE / WIDGET_CHAPTER).exists():
        pytest.skip(f"{WIDGET_CHAPTER} is not in the built book yet")
    log = browser.load(f"{server}/{WIDGET_CHAPTER}")
    n_views = browser.evaluate(WIDGETS_VIEWS, await_promise=False)
    assert n_views > 0, f"{WIDGET_CHAPTER} embeds no widget (is the output of its widget cell removed, e.g. tags: [remove-output]?)"
    assert browser.wait_for(f"({WIDGETS_REPORT}).rendered >= {n_views}", timeout=60), browser.evaluate(WIDGETS_REPORT)
    report = browser.evaluate(WIDGETS_REPORT)
    assert report["controls"] > 0, report
    log = browser.log()
    assert not _offsite(log.requests, server)
    assert not log.exceptions and not log.console_errors, (log.exceptions, log.console_errors)
    browser.evaluate("document.querySelector('.widget-subarea').scrollIntoView({block: 'center'})", await_promise=False)
    browser.screenshot(ARTIFACTS / "widgets.png")


def test_screenshots(server, browser):
    """Two pages saved for a person to look at: the landing page and the first chapter."""
    chapters = [p for p in site_pages() if p.startswith("chapters/")]
    second = chapters[0] if chapters else "references.html"
    shots = []
    for page, name in (("intro.html", "intro.png"), (second, "chapter.png")):
        browser.load(f"{server}/{page}")
        assert browser.evaluate(MATHJAX_DONE)
        browser.evaluate(IMAGES_REPORT)
        # scroll to the first figure, with the typeset math around it
        browser.evaluate("document.querySelector('figure')?.scrollIntoView({block: 'center'})", await_promise=False)
        browser._pump(0.5)
        shots.append(browser.screenshot(ARTIFACTS / name))
    for shot in shots:
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"


# ------------------------------------------------------------ the Binder launch target
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab as Binder runs it: the repository's sources, configured by postBuild.

    It serves a copy of the book's sources (so nothing it does touches the checkout) and
    keeps all Jupyter configuration in a temporary folder.
    """
    tmp = tmp_path_factory.mktemp("binder")
    root = tmp / "repo"
    root.mkdir()
    for md in [REPO / "intro.md", *sorted((REPO / "chapters").glob("*.md"))]:
        (root / md.relative_to(REPO)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(md, root / md.relative_to(REPO))
    venv_bin = REPO / ".venv" / "bin"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               PATH=os.pathsep.join([str(venv_bin), os.environ.get("PATH", "")]))
    subprocess.run(["bash", str(REPO / "postBuild")], cwd=root, env=env, check=True)
    # Every cell in the page, not only those in view (JupyterLab's default windowing): the
    # tests read the rendered text of whole chapters.
    overrides = tmp / "config" / "labconfig" / "default_setting_overrides.json"
    settings = json.loads(overrides.read_text()) if overrides.exists() else {}
    settings.setdefault("@jupyterlab/notebook-extension:tracker", {})["windowingMode"] = "none"
    overrides.write_text(json.dumps(settings))
    port = _free_port()
    log = open(tmp / "jupyterlab.log", "w")
    lab = subprocess.Popen(
        [str(venv_bin / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--expose-app-in-browser",
         f"--ServerApp.root_dir={root}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
            break
        except OSError:
            assert lab.poll() is None and time.monotonic() < deadline, (tmp / "jupyterlab.log").read_text()[-3000:]
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}"
    lab.terminate()
    try:
        lab.wait(timeout=30)
    except subprocess.TimeoutExpired:
        lab.kill()
        lab.wait()
    log.close()


def _binder_urlpaths() -> dict[str, str]:
    """page -> the urlpath of its Binder link (what Binder opens in JupyterLab)."""
    out = {}
    for page in site_pages():
        text = (SITE / page).read_text(encoding="utf-8")
        for href in re.findall(r'href="(https://mybinder\.org/[^"]+)"', text):
            out[page] = parse_qs(urlsplit(htmllib.unescape(href)).query)["urlpath"][0]
    return out


NOTEBOOK = "window.NB = () => Array.from(jupyterapp.shell.widgets('main')).find(w => w.sessionContext && w.content)"


def _open_in_jupyterlab(browser, jupyterlab: str, urlpath: str, *, what: str) -> None:
    """Open ``urlpath`` as Binder does and wait for its notebook and kernel (``NB()`` is the notebook)."""
    browser.load(f"{jupyterlab}/{urlpath}?reset", settle=0.5)
    assert browser.wait_for("window.jupyterapp && document.querySelector('.jp-NotebookPanel .jp-CodeCell')",
                            timeout=90), f"{what} did not open as a notebook"
    browser.evaluate(NOTEBOOK, await_promise=False)
    assert browser.wait_for("NB() && NB().sessionContext.session && NB().sessionContext.session.kernel", timeout=60)


def _run_all_in_jupyterlab(browser, jupyterlab: str, page: str, *, timeout: float) -> list[list[str]]:
    """Open a page's Binder target, Run All, and wait until every code cell ran without error.

    Returns the outputs of each code cell as ``output_type:ename`` strings."""
    _open_in_jupyterlab(browser, jupyterlab, _binder_urlpaths()[page], what=page)
    browser.evaluate("(async () => { await NB().sessionContext.ready; "
                     "await jupyterapp.commands.execute('notebook:run-all-cells'); return true; })()")
    code = "NB().content.widgets.filter(c => c.model.type === 'code')"
    assert browser.wait_for(f"{code}.every(c => c.model.executionCount !== null) && "
                            "NB().sessionContext.session.kernel.status === 'idle'", timeout=timeout)
    outputs = browser.evaluate(f"{code}.map(c => c.model.outputs.toJSON().map(o => o.output_type + ':' + (o.ename || '')))",
                               await_promise=False)
    assert not [o for cell in outputs for o in cell if o.startswith("error")], outputs
    return outputs


def test_binder_links_open_the_chapters_as_notebooks_in_jupyterlab(browser, jupyterlab):
    targets = _binder_urlpaths()
    assert "intro.html" in targets, "the intro page has no Binder link"
    for page, urlpath in targets.items():
        _open_in_jupyterlab(browser, jupyterlab, urlpath, what=f"{urlpath} (from {page})")
        assert browser.evaluate("NB().sessionContext.session.kernel.name", await_promise=False) == "python3"


def test_the_intro_runs_in_jupyterlab(browser, jupyterlab):
    """Run All on the intro, opened the way its Binder link opens it: every cell runs."""
    outputs = _run_all_in_jupyterlab(browser, jupyterlab, "intro.html", timeout=240)
    assert any(o.startswith("display_data") for cell in outputs for o in cell), "the intro's figure was not drawn"


MYST_CHAPTER = "chapters/04_adam_does_not_converge.html"
# The rendered prose of each Markdown cell (jupyterlab-myst's `.myst`), its mathematics left
# out (KaTeX's text is the formula twice over), and what jupyterlab-myst shows for an
# inline expression that failed.
LAB_PROSE = """(() => {
  const cells = NB().content.widgets.filter(c => c.model.type === 'markdown');
  return cells.map(c => {
    const rendered = c.node.querySelector('.myst');
    if (!rendered) return {rendered: false, source: c.model.sharedModel.getSource().slice(0, 120)};
    const copy = rendered.cloneNode(true);
    copy.querySelectorAll('.katex').forEach(k => k.remove());
    return {rendered: true, text: copy.textContent,
            failed: Array.from(rendered.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
                         .map(e => e.textContent.slice(0, 200))};
  });
})()"""
LAB_BOXES = """Array.from(document.querySelectorAll('.jp-NotebookPanel .myst aside.myst-proof .myst-proof-title'))
  .map(t => t.textContent.trim())"""
RAW_MYST = re.compile(r"```|:::|\{[\w:-]+\}`|glued\(|\{glue|\{eval\}")
# A reference in a chapter's Markdown, with the text a reader sees: to a label
# ({numref}`Fig. 4.1 <fig-thm1>`) or to a chapter ([Its title](04_name.md)).
REFERENCE = re.compile(r"\{(?:numref|prf:ref|ref)\}`(?P<text>[^`<]+?)\s*<(?P<label>[^>]+)>`"
                       r"|\[(?P<title>[^\[\]]+)\]\((?P<file>[\w./-]+)\.md\)")


# where the book's Markdown names a target: a directive's `:label:` or `:name:`, a figure's
# `name:` (a code cell's myst-nb options) and a section's `(label)=`
LABEL_DEFINITION = re.compile(r"^\s*:(?:label|name):\s*([\w-]+)\s*$|^:?\s*name:\s*([\w-]+)\s*$|^\((\S+)\)=\s*$", re.M)


def _book_names() -> tuple[set[str], set[str]]:
    """The BibTeX keys of references.bib, and the labels of the book's boxes, figures,
    exercises and sections: what JupyterLab would show for a citation or reference it
    cannot resolve."""
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (REPO / "references.bib").read_text(), re.M))
    labels = set()
    for md in [REPO / "intro.md", *(REPO / "chapters").glob("*.md")]:
        body = md.read_text().split("\n---\n", 1)[1]  # after the jupytext header (a kernel's name)
        labels.update(next(g for g in found.groups() if g) for found in LABEL_DEFINITION.finditer(body))
    return keys, labels


def _written_texts(chapter: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The citations of a chapter's Markdown cells as written, and its references as
    (text, the site's target: "#label" or "page.html")."""
    import jupytext

    prose = "\n".join(c.source for c in jupytext.read(chapter).cells if c.cell_type == "markdown")
    citations = [_spaced(m["text"]) for m in CITATION.finditer(prose)]
    references = [(_spaced(m["text"]), "#" + m["label"]) if m["label"] else (_spaced(m["title"]), m["file"] + ".html")
                  for m in REFERENCE.finditer(prose)]
    return citations, references


def _spaced(text: str) -> str:
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


def _site_texts(page: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The citations of a site page as it shows them, and its internal links as (text, target)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((SITE / page).read_text(encoding="utf-8"), "html.parser")
    citations = {_spaced(c.get_text()) for c in soup.select("article .bibtex-citation")}
    links = set()
    for link in soup.select("article a.reference.internal[href]"):
        href = link["href"]
        links.add((_spaced(link.get_text()), "#" + href.partition("#")[2] if "#" in href else href))
    return citations, links


def test_a_chapter_reads_in_jupyterlab_as_on_the_site(browser, jupyterlab):
    """Chapter 4 opened from its Binder link and run: jupyterlab-myst renders every Markdown
    cell, no directive fence, role or inline expression is left as text, its theorems are
    boxes, every number its prose quotes on the site is in the prose in JupyterLab, no
    BibTeX key or label of the book is visible, and its citations ("Reddi et al. (2018)")
    and references ("Fig. 4.1", a chapter's title) read as they do on the site."""
    _run_all_in_jupyterlab(browser, jupyterlab, MYST_CHAPTER, timeout=400)
    # the Markdown cells render (and evaluate their expressions) after the cells above them ran
    assert browser.wait_for(f"({LAB_PROSE}).every(c => c.rendered) && "
                            f"({LAB_PROSE}).every(c => !/glued\\(/.test(c.text))", timeout=60)
    cells = browser.evaluate(LAB_PROSE, await_promise=False)
    assert all(c["rendered"] for c in cells), [c["source"] for c in cells if not c["rendered"]]
    assert not [f for c in cells for f in c["failed"]], [f for c in cells for f in c["failed"]]
    prose = " ".join(c["text"] for c in cells)
    raw = sorted({prose[max(m.start() - 40, 0):m.end() + 40] for m in RAW_MYST.finditer(prose)})
    assert not raw, raw
    boxes = browser.evaluate(LAB_BOXES, await_promise=False)
    assert any(b.startswith("Theorem") for b in boxes), boxes
    # a proof's qualifier, "(sketch)", is its first words, as on the site: as a title
    # jupyterlab-myst would wrap it in parentheses of its own, "Proof 1 ((sketch))"
    proofs = [b for b in boxes if b.startswith("Proof")]
    assert proofs and all(re.fullmatch(r"Proof \d+", b) for b in proofs), proofs
    # what jupyterlab-myst shows for a citation or reference it cannot resolve: the key, the label
    shown = re.sub(r"\s+", " ", prose.replace("\N{NO-BREAK SPACE}", " "))
    keys, labels = _book_names()
    bare = sorted(n for n in keys | labels if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", shown))
    assert not bare, bare
    # citations and references read as written, and as the site shows them
    citations, references = _written_texts(REPO / "chapters" / Path(MYST_CHAPTER).with_suffix(".md").name)
    site_citations, site_links = _site_texts(MYST_CHAPTER)
    assert len(citations) >= 3 and len(references) >= 5, (citations, references)
    assert not [c for c in citations if c not in shown], [c for c in citations if c not in shown]
    assert not [c for c in citations if c not in site_citations], (citations, sorted(site_citations))
    assert not [r for r, _ in references if r not in shown], [r for r, _ in references if r not in shown]
    assert not [r for r in references if r not in site_links], [r for r in references if r not in site_links]
    site = (SITE / MYST_CHAPTER).read_text(encoding="utf-8")
    numbers = [htmllib.unescape(n) for n in re.findall(r'<span class="pasted-text">([^<]*)</span>', site)]
    assert len(numbers) >= 20, numbers
    lab_text = re.sub(r"\s+", " ", prose)
    assert not [n for n in numbers if n not in lab_text], [n for n in numbers if n not in lab_text]
    browser.evaluate("Array.from(document.querySelectorAll('.jp-NotebookPanel aside.myst-proof'))[0]"
                     ".scrollIntoView({block: 'start'}); true", await_promise=False)
    browser._pump(0.5)
    browser.screenshot(ARTIFACTS / "chapter-jupyterlab.png")


PANEL = r"""window.PANEL = () => {
  const label = Array.from(document.querySelectorAll('.jp-NotebookPanel .widget-label'))
    .find(l => /redraw \d+ ms/.test(l.textContent));
  return label && label.parentElement.closest('.widget-vbox');
}"""


def _press(browser, key: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code,
                     nativeVirtualKeyCode=code)


def test_the_explorer_panel_redraws_fast_in_jupyterlab(browser, jupyterlab):
    """Chapter 4 opened from its Binder link, Run All, then the β2 slider moved with the
    keyboard: every move redraws the panel, under 0.2 s from key press to new image."""
    _run_all_in_jupyterlab(browser, jupyterlab, WIDGET_CHAPTER, timeout=400)
    browser.evaluate(PANEL, await_promise=False)
    assert browser.wait_for("PANEL() && PANEL().querySelector('img')", timeout=60), "the explorer panel did not render"
    # the browser keeps the panel's values: C = 101 is not moved to a grid point
    readouts = browser.evaluate("Array.from(PANEL().querySelectorAll('.widget-slider')).map(s => "
                                "[s.querySelector('.widget-label').textContent.trim(), "
                                "s.querySelector('.widget-readout').textContent.trim()])", await_promise=False)
    assert dict(readouts) == {"C": "101", "period": "101", "steps": "100000", "β1": "0.900", "β2": "0.9900",
                              "α": "1.00"}, readouts
    handle = ("Array.from(PANEL().querySelectorAll('.widget-slider'))"
              ".find(s => s.querySelector('.widget-label').textContent.trim() === 'β2').querySelector('.noUi-handle')")
    browser.evaluate(f"{handle}.scrollIntoView({{block: 'center'}}); {handle}.focus(); window.SRC = [];"
                     "new MutationObserver(() => SRC.push(performance.now()))"
                     ".observe(PANEL().querySelector('img'), {attributes: true, attributeFilter: ['src']}); true",
                     await_promise=False)
    latencies, reported = [], []
    for n in range(8):
        seen = browser.evaluate("SRC.length", await_promise=False)
        start = browser.evaluate("performance.now()", await_promise=False)
        _press(browser, "ArrowLeft", 37)
        assert browser.wait_for(f"SRC.length > {seen}", timeout=30), f"move {n + 1} of the slider redrew nothing"
        latencies.append(browser.evaluate(f"SRC[{seen}]", await_promise=False) - start)
        browser._pump(0.3)  # let the move settle before the next one
        status = browser.evaluate("Array.from(PANEL().querySelectorAll('.widget-label'))"
                                  ".map(l => l.textContent).find(t => /redraw \\d+ ms/.test(t))", await_promise=False)
        reported.append(int(re.search(r"redraw (\d+) ms", status).group(1)))
    browser.evaluate("PANEL().scrollIntoView({block: 'center'}); true", await_promise=False)
    browser._pump(0.5)
    browser.screenshot(ARTIFACTS / "explorer-jupyterlab.png")
    latencies.sort()
    reported.sort()
    print(f"key press to new image: {[round(x) for x in latencies]} ms; kernel-side redraw: {reported} ms; "
          f"image changes: {browser.evaluate('SRC.length', await_promise=False)}")
    assert reported[len(reported) // 2] < 200, reported
    assert latencies[len(latencies) // 2] < 200, latencies


# ------------------------------------------------------------ the pages read as a textbook
# The results of Reddi et al. (2018) and their numbers in the paper; a box stating one of
# them is headed "Theorem 4 of Reddi et al. (2018)" and carries no number of the book's.
PAPER_RESULTS = {"Algorithm": {1, 2, 3}, "Theorem": {1, 2, 3, 4, 5, 6}, "Corollary": {1, 2}}
PAPER_TITLE = re.compile(r"^(Algorithm|Theorem|Corollary|Lemma) (\d+) of Reddi et al\. \(2018\)")
WIDTHS = {"desktop": 1400, "phone": 400}
MAX_LINE = 88  # characters of a code or output line; the column shows about this many
# what the build machine may leak into a page: file-system paths, fallback notices
LEAK = re.compile(r"(/(?:usr|tmp|root|home|work|opt|var|mnt|srv)/|[A-Za-z]:\\\\|node_modules|site-packages"
                  r"|\.cache/|\.venv|not available|fall ?back|falls back|could not (?:read|find|load))", re.I)
# The API reference documents the library's own fallbacks (load_dataset's ``fallback``
# argument, ``Dataset.is_fallback``): there the notices are its vocabulary, paths still leaks.
API_PAGES = {"api.html", "genindex.html"}
NOTICE = re.compile(r"not available|fall ?back|falls back|could not (?:read|find|load)", re.I)
RAW_TEX = re.compile(r"\\[A-Za-z]{2,}|\$[^$\s][^$]*\$")

READING_REPORT = r"""
((maxCell) => {
  const skipTex = n => n.parentElement && n.parentElement.closest(
    'script, style, mjx-container, .math, pre, code, textarea, mjx-assistive-mml');
  const leakScope = n => {
    const p = n.parentElement;
    if (!p || p.closest('script, style')) return false;
    if (p.closest('.cell_output')) return true;  // outputs are read by the reader
    return !p.closest('pre, code');  // listings of code may name their own files
  };
  const texts = [], leaks = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent;
    if (!t.trim()) continue;
    if (!skipTex(n)) texts.push(t);
    if (leakScope(n)) leaks.push(t);
  }
  const article = document.querySelector('article') || document.body;
  const longLines = [], lint = [];
  article.querySelectorAll('pre').forEach(pre => {
    const kind = pre.closest('.cell_output') ? 'output' : pre.closest('.cell_input') ? 'cell' : 'listing';
    pre.textContent.split('\n').forEach(line => {
      const limit = kind === 'cell' ? maxCell : %(max_line)d;
      if (line.length > limit) longLines.push(`${kind}, ${line.length}: ${line.trim().slice(0, 90)}`);
      if (/#\s*(noqa|type:\s*ignore|pragma|pylint|fmt:)/.test(line)) lint.push(`${kind}: ${line.trim()}`);
    });
  });
  const boxes = Array.from(article.querySelectorAll('div.proof')).map(box => {
    const title = box.querySelector('.admonition-title');
    return {title: title ? title.textContent.replace(/\s+/g, ' ').trim() : '',
            numbered: !!(title && title.querySelector('.caption-number'))};
  });
  const overflowing = Array.from(article.querySelectorAll('mjx-container[display="true"]')).filter(m => {
    if (m.scrollWidth <= m.clientWidth + 1) return false;
    const scrolls = el => el && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    return !(scrolls(m) || scrolls(m.parentElement));
  }).map(m => m.textContent.slice(0, 60));
  // an inline formula cannot wrap: one that runs past the column's edge is cut off
  const column = article.getBoundingClientRect().right;
  const clipped = Array.from(article.querySelectorAll('mjx-container:not([display="true"])')).filter(m =>
    !m.closest('div.math, mjx-container[display="true"], .table-wrapper, table, div.highlight, .cell_output')
    && m.getBoundingClientRect().right > column + 1
  ).map(m => (m.querySelector('mjx-assistive-mml') || m).textContent.slice(0, 60));
  return {texts, leaks, longLines, lint, boxes, overflowing, clipped, title: document.title,
          scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
})(%(max_cell)d)
""".replace("%(max_line)d", str(MAX_LINE))


def _is_redirect(page: str) -> bool:
    return (SITE / page).read_text(encoding="utf-8").lstrip().lower().startswith('<meta http-equiv="refresh"')


def _at_width(browser, width: int) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                 mobile=width < 800)


def _box_problems(boxes: list[dict]) -> list[str]:
    problems = []
    for box in boxes:
        title = box["title"]
        match = PAPER_TITLE.match(title)
        if match:
            kind, number = match.group(1), int(match.group(2))
            if number not in PAPER_RESULTS.get(kind, set()):
                problems.append(f"{title!r}: the paper has no {kind.lower()} {number}")
            if box["numbered"]:
                problems.append(f"{title!r}: a paper result with a number of the book")
        elif "Reddi" in title or "of the paper" in title:
            problems.append(f"{title!r}: a paper result not named as 'Theorem N of Reddi et al. (2018)'")
    return problems


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_every_page_reads_as_a_textbook(width, server, fresh_browser):
    """Every page at 1400 px and at 400 px: no raw LaTeX outside the mathematics, paper
    results under the paper's own numbers, nothing of the build machine (paths, fallback
    notices), no code or output line over 88 characters (code cells, their outputs and
    listings of the package alike) and no lint comment in shown code, no page wider than
    the screen, a display equation that does not fit scrolls inside its own box, and no
    inline formula runs past the column's edge."""
    problems = []
    _at_width(fresh_browser, width)
    try:
        for page in site_pages():
            if _is_redirect(page):
                continue  # no text of its own (index.html), and the browser is leaving it
            fresh_browser.load(f"{server}/{page}")
            assert fresh_browser.evaluate(MATHJAX_DONE), f"{page}: MathJax did not load"
            report = fresh_browser.evaluate(READING_REPORT.replace("%(max_cell)d", str(MAX_LINE)))
            tex = sorted({m.group(0) for t in report["texts"] + [report["title"]] for m in RAW_TEX.finditer(t)})
            if tex:
                problems.append(f"{page}: raw LaTeX outside math: {tex[:5]}")
            leaks = sorted({m.group(0) for t in report["leaks"] for m in LEAK.finditer(t)
                            if page not in API_PAGES or not NOTICE.fullmatch(m.group(0))})
            if leaks:
                problems.append(f"{page}: text of the build machine: {leaks[:5]}")
            if report["longLines"]:
                problems.append(f"{page}: {len(report['longLines'])} code or output lines over {MAX_LINE} "
                                f"characters, e.g. {report['longLines'][:2]}")
            if report["lint"]:
                problems.append(f"{page}: lint comments in shown code: {report['lint'][:3]}")
            problems += [f"{page}: {p}" for p in _box_problems(report["boxes"])]
            # a phone widens its layout viewport (innerWidth) to a page that is too wide, so
            # the page is measured against the screen's own width
            if report["scrollWidth"] > width + 1:
                problems.append(f"{page}: {report['scrollWidth']} px wide at a {width} px screen")
            if report["overflowing"]:
                problems.append(f"{page}: display equations cut off: {report['overflowing'][:2]}")
            if report["clipped"]:
                problems.append(f"{page}: inline formulas past the column's edge (split them at a "
                                f"relation, or display them): {report['clipped'][:3]}")
        if width < 800:
            fresh_browser.load(f"{server}/{WIDGET_CHAPTER}")
            assert fresh_browser.evaluate(MATHJAX_DONE)
            fresh_browser.screenshot(ARTIFACTS / "phone.png")
    finally:
        _at_width(fresh_browser, 1280)
    assert not problems, "\n".join(problems)


def _html_pages() -> dict[str, str]:
    return {page: (SITE / page).read_text(encoding="utf-8") for page in site_pages()}


def _heading_text(heading) -> str:
    """A heading as a reference names it: without its number and its "#" link."""
    copy = heading.__copy__()
    for extra in copy.select(".section-number, .headerlink"):
        extra.decompose()
    return copy.get_text(" ", strip=True)


def test_cross_references_say_what_they_point_to():
    """A link whose text is "Theorem 4", "Fig. 5.2" or "Exercise 6.1" lands on the box,
    figure or exercise of that name and number; a reference to a section ({ref}) or a
    chapter ([title](file.md)) says its title. Chapters write these texts for JupyterLab
    (docs/design.md, "Citations and references in JupyterLab"); this holds them to the book's."""
    from bs4 import BeautifulSoup

    pages = _html_pages()
    if not pages:
        pytest.skip("no built site")
    soups = {page: BeautifulSoup(text, "html.parser") for page, text in pages.items()}
    named = re.compile(r"^(Theorem|Corollary|Algorithm|Proposition|Lemma|Definition|Exercise|Fig\.) ([\d.]+)$")
    wrong = []
    checked = {"numbered": 0, "section": 0, "chapter": 0}
    for page, soup in soups.items():
        for link in soup.select("article a.reference.internal[href]"):
            text = link.get_text(" ", strip=True)
            href = link["href"]
            target_page, _, anchor = href.partition("#")
            target_page = (Path(page).parent / target_page).as_posix() if target_page else page
            target_page = os.path.normpath(target_page)
            target = soups.get(target_page)
            match = named.match(text)
            if match:
                element = target.find(id=anchor) if target is not None and anchor else None
                if element is None:
                    wrong.append(f"{page}: {link.get_text()!r} -> {href}: no such target")
                    continue
                box = element if element.name in ("div", "figure") else element.find_parent(["div", "figure"])
                heading = box.find(["p", "figcaption"]) if box is not None else None
                landed = heading.get_text(" ", strip=True) if heading is not None else ""
                kind, number = match.groups()
                expected = ("Fig. " if kind == "Fig." else f"{kind} ") + number
                checked["numbered"] += 1
                if not landed.startswith(expected):
                    wrong.append(f"{page}: link {link.get_text()!r} -> {href} lands on {landed[:60]!r}")
            elif link.select_one("span.std-ref") and anchor and target is not None:
                element = target.find(id=anchor)
                heading = element.find_next(re.compile(r"^h[1-6]$")) if element is not None else None
                checked["section"] += 1
                if heading is None or _heading_text(heading) != text:
                    title = _heading_text(heading) if heading is not None else None
                    wrong.append(f"{page}: link {text!r} -> {href}, a section titled {title!r}")
            elif link.select_one("span.std-doc, span.doc") and not anchor and target is not None:
                title = _heading_text(target.select_one("article h1"))
                checked["chapter"] += 1
                if title != text:
                    wrong.append(f"{page}: link {text!r} -> {href}, a page titled {title!r}")
    assert all(checked.values()), f"no reference of some kind found: {checked}"
    assert not wrong, "\n".join(wrong)


def test_search_index_titles_have_no_raw_latex():
    index = SITE / "searchindex.js"
    if not index.exists():
        pytest.skip("no built site")
    titles = re.search(r'"titles":\s*\[(.*?)\]', index.read_text(encoding="utf-8"), re.S)
    assert titles, "searchindex.js lists no titles"
    assert not RAW_TEX.search(titles.group(1).replace("\\\\", "\\")), titles.group(1)[:500]

