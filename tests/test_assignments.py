"""Course assignments: the chapters' coding exercises round-trip through nbgrader.

For every chapter of the book with coding exercises (CONTRIBUTING.md, "Coding exercises
and autograder tests"), ``tools/make_assignments.py`` writes the instructor notebook and
nbgrader itself (``generate_assignment``, which checks the nbgrader metadata of the
instructor notebook and records its cells in the gradebook) makes the student version. Then both are
submitted and graded with ``nbgrader autograde``, which executes them (with nbclient) with
the hidden tests put back: the instructor's solution must earn every point of every
autograder cell, the untouched student version none, each of its autograder cells failing
with the stub's NotImplementedError. The suite fails if no chapter has a coding exercise.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_assignments", REPO / "tools" / "make_assignments.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
BOOK_CHAPTERS = tool.chapters_with_coding_exercises(tool.book_sources())
NAMES = [ch.name for ch in BOOK_CHAPTERS]


def _read(course: Path, kind: str, name: str):
    return nbformat.read(course / kind / name / f"{name}.ipynb", as_version=4)


def _grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


def autograde(course: Path, name: str, submissions: dict[str, Path]) -> dict[str, dict[str, tuple[float, float]]]:
    """Submit each notebook as a student, autograde; return student -> grade_id -> (score, max)."""
    from nbgrader.api import Gradebook

    for student, notebook in submissions.items():
        target = course / "submitted" / student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, target)
    tool.nbgrader(course, "autograde", name, "--force")
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", tool.COURSE_ID) as gb:
        for student in submissions:
            nb = gb.find_submission_notebook(name, name, student)
            scores[student] = {g.name: (g.score, g.max_score) for g in nb.grades if g.cell.max_score}
    return scores


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The nbgrader course made by `make assignments` from the book's chapters."""
    out = tmp_path_factory.mktemp("course")
    made = tool.make_assignments(tool.book_sources(), out)
    assert [c.name for c in made] == NAMES
    return out


def test_some_chapter_has_coding_exercises():
    assert BOOK_CHAPTERS, (
        "no chapter of _toc.yml has a coding exercise for the course assignments: mark a "
        "solution with ### BEGIN SOLUTION / ### END SOLUTION and add a code cell tagged "
        "autograder (CONTRIBUTING.md, 'Coding exercises and autograder tests')"
    )


