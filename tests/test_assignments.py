"""Course assignments: every chapter's exercises round-trip through nbgrader.

``tools/make_assignments.py generate`` writes, from course.yml, the chapters and the
grader-only ``grading/`` files, the instructor notebooks; nbgrader itself
(``generate_assignment``) makes the student versions. Four simulated students submit each
assignment, and ``nbgrader autograde`` grades them with the hidden tests put back:

- ``solution``: the student version with the book's solutions filled in: every autograded
  part earns its points, the written parts wait for a grader;
- ``untouched``: the student version as released: no autograded part earns anything;
- ``bug``: the solution with one subtle bug, which passes the visible tests: exactly that
  part loses its points;
- ``caller``: one-line answers that call the reference code the tests once defined in
  visible cells (drift_table, spike_pattern, loop_constant_step, loop_runs,
  loop_amsgrad_over_t): those parts earn nothing, since that code is only in the hidden
  tests, inside a function.

Then the grades CSV has one column per graded part with these scores, the feedback shows
no hidden test, and regenerating the course never destroys it.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from .conftest import REPO

pytestmark = pytest.mark.slow


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_assignments", REPO / "tools" / "make_assignments.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
COURSE = tool.load_course()
NAMES = [spec.name for spec in COURSE.assignments]
CALLER_HELPERS = ("drift_table", "spike_pattern", "loop_constant_step", "loop_runs", "loop_amsgrad_over_t")

# One subtle bug per assignment: (function, text of the solution, replacement, the part it costs).
# Each passes the visible tests.
BUGS = {
    "01_generic_method": ("stuck_average_regret_limit", "return 2 * (C - 2) / 3",
                          "return 2 * (C - 2) / 3 if C < 5 else 2 * (C - 2.01) / 3", "ex-ch1-stuck-learner-limit"),
    "02_recovering_methods": ("peak_of_uncorrected_step", "t_grid = np.arange(1, t_max + 1)",
                              "t_grid = np.arange(1, max(t_max, 1000) + 1)", "ex-ch2-peak-peak"),
    "03_gamma": ("first_negative", "return np.where(negative.any(axis=-1), negative.argmax(axis=-1) + 2, 0)",
                 "return negative.argmax(axis=-1) + 2", "ex-gamma-onset-code-first-negative"),
    "04_adam_does_not_converge": ("first_period_moves", "b2 = 1 / (1 + C**2)", "b2 = 1 / (1 + 9.0) + 0 * C",
                                  "ex-thm1-first-period-moves"),
    "04_figure1_and_phase_diagrams": ("first_failure", "for h in range(n, h_max + 1):",
                                      "for h in range(n + 1, h_max + 1):", "ex-search-first-failure"),
    "05_amsgrad": ("amsgrad_over_t", "beta1_t=0.9 / np.arange(1, T + 1), vhat=vhat)", "vhat=vhat)",
                   "ex-ams-over-t-bound"),
    "07_beyond_amsgrad": ("hand_made_yogi", "psi=SignControlledSquares(beta2)",
                          "psi=SignControlledSquares(beta2 ** 2)", "ex-bey-yogi-rules-assemble"),
    "06_experiments": ("paired_differences", 'partner = mean.get(("adam", lr, beta2, bc))',
                       'partner = mean.get(("adam", lr, beta2, True))', "ex-experiments-paired-differences"),
}

# The answers of issue 15 that called the visible tests' reference code: function -> answer.
CALLERS = {
    "first_failure": '''\
        def first_failure(beta1=0.9, beta2=0.99, h_max=40):
            failing = np.argwhere(drift_table(beta1, beta2, h_max) > 0)
            return None if failing.size == 0 else (int(failing[0][0]), int(failing[0][1]), spike_pattern(*failing[0]))
        ''',
    "critical_parameter_runs": '''\
        def critical_parameter_runs(g):
            return loop_runs(g)
        ''',
    "constant_step_iterates": '''\
        def constant_step_iterates(alpha, T=30_000, C=3.0):
            g = theorem1_problem(C).problem.grads(T)
            return {m: loop_constant_step(m, g, alpha, 1 / (1 + C**2)) for m in ("adam", "amsgrad")}
        ''',
    "amsgrad_over_t": '''\
        def amsgrad_over_t(g, alpha=0.1):
            regret, vhat = loop_amsgrad_over_t(g, alpha)
            return regret, theorem4_bound(g, alpha=alpha, beta1=0.9, beta2=0.99, diameter=2.0,
                                          beta1_t=0.9 / np.arange(1, g.shape[1] + 1), vhat=vhat)
        ''',
}
CALLER_PARTS = {"ex-search-first-failure": "first_failure", "ex-critical-parameter-runs": "critical_parameter_runs",
                "ex-constant-step-iterates": "constant_step_iterates", "ex-ams-over-t-regret": "amsgrad_over_t",
                "ex-ams-over-t-bound": "amsgrad_over_t"}


def _read(course: Path, kind: str, name: str):
    return nbformat.read(course / kind / name / f"{name}.ipynb", as_version=4)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in (tool.BEGIN_SOLUTION, tool.END_SOLUTION))


def filled_in(course: Path, name: str):
    """The student version with the instructor's solutions and model answers filled in."""
    instructor = {_meta(c)["grade_id"]: c for c in _read(course, "source", name).cells if _meta(c).get("grade_id")}
    student = _read(course, "release", name)
    for cell in student.cells:
        if _meta(cell).get("solution"):
            answer = instructor[_meta(cell)["grade_id"]].source
            cell.source = _without_markers(answer) if cell.cell_type == "code" else answer.split("**Rubric**")[0]
    return student


