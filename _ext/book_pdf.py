"""The book as one PDF (``make pdf``), and a link to it on every page of the site.

LaTeX build, on the one document Sphinx assembles from the whole book:

- the solutions of the exercises are left out of the PDF, which is the students' copy of
  the book; the site shows them. Every exercise keeps its statement.
- an ipywidgets output (a panel that only a live kernel or the site's widget manager
  draws) is left out, not printed as its text form ``VBox(children=...)``.
- the introduction's sections are unnumbered chapters, so that the first chapter of the
  table of contents is chapter 1, as on the site.

HTML build: each page's download menu gets a "book (.pdf)" entry pointing at
``PDF_NAME`` at the site's root, where ``make pdf`` copies the PDF it builds.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

# The PDF's name in _build/latex (latex_documents.targetname) and at the site's root.
PDF_NAME = "adam-and-beyond.pdf"


def _raw_latex(code: str) -> nodes.raw:
    return nodes.raw("", code + "\n", format="latex")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class DropWidgetOutputs(SphinxPostTransform):
    """Before myst-nb picks each output's mime type (its SelectMimeType, priority 4)."""

    default_priority = 3
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for bundle in list(self.document.findall(nodes.container)):
            if bundle.get("nb_element") == "mime_bundle" and any(
                    child.get("mime_type") == WIDGET_VIEW for child in bundle.children):
                bundle.parent.remove(bundle)


def shape_pdf(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    from sphinx import addnodes
    from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

    for kind in (solution_node, solution_start_node, solution_end_node):
        for node in list(doctree.findall(kind)):
            node.parent.remove(node)

    included = list(doctree.findall(addnodes.start_of_file))
    if included:
        root_section = next(doctree.findall(nodes.section))
        root_section.insert(1, _raw_latex(r"\addtocounter{secnumdepth}{-10}"))
        first = included[0]
        first.parent.insert(first.parent.index(first), _raw_latex(r"\addtocounter{secnumdepth}{10}"))


def add_pdf_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    menu = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    entry = {
        "type": "link",
        "url": context["pathto"](PDF_NAME, 1),
        "text": "book (.pdf)",
        "tooltip": "Download the whole book as a PDF",
        "icon": "fas fa-book",
        "label": "download-book-pdf-button",
    }
    if menu is None:
        buttons.append({"type": "group", "tooltip": "Download", "icon": "fas fa-download",
                        "buttons": [entry], "label": "download-buttons"})
    else:
        menu["buttons"].append(entry)


def setup(app: Sphinx) -> dict:
    app.add_post_transform(DropWidgetOutputs)
    app.connect("doctree-resolved", shape_pdf)
    # after sphinx-book-theme has made the download menu (its handlers run at 501)
    app.connect("html-page-context", add_pdf_download, priority=510)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
