"""The package stays small and single-sourced: modules of at most about 500 lines,
functions of at most about 80, and method names only in the registry."""

from __future__ import annotations

import ast
import re

import pytest

from adaptive_methods.registry import METHODS

from .conftest import REPO

SRC = REPO / "src" / "adaptive_methods"
MODULES = sorted(SRC.rglob("*.py"))
MAX_MODULE_LINES = 520
MAX_FUNCTION_LINES = 85


def _docstring_lines(node: ast.AST) -> int:
    """Lines of the docstring of a module, class or function (0 without one)."""
    first = node.body[0] if getattr(node, "body", None) else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno - first.lineno + 1
    return 0


def _code_lines(tree: ast.AST, text: str) -> int:
    """Lines of a module that are not docstrings (the API reference asks for long ones)."""
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return len(text.splitlines()) - sum(_docstring_lines(n) for n in ast.walk(tree) if isinstance(n, documented))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_and_function_sizes(path):
    text = path.read_text()
    tree = ast.parse(text)
    lines = _code_lines(tree, text)
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines besides its docstrings"
    functions = [(node.name, node.end_lineno - node.lineno + 1 - _docstring_lines(node))
                 for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    long = [f"{name} ({n} lines besides its docstring)" for name, n in functions if n > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def _string_tuples_of_method_names(tree: ast.AST, branches: bool = True):
    """Literal collections naming three or more registered methods, and any branch on a
    method's name (``name == "adam"``, ``name in ("adagrad", "adamnc")``)."""
    names = set(METHODS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and branches:
            literals = [c for c in node.comparators if isinstance(c, (ast.Constant, ast.Tuple, ast.List, ast.Set))]
            strings = [e.value for c in literals for e in (c.elts if not isinstance(c, ast.Constant) else [c])
                       if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if any(s in names for s in strings):
                yield node.lineno, strings
            continue
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        strings = [e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if sum(s in names for s in strings) >= 3:
            yield node.lineno, strings


TESTS = sorted(p for p in (REPO / "tests").glob("*.py") if p.name not in ("method_table.py",))


@pytest.mark.parametrize("path", MODULES + TESTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_other_list_of_method_names(path):
    if path.name == "registry.py":
        return
    # a test may pick a method by name; the package may not branch on one
    found = list(_string_tuples_of_method_names(ast.parse(path.read_text()), branches=path in MODULES))
    assert not found, f"{path.name} lists method names outside the registry: {found}"


def test_nothing_refers_outside_the_repository():
    offenders = []
    for path in [*REPO.glob("*.md"), *REPO.glob("*.yml"), *REPO.glob("chapters/*.md"), *MODULES,
                 *REPO.glob("tests/*.py"), *REPO.glob("docs/*.md")]:
        if path.name == "test_code_shape.py":
            continue
        if re.search(r"\.\./shared\b", path.read_text()):
            offenders.append(str(path.relative_to(REPO)))
    assert not offenders
