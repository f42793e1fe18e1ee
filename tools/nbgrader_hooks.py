"""nbgrader hooks of the book's course, loaded by the course's ``nbgrader_config.py``.

``tools/make_assignments.py`` copies this file into the course directory, so that the
directory works on its own (on a JupyterHub, say). It needs nothing but nbgrader.

- ``ReleasedCellsAreUntouched``: nbgrader compares every locked cell of a submission with
  the instructor's version and warns "Attribute 'checksum' for cell ... has changed" when
  they differ. A test cell with hidden tests always differs (the student version lacks
  them), so the warning came for every test cell of every student and hid real tampering.
  This version first restores cells that are exactly what was released; a cell a student
  did edit is still reported.
- ``HiddenTestFailures``: in feedback, a failure inside the hidden tests shows its
  exception type only, not the traceback, which would quote the hidden test's code.
"""

from __future__ import annotations

import re

from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# tools/make_assignments.py wraps each part's hidden tests in a function of this name
HIDDEN_FUNCTION = "_hidden_tests"
_HIDDEN_REGION = re.compile(rf"^[ \t]*{BEGIN_HIDDEN}.*?^[ \t]*{END_HIDDEN}[ \t]*\n?", re.M | re.S)


def released_source(source: str) -> str:
    """The source of a cell as students receive it: what nbgrader's ClearHiddenTests leaves."""
    return _HIDDEN_REGION.sub("", source).rstrip("\n")


class ReleasedCellsAreUntouched(OverwriteCells):
    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and utils.is_locked(cell):
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None and source_cell.locked and \
                    released_source(source_cell.source) == cell.source.rstrip("\n"):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)


class HiddenTestFailures(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and \
                        any(HIDDEN_FUNCTION in line for line in output.get("traceback", [])):
                    output["evalue"] = "a hidden test of this part failed (hidden tests are not shown)"
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output['evalue']}"]
        return cell, resources
