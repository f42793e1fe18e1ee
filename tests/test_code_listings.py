"""A chapter's listing of a package object shows its code without its docstrings
(_ext/code_listings.py); the docstrings are the API reference's."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import textwrap

import pytest

from adaptive_methods.framework import rules

from .conftest import REPO
from .test_browser import SITE, site_pages

_spec = importlib.util.spec_from_file_location("code_listings", REPO / "_ext" / "code_listings.py")
code_listings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(code_listings)
without_docstrings = code_listings.without_docstrings


def test_a_class_loses_its_docstring_and_its_methods_docstrings_and_nothing_else():
    code = textwrap.dedent('''\
        class Rule:
            """One line.

            More lines, with "quotes" and ''' + "'''" + ''' inside.
            """

            factor = 2

            def apply(self, x):
                """Twice x."""
                text = """a string that is not a docstring"""
                return self.factor * x, text
        ''')
    assert without_docstrings(code) == textwrap.dedent('''\
        class Rule:
            factor = 2

            def apply(self, x):
                text = """a string that is not a docstring"""
                return self.factor * x, text
        ''')


def test_an_indented_method_and_a_docstring_without_blank_line_after_it():
    code = '    def step(self):\n        """Step."""\n        return 1\n'
    assert without_docstrings(code) == "    def step(self):\n        return 1\n"


def test_a_body_that_is_only_a_docstring_is_kept():
    code = 'class Warned(UserWarning):\n    """Raised when ..."""\n'
    assert without_docstrings(code) == code


def _without_docstring_nodes(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and len(node.body) > 1 \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            node.body = node.body[1:]
    return ast.dump(tree)


@pytest.mark.parametrize("obj", [rules.MovingAverage, rules.Rules, rules.RunningMax])
def test_the_listing_is_the_same_program_without_its_docstrings(obj):
    source = inspect.getsource(obj)
    stripped = without_docstrings(source)
    assert '"""' not in stripped
    assert ast.dump(ast.parse(stripped)) == _without_docstring_nodes(ast.parse(source))


def test_the_chapters_listings_show_no_docstring():
    pages = [p for p in site_pages() if p.startswith("chapters/")]
    if not pages:
        pytest.skip("no built site")
    from bs4 import BeautifulSoup

    shown = []
    for page in pages:
        soup = BeautifulSoup((SITE / page).read_text(encoding="utf-8"), "html.parser")
        for block in soup.select("article div.highlight-python pre"):
            if '"""' in block.get_text():
                shown.append(f"{page}: {block.get_text()[:80]!r}")
    assert not shown, shown


def test_the_extensions_own_example_runs():
    import doctest

    assert doctest.testmod(code_listings).failed == 0
