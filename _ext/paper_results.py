"""Boxes that state a published result carry that paper's own name and number.

The book numbers its own definitions, propositions and exercises by chapter
("Proposition 3.2"). A result quoted from a paper keeps the paper's number instead: it is
written as a ``{prf:theorem}`` (or ``algorithm``, ``corollary``) with ``:nonumber:`` and
``:class: paper-result`` and a title that names it, e.g.
``Theorem 1 of Reddi et al. (2018)``. sphinx-proof would show such a box as
"Theorem (Theorem 1 of ...)"; here its heading is the title alone.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.writers.latex import LaTeXTranslator

PAPER_RESULT = "paper-result"


def _unenumerable():
    from sphinx_proof.nodes import unenumerable_node

    return unenumerable_node


def drop_title_format(app: Sphinx, doctree: nodes.document) -> None:
    """Remove the " (" and ")" that proof_title_format puts around a paper result's title."""
    before, after = app.config.proof_title_format.split("%t")
    for box in doctree.findall(_unenumerable()):
        if PAPER_RESULT not in box["classes"]:
            continue
        title = box[0]
        first, last = title[0], title[-1]
        if isinstance(first, nodes.Text) and first.astext().startswith(before):
            title.replace(first, nodes.Text(first.astext()[len(before):]))
        last = title[-1]
        if after and isinstance(last, nodes.Text) and last.astext().endswith(after):
            title.replace(last, nodes.Text(last.astext()[: -len(after)]))
        box["title"] = title.astext()


def depart_paper_result(self, node: nodes.Element) -> None:
    from sphinx_proof.nodes import depart_unenumerable_node

    if PAPER_RESULT in node["classes"] and not isinstance(self, LaTeXTranslator):
        self.body.append("</div>")  # no "Theorem " caption before the title
    else:
        depart_unenumerable_node(self, node)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_proof")
    from sphinx_proof.nodes import visit_unenumerable_node

    app.add_node(_unenumerable(), override=True,
                 html=(visit_unenumerable_node, depart_paper_result))
    app.connect("doctree-read", drop_title_format)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
