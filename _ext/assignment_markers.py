"""Hide nbgrader's solution markers from the site.

A coding exercise's solution cell wraps its answer in ``### BEGIN SOLUTION`` /
``### END SOLUTION`` (CONTRIBUTING.md, "Coding exercises"), which ``make assignments``
turns into a stub for students. On the site the solution is shown as it is, without
the two marker lines.
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


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", strip_markers)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
