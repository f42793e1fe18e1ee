"""Citations and numbered references written as the text a reader sees, checked by the build.

JupyterLab (Binder, ``make lab``) renders a chapter with jupyterlab-myst, one notebook at a
time: it has no bibliography and no other chapter, so ``{cite:t}`reddi2018convergence```
shows the BibTeX key, and a reference to a label shows the label (or jupyterlab-myst's own
count, "Exercise 1" for the book's "Exercise 4.1"). A chapter therefore writes the text,
in a form jupyterlab-myst shows as text and the book turns into what it always showed:

- a citation is a Markdown link to ``cite:t:KEY`` (textual) or ``cite:p:KEY,KEY``
  (parenthetical): ``[Reddi et al. (2018)](cite:t:reddi2018convergence)``,
  ``[(Kingma and Ba, 2015)](cite:p:kingma2015adam)``. The book makes it sphinxcontrib-bibtex's
  ``{cite:t}``/``{cite:p}`` citation (the bibliography and the PDF list the work);
- a numbered reference carries its text without ``%s``: ``{numref}`Fig. 4.1 <fig-thm1>```.
  Sphinx's numref would take that text as a format and fail; here the book numbers the
  reference itself, as ``{numref}`fig-thm1``` does (the PDF gets LaTeX's number).

Each written text is compared with the text the book shows for the citation or reference;
a difference is a warning (an error under ``make book``'s ``-W``), so no number or author
list typed for JupyterLab can drift from the book's.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.roles import XRefRole
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

# [text](cite:t:key) or [text](cite:p:key1,key2): the role of sphinxcontrib-bibtex and its keys
CITATION_LINK = re.compile(r"^cite:(?P<form>[tp]):(?P<keys>[^\s:]+)$")
CITATION_FORMS = {"t": "textual, as {cite:t}", "p": "parenthetical, as {cite:p}"}
# what a Sphinx numref text uses for the number; a text without any is a reader's text
NUMBER_FIELDS = ("%s", "{number}", "{name}")


class reader_text(nodes.inline):
    """The book's citation or reference, and (``written``) the text the chapter wrote for it."""


def _shown(text: str) -> str:
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


class CitationLinks(SphinxTransform):
    """``[text](cite:t:key)`` -> the citation that ``{cite:t}`key``` makes (while reading,
    so sphinxcontrib-bibtex counts the work as cited)."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        domain = self.env.get_domain("cite")
        for xref in list(self.document.findall(addnodes.pending_xref)):
            target = xref.get("reftarget", "")
            if xref.get("reftype") != "myst" or not target.startswith("cite:"):
                continue
            match = CITATION_LINK.match(target)
            if match is None:
                logger.warning(f"a citation link's target is cite:t:KEY or cite:p:KEY,KEY "
                               f"({', '.join(f'{k}: {v}' for k, v in CITATION_FORMS.items())}), "
                               f"got {target!r}", location=xref)
                continue
            form, keys = match["form"], match["keys"]
            # the role reads the document and the source position from the inliner
            inliner = SimpleNamespace(document=self.document, reporter=SimpleNamespace(
                get_source_and_line=lambda lineno=None, xref=xref: (xref.source, xref.line)))
            cited, messages = domain.role(form)(f"cite:{form}", f"{{cite:{form}}}`{keys}`", keys,
                                                xref.line or 0, inliner, {}, [])
            checked = reader_text("", "", *cited, written=xref.astext())
            checked.source, checked.line = xref.source, xref.line
            xref.replace_self([checked, *messages])


class NumberedReferenceWithText(XRefRole):
    """Sphinx's ``numref``, and ``{numref}`Fig. 4.3 <label>```: the same reference as
    ``{numref}`label```, its text "Fig. 4.3" kept to be checked."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        if not self.has_explicit_title or any(field in self.title for field in NUMBER_FIELDS):
            return super().run()
        written = self.title
        self.has_explicit_title, self.title = False, self.target
        made, messages = super().run()
        checked = reader_text("", "", *made, written=written)
        self.set_source_info(checked)
        return [checked], messages


class CheckReaderTexts(SphinxPostTransform):
    """After the references are resolved: each written text is the text the book shows."""

    default_priority = 20  # after sphinx's ReferencesResolver (10)

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(reader_text)):
            shown = _shown(node.astext())
            if shown != _shown(node["written"]):
                logger.warning(f"the chapter writes {node['written']!r} for what the book shows "
                               f"as {shown!r}: write {shown!r} (JupyterLab shows the written text)",
                               location=node)
            node.replace_self(node.children)


def setup(app: Sphinx) -> dict:
    app.add_node(reader_text)
    app.add_transform(CitationLinks)
    app.add_role_to_domain("std", "numref", NumberedReferenceWithText(lowercase=True, warn_dangling=True),
                           override=True)
    app.add_post_transform(CheckReaderTexts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
