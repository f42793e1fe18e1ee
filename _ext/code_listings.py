"""A chapter's listing of a Python object shows its code, not its docstring.

The chapters show the package's code with ``{literalinclude}`` and ``:pyobject:``; the
docstrings of those objects are the API reference's (``api.md``): parameters, ranges and
doctest examples that would interrupt the chapter's argument, which explains the same code
in its own words. A listing of a Python object therefore leaves out the docstrings of the
object and of the functions and classes inside it; ``:docstrings:`` keeps them.
"""

from __future__ import annotations

import ast
import textwrap

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralInclude


def _docstring_lines(source: list[str]) -> set[int]:
    """The 0-based numbers of the lines of every docstring in ``source``, each with the blank
    line that separates it from the code after it."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(textwrap.dedent("".join(source)))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = node.body[0]
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            continue
        if len(node.body) == 1:  # a body that is only a docstring would leave no code
            continue
        lines.update(range(first.lineno - 1, first.end_lineno))
        if first.end_lineno < len(source) and not source[first.end_lineno].strip():
            lines.add(first.end_lineno)
    return lines


def without_docstrings(code: str) -> str:
    """``code`` (one Python definition, possibly indented) without its docstrings.

    >>> print(without_docstrings('def f(x):\\n    \"\"\"Twice x.\\n\\n    More.\"\"\"\\n\\n'
    ...                          '    return 2 * x\\n'), end="")
    def f(x):
        return 2 * x
    """
    source = code.splitlines(keepends=True)
    drop = _docstring_lines(source)
    return "".join(line for i, line in enumerate(source) if i not in drop)


class CodeListing(LiteralInclude):
    """``literalinclude``, with a Python object's docstrings left out unless ``:docstrings:``."""

    option_spec = {**LiteralInclude.option_spec, "docstrings": directives.flag}

    def run(self) -> list[nodes.Node]:
        result = super().run()
        if "pyobject" not in self.options or "docstrings" in self.options:
            return result
        for block in (n for node in result for n in node.findall(nodes.literal_block)):
            code = without_docstrings(block.astext())
            block.children = [nodes.Text(code)]
            block.rawsource = code
        return result


def setup(app: Sphinx) -> dict:
    app.add_directive("literalinclude", CodeListing, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