def _replace_function(nb, function: str, new_source: str) -> None:
    for cell in nb.cells:
        if _meta(cell).get("solution") and re.search(rf"^def {function}\(", cell.source, re.M):
            pattern = re.compile(rf"^def {function}\(.*?(?=^\S|\Z)", re.M | re.S)
            cell.source = pattern.sub(textwrap.dedent(new_source) + "\n\n", cell.source)
            return
    raise AssertionError(f"no answer cell defines {function}")


def students(course: Path, name: str) -> dict:
    """The four simulated students' notebooks (no caller where no part has reference code)."""
    made = {"solution": filled_in(course, name), "untouched": _read(course, "release", name)}
    function, old, new, _ = BUGS[name] if name in BUGS else (None, None, None, None)
    if function:
        bug = filled_in(course, name)
        cells = [c for c in bug.cells if _meta(c).get("solution") and old in c.source]
        assert len(cells) == 1, f"{name}: the bug's text {old!r} is not in one answer cell"
        cells[0].source = cells[0].source.replace(old, new)
        made["bug"] = bug
    calls = {CALLER_PARTS[g] for g in _part_ids(course, name) if g in CALLER_PARTS}
    if calls:
        caller = filled_in(course, name)
        for function in calls:
            _replace_function(caller, function, CALLERS[function])
        made["caller"] = caller
    return made


def _part_ids(course: Path, name: str) -> list[str]:
    return [_meta(c)["grade_id"] for c in _read(course, "source", name).cells if _meta(c).get("grade")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course of the repository's course.yml, generated into a fresh directory."""
    directory = tmp_path_factory.mktemp("course")
    report = tool.generate(tool.load_course(directory=directory))
    assert [name for name, _ in report] == NAMES
    return directory


@pytest.fixture(scope="module")
def graded(course):
    """Every assignment submitted by the simulated students and autograded:
    assignment -> (student -> grade_id -> (score, auto_score, max, needs a grader), nbgrader's log)."""
    from nbgrader.api import Gradebook

    results = {}
    for name in NAMES:
        submitted = students(course, name)
        for student, nb in submitted.items():
            target = course / "submitted" / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
        log = tool.autograde(course, name)
        scores = {}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE.course_id) as gb:
            for student in submitted:
                nb = gb.find_submission_notebook(name, name, student)
                scores[student] = {g.name: (g.score, g.auto_score, g.max_score, g.needs_manual_grade)
                                   for g in nb.grades}
        results[name] = (scores, log)
    return results


