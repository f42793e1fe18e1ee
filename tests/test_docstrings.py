"""The package's docstrings: their examples run, and the public names document themselves.

Every module of the package is run through :mod:`doctest` (the examples of the API
reference, ``api.md``, are tested code). The modules of ``DOCUMENTED`` are complete: each
public class and function there has a numpy-style docstring with an Examples section and,
where it takes parameters, a Parameters section.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import adaptive_methods

from .conftest import REPO

# Run by `python -m adaptive_methods.experiments`; importing it would start the command line.
NOT_IMPORTED = {"adaptive_methods.experiments.__main__"}
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(adaptive_methods.__path__, prefix="adaptive_methods.")
    if info.name not in NOT_IMPORTED
)
# The modules whose every public name has Parameters and Examples (the API reference lists them).
DOCUMENTED = [
    "adaptive_methods.framework",
    "adaptive_methods.framework.stacked",
    "adaptive_methods.methods",
    "adaptive_methods.registry",
    "adaptive_methods.gamma",
    "adaptive_methods.regret_bound",
    "adaptive_methods.prose",
    "adaptive_methods.online",
    "adaptive_methods.later_methods",
    "adaptive_methods.later_loops",
    "adaptive_methods.explorer",
    "adaptive_methods.plotting",
    "adaptive_methods.reproducibility",
    "adaptive_methods.experiments",
    "adaptive_methods.experiments.batched",
    "adaptive_methods.experiments.slurm",
]
SECTION = re.compile(r"^(?P<name>Parameters|Returns|Yields|Raises|Examples)\n-{3,}$", re.M)


@pytest.mark.parametrize("module", ["adaptive_methods", *MODULES])
def test_the_examples_in_the_docstrings_run(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    mod = importlib.import_module(module)
    report = []
    for test in finder.find(mod, module):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def _public_callables(module: str):
    mod = importlib.import_module(module)
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj


def _takes_parameters(obj) -> bool:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # a class without a Python signature (an exception) takes none
        return False
    return any(p.name != "self" for p in signature.parameters.values())


@pytest.mark.parametrize("module", DOCUMENTED)
def test_every_public_name_has_parameters_and_examples(module):
    missing = []
    for name, obj in _public_callables(module):
        sections = {m["name"] for m in SECTION.finditer(inspect.getdoc(obj) or "")}
        if "Examples" not in sections:
            missing.append(f"{name}: no Examples section")
        if _takes_parameters(obj) and "Parameters" not in sections:
            missing.append(f"{name}: no Parameters section")
    assert not missing, f"{module}: " + "; ".join(missing)


def test_the_documented_modules_are_in_the_api_reference():
    text = (REPO / "api.md").read_text(encoding="utf-8")
    for module in DOCUMENTED:
        assert f"automodule:: {module}" in text, f"{module} is not in api.md"


# Chapters that link the API they name into the reference (07 is not yet among them).
LINKING_CHAPTERS = ["01_generic_method", "02_recovering_methods", "03_gamma", "04_adam_does_not_converge",
                    "04_figure1_and_phase_diagrams", "05_amsgrad", "05_amsgrad_libraries_and_adamx",
                    "06_experiments", "appendix_simulator"]


@pytest.mark.site
def test_chapters_link_the_api_they_name_to_entries_of_the_reference():
    site = REPO / "_build" / "html"
    assert (site / "api.html").exists(), "no built site: run `make book` first"
    entries = set(re.findall(r'\bid="([^"]+)"', (site / "api.html").read_text(encoding="utf-8")))
    for chapter in LINKING_CHAPTERS:
        page = (site / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
        targets = set(re.findall(r'href="\.\./api\.html#([^"]+)"', page))
        assert targets, f"{chapter} links nothing of the API reference"
        assert targets <= entries, f"{chapter}: no entry {sorted(targets - entries)} in api.html"
