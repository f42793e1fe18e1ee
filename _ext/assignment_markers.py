"""The exercises' solutions on the site.

A coding exercise's solution cell wraps its answer in ``### BEGIN SOLUTION`` /
``### END SOLUTION`` (CONTRIBUTING.md, "Coding exercises"), which ``make assignments``
turns into a stub for students. On the site the solution is shown as it is, without
the two marker lines.

In the student edition (``student_edition = True``, ``make student-book``) the pages have no
solutions at all. sphinx-exercise's own ``hide_solutions`` cannot do this for the gated
``solution-start`` / ``solution-end`` form the book uses (it drops the start marker and
leaves the content), so the merged solutions are removed here, after sphinx-exercise has
gathered them.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx

MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def strip_markers(app: Sphinx, doctree: nodes.document) -> None:
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text:
            continue
        stripped = MARKER.sub("", text)
        block.rawsource = stripped
        block[:] = [nodes.Text(stripped)]


def remove_solutions(app: Sphinx, doctree: nodes.document) -> None:
    if not getattr(app.config, "student_edition", False):
        return
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", strip_markers)
    # after sphinx-exercise's own doctree-read (priority 500), which registers the solutions
    app.connect("doctree-read", remove_solutions, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
