"""The book is the same on every machine that builds it: no page depends on whether the
machine has a system copy of a data set (Debian's ``dataset-fashion-mnist``, which CI
installs and a fresh machine running the README's ``make book`` does not have).

Each chapter that loads data is executed again as a fresh machine would execute it: no
system copy (``ADAPTIVE_METHODS_SYSTEM_DATA`` set and empty), an empty download cache, no
data folder, no download. Its cell outputs are compared with those of the book's own build
(the jupyter-cache record of the same source, which is what the pages are made from): every
text output must be identical, and every image identical byte for byte (by SHA-256; the
build and this test run on the same machine with the same libraries, and the chapters fix
their seeds and plot with a fixed style, so the same data draws the same bytes). Only the
chapters that load data run again, so this costs one execution of each of them, not a
second build.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jupytext
import nbclient
import pytest

from adaptive_methods.experiments import sources

from .conftest import REPO

CACHE = REPO / "_build" / ".jupyter_cache"

#: The chapters whose code uses the experiments layer (its loaders, its result files).
DATA_CHAPTERS = ("chapters/02_recovering_methods", "chapters/03_gamma", "chapters/06_experiments",
                 "chapters/07_beyond_amsgrad")
#: Glued measurements of time (the speed of a step, the seconds a computation took) are the
#: one thing a page may show that differs between builds, and they are named so.
MEASURED_TIME = re.compile(r"_(seconds|speed)$")

def _chapter_code(doc: str) -> str:
    nb = jupytext.read(REPO / f"{doc}.md")
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_every_chapter_that_loads_data_is_compared():
    """The list above is complete: every page whose code uses the experiments layer (its
    loaders, its training loop) is in it."""
    docs = ["intro"] + [f"chapters/{p.stem}" for p in sorted((REPO / "chapters").glob("*.md"))]
    using = {d for d in docs if "adaptive_methods.experiments" in _chapter_code(d)}
    assert using == set(DATA_CHAPTERS), f"pages using the experiments layer: {sorted(using)}"


def _outputs(nb) -> list[tuple[int, str, str, str]]:
    """(code cell, glue name or '', MIME type or stream name, text or SHA-256 of the bytes)."""
    out = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        streams: dict[str, str] = {}  # a stream arrives in chunks that depend on timing
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                streams[output["name"]] = streams.get(output["name"], "") + output["text"]
                continue
            if output["output_type"] == "error":
                out.append((index, "", "error", f"{output['ename']}: {output['evalue']}"))
                continue
            name = output.get("metadata", {}).get("scrapbook", {}).get("name", "")
            for mime, value in sorted(output.get("data", {}).items()):
                text = "".join(value) if isinstance(value, list) else value
                if "image/" in mime and not mime.endswith("svg+xml"):
                    text = hashlib.sha256(text.encode()).hexdigest()
                elif not isinstance(text, str):
                    text = repr(text)
                out.append((index, name, mime, text))
        out += [(index, "", stream, text) for stream, text in sorted(streams.items())]
    return out


def differences(built, fresh) -> list[str]:
    """What differs between two executions of one notebook, output by output, leaving out
    the glue names in ``allowed``."""
    a = [o for o in _outputs(built) if not MEASURED_TIME.search(o[1])]
    b = [o for o in _outputs(fresh) if not MEASURED_TIME.search(o[1])]
    found = []
    if [o[:3] for o in a] != [o[:3] for o in b]:
        only_built = sorted(set(o[:3] for o in a) - set(o[:3] for o in b))
        only_fresh = sorted(set(o[:3] for o in b) - set(o[:3] for o in a))
        found.append(f"different outputs: only in the build {only_built[:5]}, only without the "
                     f"system data {only_fresh[:5]}")
    for (cell, name, mime, x), (_, _, _, y) in zip(a, b):
        if x != y:
            found.append(f"code cell {cell}{f' (glue {name!r})' if name else ''}, {mime}: "
                         f"{x[:160]!r} in the build, {y[:160]!r} without the system data")
    return found


def _built(doc: str):
    from jupyter_cache import get_cache

    if not CACHE.is_dir():
        pytest.skip("the book has not been built (make book)")
    nb = jupytext.read(REPO / f"{doc}.md")
    cache = get_cache(CACHE)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        pytest.skip(f"the build has no execution of the current {doc}.md (make book)")
    return nb, cache.get_cache_bundle(record.pk).nb


def _like_a_fresh_machine(monkeypatch, tmp_path):
    monkeypatch.setenv(sources.SYSTEM_DATA_VARIABLE, "")
    monkeypatch.setenv("ADAPTIVE_METHODS_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("ADAPTIVE_METHODS_OFFLINE", "1")
    monkeypatch.delenv("ADAPTIVE_METHODS_DATA", raising=False)


@pytest.mark.parametrize("doc", DATA_CHAPTERS, ids=lambda d: Path(d).name)
def test_chapter_is_the_same_without_the_system_data_set(doc, monkeypatch, tmp_path):
    """The chapter's outputs without any system copy of a data set equal the build's."""
    source, built = _built(doc)
    _like_a_fresh_machine(monkeypatch, tmp_path)  # the kernel inherits this environment
    nbclient.NotebookClient(source, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str((REPO / doc).parent)}}).execute()
    assert built.cells and _outputs(built), f"{doc}: the build's record has no outputs"
    found = differences(built, source)
    assert not found, f"{doc} depends on the build machine's data:\n" + "\n".join(found)


def test_differences_are_found():
    """The comparison reports a changed text, a changed image and a missing output."""
    import nbformat

    def notebook(text, png, extra=()):
        outputs = [nbformat.v4.new_output("display_data", data={"text/plain": text, "image/png": png}),
                   *extra]
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=outputs)])

    same = notebook("60,000", "iVBOR")
    assert differences(same, notebook("60,000", "iVBOR")) == []
    assert "'60,000' in the build, '8,000'" in differences(same, notebook("8,000", "iVBOR"))[0]
    assert "image/png" in differences(same, notebook("60,000", "iVBOX"))[0]
    extra = [nbformat.v4.new_output("stream", name="stdout", text="note: fallback\n")]
    assert "only without the system data [(0, '', 'stdout')]" in differences(same, notebook("60,000", "iVBOR", extra))[0]
