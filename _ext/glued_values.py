"""The book's rendering of the numbers its prose quotes: ``{eval}`glued("name:format")```.

A chapter records a number with ``adaptive_methods.prose.glue`` and quotes it with the
inline expression ``{eval}`glued("name:format")```, which JupyterLab (jupyterlab-myst)
evaluates in the kernel. myst-nb's own ``eval`` role would ask a running kernel too, which
only its inline execution has; the book executes through jupyter-cache, so this role reads
the value from the executed notebook's glue outputs instead, formatted exactly as
``{glue:text}`name:format``` formats it. Any other expression is an error: the build could
not show what the kernel would.
"""

from __future__ import annotations

import re

from docutils import nodes
from myst_nb.ext.glue.roles import PasteTextRole
from sphinx.application import Sphinx

GLUED = re.compile(r"""^glued\((?P<quote>["'])(?P<spec>[^"']+)(?P=quote)\)$""")


class GluedValueRole(PasteTextRole):
    """``{eval}`glued("name:format")```: the glued value ``name``, formatted."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        match = GLUED.match(self.text.strip())
        if match is None:
            message = (f"the book renders only inline expressions of the form glued(\"name:format\"), "
                       f"got {self.text!r}")
            return [], [self.inliner.reporter.warning(message, line=self.line)]
        self.text = match["spec"]
        return super().run()


def setup(app: Sphinx) -> dict:
    app.add_role("eval", GluedValueRole(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