# ------------------------------------------------------------------ the chapters
def test_every_exercise_is_an_assignment():
    chapters = tool.chapters_with_exercises()
    assert chapters, "no chapter of _toc.yml has exercises"
    assert sorted(spec.chapter.name for spec in COURSE.assignments) == sorted(ch.name for ch in chapters), \
        "course.yml should give every chapter with exercises an assignment"
    for chapter in chapters:
        assert not tool.check_chapter(chapter), chapter.name
        _, parts = tool.instructor_notebook(chapter)
        graded_exercises = {p.grade_id.rsplit("-", 1)[0] for p in parts}
        for exercise in chapter.exercises:
            reason = tool.load_grading(chapter).get(exercise.label, {}).get("not_an_assignment")
            assert reason or any(p.grade_id.startswith(exercise.label + "-") for p in parts), \
                f"{chapter.name}: exercise {exercise.label} is not in the assignment {graded_exercises}"


def test_no_hidden_test_or_reference_code_in_the_published_chapters():
    for chapter in tool.chapters_with_exercises():
        text = chapter.path.read_text()
        assert tool.BEGIN_HIDDEN not in text, chapter.name
        for ex in chapter.exercises:
            for cell in ex.test_cells:
                for helper in CALLER_HELPERS:
                    assert not re.search(rf"^def {helper}\(", cell.source, re.M), \
                        f"{chapter.name}: a visible test cell defines the reference {helper}"


def test_statements_link_to_the_book_instead_of_raw_labels(course):
    labels = {label for ch in COURSE.chapters for label in ch.labels}
    for name in NAMES:
        for cell in _read(course, "release", name).cells:
            if cell.cell_type != "markdown":
                continue
            assert not re.search(r"\{[\w:-]+\}`", cell.source), f"{name}: a MyST role is left: {cell.source[:200]}"
            for link in re.findall(r"\]\((https?://[^)]+)\)", cell.source):
                assert link.startswith(COURSE.book_url)
            bare = {w for w in re.findall(r"[\w-]+", re.sub(r"\]\([^)]*\)", "]", cell.source)) if w in labels}
            assert not bare, f"{name}: raw labels {bare} in {cell.source[:200]}"


def test_release_runs_without_the_book_build(course):
    for name in NAMES:
        code = "\n".join(c.source for c in _read(course, "release", name).cells if c.cell_type == "code")
        assert "myst_nb" not in code, name
        assert "glue(" not in code or "def glue(" in code, name


# ------------------------------------------------------------------ grading
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("name", NAMES)
def test_four_students_are_graded_part_by_part(name, course, graded):
    scores, log = graded[name]
    instructor = _read(course, "source", name)
    student = _read(course, "release", name)
    text = "\n".join(c.source for c in student.cells)
    assert tool.BEGIN_SOLUTION not in text and tool.BEGIN_HIDDEN not in text and "**Rubric**" not in text
    code_parts = [_meta(c)["grade_id"] for c in instructor.cells if _meta(c).get("grade") and c.cell_type == "code"]
    written = [_meta(c)["grade_id"] for c in instructor.cells if _meta(c).get("grade") and c.cell_type == "markdown"]
    assert code_parts or written
    for grade_id in code_parts:
        score, _, max_score, _ = scores["solution"][grade_id]
        assert score == max_score > 0, f"{name}: the solution fails part {grade_id}"
        assert scores["untouched"][grade_id][0] == 0, f"{name}: the untouched version earns part {grade_id}"
    for grade_id in written:
        assert scores["solution"][grade_id][3], f"{name}: written part {grade_id} was not left to a grader"
        assert scores["untouched"][grade_id][0] == 0, f"{name}: an empty written answer earns {grade_id}"
    if "bug" in scores:
        lost = {g for g in code_parts if scores["bug"][g][0] < scores["bug"][g][2]}
        assert lost == {BUGS[name][3]}, f"{name}: the subtle bug cost {lost}, not only {BUGS[name][3]}"
    else:
        assert not code_parts, f"{name}: add a subtle bug for its autograded parts to BUGS"
    if "caller" in scores:
        for grade_id in code_parts:
            expected = 0 if grade_id in CALLER_PARTS else scores["caller"][grade_id][2]
            assert scores["caller"][grade_id][0] == expected, f"{name}: the caller earns {grade_id}"
    # the untouched version fails on the stubs, not on some missing name
    autograded = nbformat.read(course / "autograded" / "untouched" / name / f"{name}.ipynb", as_version=4)
    for cell in autograded.cells:
        if _meta(cell).get("grade") and cell.cell_type == "code":
            errors = [o.get("ename") for o in cell.outputs if o.output_type == "error"]
            assert errors == ["NotImplementedError"], f"{name}: {_meta(cell)['grade_id']} failed with {errors}"
    # no spurious warnings: untampered cells are not reported, SQLAlchemy is quiet
    assert "has changed" not in log and "Warning" not in log, f"{name}: autograde warns:\n{log}"