@pytest.mark.parametrize("chapter", BOOK_CHAPTERS or [None], ids=NAMES or ["none"])
def test_coding_exercises_follow_the_convention(chapter):
    if chapter is None:
        pytest.fail("no chapter has coding exercises")
    assert not tool.check_chapter(chapter)


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("name", NAMES or ["none"])
def test_assignment_round_trips_through_nbgrader(name, course):
    if name == "none":
        pytest.fail("no chapter has coding exercises")
    instructor, student = _read(course, "source", name), _read(course, "release", name)

    # nbgrader made the student version: stubs instead of solutions, no hidden tests
    student_text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN SOLUTION" not in student_text and "### BEGIN HIDDEN TESTS" not in student_text
    answers = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)
    assert len(_grade_cells(instructor)) == len(_grade_cells(student)) > 0

    # grading: the solution earns every point, the untouched student version none
    scores = autograde(course, name, {
        "instructor": course / "source" / name / f"{name}.ipynb",
        "blank": course / "release" / name / f"{name}.ipynb",
    })
    test_ids = {c.metadata["nbgrader"]["grade_id"] for c in _grade_cells(instructor)}
    assert set(scores["instructor"]) == test_ids == set(scores["blank"])
    for grade_id in test_ids:
        score, max_score = scores["instructor"][grade_id]
        assert score == max_score > 0, f"{name}: the instructor's solution fails autograder cell {grade_id}"
        assert scores["blank"][grade_id][0] == 0, f"{name}: the student version passes autograder cell {grade_id}"

    # each autograder cell of the graded student version failed on the stub
    graded = nbformat.read(course / "autograded" / "blank" / name / f"{name}.ipynb", as_version=4)
    for cell in _grade_cells(graded):
        errors = [o.get("ename") for o in cell.outputs if o.output_type == "error"]
        assert errors == ["NotImplementedError"], (
            f"{name}: autograder cell {cell.metadata['nbgrader']['grade_id']} failed on the student "
            f"version with {errors or 'no error'}, not the stub's NotImplementedError (test the "
            "function the solution defines)")
    graded = nbformat.read(course / "autograded" / "instructor" / name / f"{name}.ipynb", as_version=4)
    errors = [(c.metadata["nbgrader"].get("grade_id"), o.get("ename")) for c in graded.cells
              if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: cells of the instructor version raise {errors}"


# ------------------------------------------------------------------ the tool itself
SYNTHETIC = textwrap.dedent('''\
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

    # A synthetic chapter

    ```{code-cell} ipython3
    :tags: [remove-cell, assignment-setup]
    import math
    ```

    ```{code-cell} ipython3
    not_setup = 1
    ```

    ## Exercises

    ```{exercise} Square roots
    :label: ex-sqrt

    Write `root(x)`, the square root of {math}`x`, see {numref}`fig-somewhere`.
    ```

    ```{solution-start} ex-sqrt
    :class: dropdown
    ```

    Prose of the solution, which stays on the site.

    ```{code-cell} ipython3
    def root(x):
        ### BEGIN SOLUTION
        return math.sqrt(x)
        ### END SOLUTION
    ```

    ```{code-cell} ipython3
    print(root(2.0))  # a demonstration, not part of the assignment
    ```

    ```{code-cell} ipython3
    :tags: [remove-cell, autograder]
    :points: 2
    assert root(4.0) == 2.0
    ### BEGIN HIDDEN TESTS
    assert abs(root(2.0) ** 2 - 2.0) < 1e-12
    ### END HIDDEN TESTS
    ```

    ```{solution-end}
    ```

    :::{exercise}
    :label: ex-proof

    A pen-and-paper exercise: no code.
    :::

    ```{solution-start} ex-proof
    :class: dropdown
    ```

    ```{code-cell} ipython3
    print("an illustration")
    ```

    ```{solution-end}
    ```
    ''')


def test_tool_extracts_exercises_setup_and_tests(tmp_path):
    source = tmp_path / "99_synthetic.md"
    source.write_text(SYNTHETIC)
    chapter = tool.parse_chapter(source)
    assert chapter.title == "A synthetic chapter"
    assert [e.label for e in chapter.exercises] == ["ex-sqrt", "ex-proof"]
    assert [e.label for e in chapter.coding_exercises] == ["ex-sqrt"]
    assert [c.source for c in chapter.setup_cells] == ["import math"]
    assert not tool.check_chapter(chapter)

    nb = tool.instructor_notebook(chapter)
    kinds = [(c.cell_type, c.metadata["nbgrader"]["grade_id"]) for c in nb.cells]
    assert kinds == [("markdown", "header"), ("code", "setup-1"), ("markdown", "ex-sqrt-statement"),
                     ("code", "ex-sqrt-answer-1"), ("code", "ex-sqrt-tests-1")]
    statement = nb.cells[2].source
    assert statement.startswith("## Exercise 1: Square roots") and "{numref}" not in statement
    assert "fig-somewhere" in statement and "`x`" not in statement
    test = nb.cells[4].metadata["nbgrader"]
    assert test == {"grade": True, "grade_id": "ex-sqrt-tests-1", "locked": True, "points": 2,
                    "schema_version": 3, "solution": False}
    assert "demonstration" not in "".join(c.source for c in nb.cells)


def test_tool_rejects_exercises_without_tests(tmp_path):
    broken = SYNTHETIC.replace(":tags: [remove-cell, autograder]", ":tags: [remove-cell]")
    (tmp_path / "99_broken.md").write_text(broken)
    with pytest.raises(ValueError, match="no code cell tagged 'autograder'"):
        tool.make_assignments([tmp_path / "99_broken.md"], tmp_path / "course")


def test_tool_on_a_synthetic_chapter_round_trips(tmp_path):
    source = tmp_path / "99_synthetic.md"
    source.write_text(SYNTHETIC)
    course = tmp_path / "course"
    assert [c.name for c in tool.make_assignments([source], course)] == ["99_synthetic"]
    release = _read(course, "release", "99_synthetic")
    assert "math.sqrt" not in "".join(c.source for c in release.cells)
    scores = autograde(course, "99_synthetic", {
        "instructor": course / "source" / "99_synthetic" / "99_synthetic.ipynb",
        "blank": course / "release" / "99_synthetic" / "99_synthetic.ipynb",
    })
    assert scores == {"instructor": {"ex-sqrt-tests-1": (2.0, 2.0)}, "blank": {"ex-sqrt-tests-1": (0.0, 2.0)}}
