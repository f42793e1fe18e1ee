"""The book's edition without solutions (`make student-book`), on a one-page book.

The book's own extensions (_ext/assignment_markers.py, _ext/notebook_downloads.py) build a
page with an exercise and a gated solution twice: the normal edition shows the solution
without the nbgrader markers; the student edition has it neither on the page nor in the
page's downloads (.ipynb and .md).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.slow

PAGE = textwrap.dedent('''\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    # A page

    ```{exercise} Square roots
    :label: ex-sqrt

    Write `root(x)`.
    ```

    ```{solution-start} ex-sqrt
    :class: dropdown
    ```

    The secret prose of the solution.

    ```{code-cell} ipython3
    def root(x):
        ### BEGIN SOLUTION
        return x ** 0.5  # the secret answer
        ### END SOLUTION
    ```

    ```{solution-end}
    ```

    The text after the exercise.
    ''')


def _build(tmp_path, student: bool):
    book = tmp_path / ("student" if student else "normal")
    book.mkdir()
    (book / "intro.md").write_text(PAGE)
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    config = {
        "title": "Test", "execute": {"execute_notebooks": "force"},
        "sphinx": {"extra_extensions": ["sphinx_exercise"],
                   "local_extensions": {"assignment_markers": str(REPO / "_ext"),
                                        "notebook_downloads": str(REPO / "_ext")},
                   "config": {"student_edition": student}},
    }
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "jupyter-book"), "build", str(book), "--warningiserror"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = book / "_build" / "html"
    downloads = {p.suffix: p.read_text() for p in (html / "_sources").glob("intro.*")}
    return (html / "intro.html").read_text(), downloads


@pytest.mark.timeout(600)
def test_student_edition_has_no_solutions(tmp_path):
    page, downloads = _build(tmp_path, student=False)
    assert "secret prose" in page and "the secret answer" in page and "### BEGIN SOLUTION" not in page
    assert ".md" in downloads and "the secret answer" in downloads[".md"]
    assert all("### BEGIN SOLUTION" not in text for text in downloads.values())

    page, downloads = _build(tmp_path, student=True)
    assert "Write" in page and "The text after the exercise." in page
    assert "secret" not in page
    assert ".md" in downloads
    for suffix, text in downloads.items():
        assert "secret" not in text, f"the {suffix} download of the student edition has the solution"
        assert "Write" in text and "The text after the exercise." in text


def test_notebook_download_without_solutions():
    """The .ipynb download (myst-nb's notebook of the page), cleaned as the build-finished hook does."""
    import jupytext

    spec = importlib.util.spec_from_file_location("notebook_downloads", REPO / "_ext" / "notebook_downloads.py")
    downloads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(downloads)
    normal = downloads.clean_download(jupytext.reads(PAGE, fmt="myst"), student_edition=False)
    text = "\n".join(c.source for c in normal.cells)
    assert "the secret answer" in text and "### BEGIN SOLUTION" not in text
    student = downloads.clean_download(jupytext.reads(PAGE, fmt="myst"), student_edition=True)
    assert {c.cell_type for c in student.cells} == {"markdown"}  # the solution's code cell is gone
    text = "\n".join(c.source for c in student.cells)
    assert "secret" not in text and "Write `root(x)`." in text and "The text after the exercise." in text
    assert "{solution-start}" not in text and "{solution-end}" not in text and "{exercise}" in text


def test_student_config_is_the_books_with_the_student_switch(tmp_path):
    spec = importlib.util.spec_from_file_location("make_assignments", REPO / "tools" / "make_assignments.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool
    spec.loader.exec_module(tool)
    target = tmp_path / "_build" / "student_config.yml"
    config = tool.student_config(target)
    book = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["sphinx"]["config"]["student_edition"] is True
    assert config["execute"] == book["execute"]  # the same cache: chapters are not executed again
    for name, path in config["sphinx"]["local_extensions"].items():
        assert (target.parent / path).resolve() == (REPO / book["sphinx"]["local_extensions"][name]).resolve()