def test_caller_answers_earn_nothing(graded):
    callers = {name: scores["caller"] for name, (scores, _) in graded.items() if "caller" in scores}
    earned = {(name, g): s[g][0] for name, s in callers.items() for g in s if g in CALLER_PARTS}
    assert set(CALLER_PARTS) == {g for _, g in earned}, "every caller answer was submitted"
    assert all(score == 0 for score in earned.values()), earned


def test_grades_csv_has_a_column_per_part_and_totals(course, graded, tmp_path):
    out = tmp_path / "grades.csv"
    summary = tool.grades(course, out)
    rows = list(csv.DictReader(out.open()))
    assert {r["student_id"] for r in rows} == {"solution", "untouched", "bug", "caller"}
    assert summary["students"] == 4
    by_student = {r["student_id"]: r for r in rows}
    for name in NAMES:
        scores, _ = graded[name]
        for student, parts in scores.items():
            for grade_id, (score, _, max_score, ungraded) in parts.items():
                column = f"{name}: {grade_id} [{max_score:g}]"
                cell = by_student[student][column]
                assert cell == "" if ungraded else float(cell) == pytest.approx(score), (student, column, cell)
        total = f"{name} total [{sum(m for _, _, m, _ in next(iter(scores.values())).values()):g}]"
        for student, parts in scores.items():
            assert float(by_student[student][total]) == pytest.approx(
                sum(0.0 if ungraded else s for s, _, _, ungraded in parts.values()))
    grand = next(c for c in rows[0] if c.startswith("total ["))
    for row in rows:
        assert float(row[grand]) == pytest.approx(sum(float(v) for k, v in row.items() if k.endswith("]")
                                                      and " total [" in k))


def test_feedback_shows_no_hidden_test(course, graded):
    name = "01_generic_method"
    tool.feedback(course, name)
    hidden = tool.load_grading(next(s.chapter for s in COURSE.assignments if s.name == name))
    secret_lines = [line.strip() for ex in hidden.values() for code in (ex.get("hidden") or {}).values()
                    for line in code.splitlines() if len(line.strip()) > 25]
    for student in ("bug", "untouched"):
        html = (course / "feedback" / student / name / f"{name}.html").read_text()
        import html as html_module
        text = html_module.unescape(re.sub(r"<[^>]+>", "", html))
        leaked = [line for line in secret_lines if line in text]
        assert not leaked, f"feedback of {student} shows hidden tests: {leaked[:3]}"
        assert tool.BEGIN_HIDDEN not in text and "**Rubric**" not in text
    bug_text = (course / "feedback" / "bug" / name / f"{name}.html").read_text()
    assert "a hidden test of this part failed" in bug_text


def test_solutions_handout_has_solutions_but_no_hidden_test(course):
    for name in NAMES:
        html = (course / "solutions" / f"{name}.html").read_text()
        assert tool.BEGIN_HIDDEN not in html and tool.HIDDEN_FUNCTION not in html and "Rubric" not in html
        assert "YOUR CODE HERE" not in html and "YOUR ANSWER HERE" not in html
        assert "Model answer" in html
    import html as html_module

    shown = html_module.unescape(re.sub(r"<[^>]+>", "", (course / "solutions" / "01_generic_method.html").read_text()))
    assert "return 2 * k * (C - 2)" in shown


