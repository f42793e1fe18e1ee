"""One source of truth for dependencies: environment.yml lists what pyproject.toml does."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = list(data["dependencies"])
    for extra in ("book", "test"):
        reqs += data["optional-dependencies"][extra]
    return list(dict.fromkeys(reqs))  # an extra may repeat another's package (numba: fast, book, test)


def _environment():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return env, [r for r in pip if not r.startswith(("-", "--"))]


def test_environment_lists_the_same_packages_and_pins():
    env, pip = _environment()
    assert sorted(map(str.strip, pip)) == sorted(map(str.strip, _pyproject())), "environment.yml pip list != pyproject dependencies + extras"


def test_environment_is_what_binder_needs():
    env, _ = _environment()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda
    assert any(d.startswith("jupyterlab") for d in conda)
    assert any(d.startswith("jupytext") for d in conda), "jupytext lets JupyterLab open the .md chapters as notebooks"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip
    assert any("download.pytorch.org/whl/cpu" in line for line in pip), "Binder should get the CPU build of torch"


def test_torch_range_admits_the_local_cpu_wheel():
    torch_req = next(r for r in _pyproject() if _name(r) == "torch")
    from packaging.specifiers import SpecifierSet

    assert "2.13.0" in SpecifierSet(torch_req[len("torch"):])
    assert "2.14.2" not in SpecifierSet(torch_req[len("torch"):]), "an open range pulls a multi-GB CUDA build"


def test_jupyter_book_is_pinned_to_1x():
    assert "jupyter-book==1.0.4.post1" in _pyproject()


def test_the_fast_extra_is_in_what_the_book_and_the_tests_install():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for package in extras["fast"]:
        assert package in extras["book"] and package in extras["test"], f"{package} of the fast extra"


def test_jupyterlab_is_the_one_jupyterlab_myst_supports_in_both_files():
    """conda's JupyterLab (Binder) and pip's (.venv) carry the same pin, next to jupyterlab-myst,
    which renders the chapters' MyST in JupyterLab (pyproject.toml says why the pin)."""
    env, pip = _environment()
    conda = [d for d in env["dependencies"] if isinstance(d, str) and _name(d) == "jupyterlab"]
    pinned = [r for r in _pyproject() if _name(r) == "jupyterlab"]
    assert conda == pinned == ["jupyterlab>=4.5,<4.6"], (conda, pinned)
    assert "jupyterlab-myst==2.7.0" in _pyproject()
    # jupytext's JupyterLab extension (which opens the .md chapters as notebooks) loads in 4.5 up to 1.18
    conda_jupytext = [d for d in env["dependencies"] if isinstance(d, str) and _name(d) == "jupytext"]
    assert conda_jupytext == [r for r in _pyproject() if _name(r) == "jupytext"] == ["jupytext>=1.16,<1.19"]