# ------------------------------------------------------------------ the tool on a synthetic chapter
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
    from myst_nb import glue
    ```

    ```{code-cell} ipython3
    :mystnb:
    :  figure:
    :    name: fig-somewhere
    not_setup = 1
    ```

    ## Exercises

    ```{exercise} Square roots
    :label: ex-sqrt

    Write `root(x)`, the square root of {math}`x`, see {numref}`fig-somewhere`, and say why
    ([Reddi et al. (2018)](cite:t:reddi2018convergence) would).
    ```

    ```{solution-start} ex-sqrt
    :class: dropdown
    ```

    Prose of the solution: because.

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
    :part: value
    :points: 2
    assert root(4.0) == 2.0
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

    The proof.

    ```{solution-end}
    ```
    ''')

GRADING = textwrap.dedent('''\
    ex-sqrt:
      hidden:
        value: |
          def reference(x):
              return x ** 0.5
          for x in (2.0, 9.0, 1e6):
              assert abs(root(x) - reference(x)) < 1e-9
      written:
        - part: why
          points: 1
          prompt: Why?
          rubric: "- 1: because."
    ex-proof:
      written:
        - part: proof
          points: 3
          prompt: The proof.
          rubric: "- 3: the proof."
    ''')


def _synthetic(tmp_path: Path, assignments: str) -> tuple[Path, Path]:
    (tmp_path / "chapters").mkdir(exist_ok=True)
    (tmp_path / "grading").mkdir(exist_ok=True)
    source = tmp_path / "chapters" / "99_synthetic.md"
    source.write_text(SYNTHETIC)
    (tmp_path / "grading" / "99_synthetic.yml").write_text(GRADING)
    course_file = tmp_path / "course.yml"
    course_file.write_text(f"course_id: synthetic\nbook_url: https://book.example\ndirectory: course\n"
                           f"assignments:\n{assignments}")
    return source, course_file


def _load(tmp_path):
    return tool.load_course(tmp_path / "course.yml", sources=[tmp_path / "chapters" / "99_synthetic.md"])


def test_tool_builds_parts_links_and_stand_ins(tmp_path):
    source, _ = _synthetic(tmp_path, "  - chapter: 99_synthetic\n")
    chapter = tool.parse_chapter(source)
    assert [e.label for e in chapter.exercises] == ["ex-sqrt", "ex-proof"]
    assert chapter.labels == {"fig-somewhere": "Figure", "ex-sqrt": "Exercise", "ex-proof": "Exercise"}
    assert not tool.check_chapter(chapter)
    nb, parts = tool.instructor_notebook(chapter, links=tool.LinkResolver([chapter], "https://book.example"))
    assert [(p.grade_id, p.kind, p.points) for p in parts] == [
        ("ex-sqrt-value", "code", 2), ("ex-sqrt-why", "written", 1), ("ex-proof-proof", "written", 3)]
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert ids == ["header", "setup-1", "ex-sqrt-statement", "ex-sqrt-answer-1", "ex-sqrt-value",
                   "ex-sqrt-why-prompt", "ex-sqrt-why", "ex-proof-statement", "ex-proof-proof-prompt", "ex-proof-proof"]
    setup = nb.cells[1].source
    assert "myst_nb" not in setup and "def glue(" in setup
    statement = nb.cells[2].source
    assert "$x$" in statement and "{numref}" not in statement
    assert "(https://book.example/chapters/99_synthetic.html#fig-somewhere)" in statement
    assert "[Reddi et al. (2018)](https://book.example/references.html)" in statement
    test = nb.cells[4]
    assert test.metadata["nbgrader"]["points"] == 2
    assert test.source.count(tool.BEGIN_HIDDEN) == 1 and f"def {tool.HIDDEN_FUNCTION}():" in test.source
    written = nb.cells[6]
    assert written.metadata["nbgrader"] == {"grade": True, "grade_id": "ex-sqrt-why", "locked": False,
                                            "points": 1, "schema_version": 3, "solution": True}
    assert "Prose of the solution: because." in written.source and "**Rubric**" in written.source
    assert "demonstration" not in "".join(c.source for c in nb.cells)


def test_tool_rejects_hidden_tests_in_a_chapter_and_bad_course_files(tmp_path):
    source, course_file = _synthetic(tmp_path, "  - chapter: 99_synthetic\n    points: {ex-sqrt-valu: 3}\n")
    with pytest.raises(tool.CourseError, match=r"ex-sqrt-valu.*its parts"):
        tool.generate(_load(tmp_path))
    course_file.write_text(course_file.read_text().replace("points: {ex-sqrt-valu: 3}", "exercises: [ex-nope]"))
    with pytest.raises(tool.CourseError, match=r"exercises must be some of \['ex-sqrt', 'ex-proof'\]"):
        _load(tmp_path)
    source.write_text(SYNTHETIC.replace("assert root(4.0) == 2.0",
                                        "assert root(4.0) == 2.0\n### BEGIN HIDDEN TESTS\nassert root(9.0) == 3\n"
                                        "### END HIDDEN TESTS"))
    problems = tool.check_chapter(tool.parse_chapter(source))
    assert any("hidden tests belong in grading/99_synthetic.yml" in p for p in problems)
    assert not (tmp_path / "course").exists()


def _snapshot(directory: Path) -> dict:
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_regeneration_keeps_the_course(tmp_path):
    _, course_file = _synthetic(tmp_path, "  - chapter: 99_synthetic\n    due: 2026-10-05 17:00 UTC\n")
    course_text = course_file.read_text()
    course = _load(tmp_path)
    assert tool.generate(course) == [("99_synthetic", "generated")]
    directory = course.directory
    (directory / "nbgrader_config_local.py").write_text("c.ExecutePreprocessor.timeout = 300\n")

    # a tampered test cell is reported (and restored); an untouched one is not
    honest = filled_in(directory, "99_synthetic")
    tampered = filled_in(directory, "99_synthetic")
    next(c for c in tampered.cells if _meta(c).get("grade_id") == "ex-sqrt-value").source = "assert True"
    for student, nb in (("honest", honest), ("tampered", tampered)):
        target = directory / "submitted" / student / "99_synthetic" / "99_synthetic.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    log = tool.autograde(directory, "99")
    assert "for cell ex-sqrt-value has changed" in log and log.count("has changed") == 1, log
    assert "Warning" not in log

    # regenerating with the same exercises and points changes nothing the students have
    assert tool.generate(_load(tmp_path)) == [("99_synthetic", "unchanged")]
    assert (directory / "nbgrader_config_local.py").exists()
    # a change nbgrader cannot apply is refused before any file is touched
    before = _snapshot(directory)
    course_file.write_text(course_text.replace("    due:", "    exercises: [ex-sqrt]\n    due:"))
    with pytest.raises(tool.CourseError, match=r"nothing was changed:\n  99_synthetic has submissions "
                                               r"\(2 student\(s\)\).*removes \['ex-proof-proof'\]"):
        tool.generate(_load(tmp_path))
    course_file.write_text(course_text.replace("    due:", "    points: {ex-sqrt-value: 5}\n    due:"))
    with pytest.raises(tool.CourseError, match=r"changes the points or kind of \['ex-sqrt-value'\]"):
        tool.generate(_load(tmp_path))
    assert _snapshot(directory) == before
    # an assignment left out of course.yml stays, with its submissions
    course_file.write_text(course_text.replace("  - chapter: 99_synthetic\n    due: 2026-10-05 17:00 UTC\n", ""))
    assert tool.generate(_load(tmp_path)) == [("99_synthetic", "kept as it is (not in course.yml)")]
    assert (directory / "release" / "99_synthetic" / "99_synthetic.ipynb").exists()
    assert (directory / "submitted" / "honest" / "99_synthetic").exists()
    # the tool never writes the course file
    assert yaml.safe_load(course_file.read_text())["course_id"] == "synthetic"

    out = directory / "grades.csv"
    tool.grades(directory, out)
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert rows["honest"]["99_synthetic: ex-sqrt-value [2]"] == "2"
    assert rows["tampered"]["99_synthetic: ex-sqrt-value [2]"] == "2"  # its test was put back
    assert rows["honest"]["99_synthetic: ex-proof-proof [3]"] == ""  # waits for a grader
    assert rows["honest"]["total [6]"] == "2"


def test_make_targets_need_no_activated_environment():
    makefile = (REPO / "Makefile").read_text()
    for target in ("assignments", "autograde", "feedback", "grades", "student-book"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    recipes = re.findall(r"^\t(.+)$", makefile, re.M)
    assert not [r for r in recipes if re.match(r"(nbgrader|python|jupyter)\b", r.strip())]


@pytest.mark.timeout(900)
def test_the_readme_cycle_reaches_a_grades_csv(tmp_path):
    """README, "For instructors", step by step with make and nbgrader's exchange (one chapter)."""
    import subprocess

    course_file = tmp_path / "course.yml"
    text = (REPO / "course.yml").read_text()
    text = text.replace("directory: assignments", f"directory: {tmp_path / 'assignments'}")
    text = text[:text.index("assignments:\n  - chapter")] + "assignments:\n  - chapter: 01_generic_method\n"
    course_file.write_text(text)
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"  # no activated environment

    def make(*args):
        proc = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), *args, f"COURSE_FILE={course_file}"],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 0, f"make {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    make("assignments")
    directory = tmp_path / "assignments"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,Liddell,alice@example.org\nbob,Bob,Smith,\n")
    make("students", f"FILE={roster}")

    # the exchange: release, then Alice fetches, answers and submits in her own folder
    nbgrader = [str(REPO / ".venv" / "bin" / "nbgrader")]
    run = lambda args, cwd: subprocess.run(nbgrader + args, cwd=cwd, capture_output=True, text=True, env=env)
    released = run(["release_assignment", "01_generic_method"], directory)
    assert released.returncode == 0, released.stderr
    home = tmp_path / "alice"
    home.mkdir()
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'adam-and-beyond'\n"
        f"c.Exchange.root = {str(directory / 'exchange')!r}\n")
    fetched = run(["fetch_assignment", "01_generic_method"], home)
    assert fetched.returncode == 0, fetched.stderr
    answer = filled_in(directory, "01_generic_method")
    nbformat.write(answer, home / "01_generic_method" / "01_generic_method.ipynb")
    # on a JupyterHub the student id is the user's name; here it is given explicitly
    submitted = run(["submit", "01_generic_method", "--student=alice"], home)
    assert submitted.returncode == 0, submitted.stderr

    graded = make("autograde", "A=01")
    assert "alice" in graded.stderr + graded.stdout and "Warning" not in graded.stderr
    make("feedback", "A=01")
    assert (directory / "feedback" / "alice" / "01_generic_method" / "01_generic_method.html").exists()
    make("grades")
    rows = {r["student_id"]: r for r in csv.DictReader((directory / "grades.csv").open())}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["first_name"] == "Alice" and rows["alice"]["email"] == "alice@example.org"
    autograded = [k for k in rows["alice"] if k.startswith("01_generic_method: ")]
    assert rows["alice"]["01_generic_method: ex-ch1-projection-box-projection [2]"] == "2"
    assert rows["bob"]["01_generic_method total [10]"] == "0" and len(autograded) == 7


def test_binder_copy_has_no_grading_files(tmp_path):
    import os
    import subprocess

    copy = tmp_path / "repo"
    shutil.copytree(REPO / "grading", copy / "grading")
    shutil.copy(REPO / "postBuild", copy / "postBuild")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               PATH=os.pathsep.join([str(REPO / ".venv" / "bin"), os.environ.get("PATH", "")]))
    env.pop("REPO_DIR", None)
    subprocess.run(["bash", "postBuild"], cwd=copy, env=env, check=True, capture_output=True)
    assert (copy / "grading").exists(), "outside Binder postBuild removes nothing"
    subprocess.run(["bash", "postBuild"], cwd=copy, env={**env, "REPO_DIR": str(copy)}, check=True,
                   capture_output=True)
    assert not (copy / "grading").exists()
