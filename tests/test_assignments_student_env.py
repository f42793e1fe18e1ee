"""The student versions run where students run them: with only the package installed.

A fresh virtual environment gets torch (the CPU wheel, as `make setup` installs it), this
repository as a plain package (no extras: no myst_nb, no jupyter-book) and a Jupyter
kernel with nbclient, which is what any Jupyter installation brings. Every release notebook,
with the book's solutions filled in, must then execute without an error: its setup cells,
its answers and its visible tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv

import nbformat
import pytest

from .conftest import REPO
from .test_assignments import NAMES, filled_in, tool

pytestmark = pytest.mark.slow

TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch==2.13.0")
RUNNER = '''\
import json, sys
import nbformat
from nbclient import NotebookClient

failures = {}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
    except Exception as error:  # report every notebook, not only the first that fails
        failures[path] = f"{type(error).__name__}: {str(error)[-3000:]}"
print(json.dumps(failures))
'''


def _pip(env, *args):
    proc = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.timeout(1800)
def test_release_notebooks_run_with_only_the_package(tmp_path):
    course = tmp_path / "course"
    tool.generate(tool.load_course(directory=course))
    notebooks = []
    for name in NAMES:
        target = tmp_path / "work" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(filled_in(course, name), target)
        notebooks.append(str(target))

    env = tmp_path / "student-env"
    venv.EnvBuilder(with_pip=True).create(env)
    _pip(env, TORCH_SPEC)
    # from a copy of what a student's pip would get, so that no build/ folder left in the
    # working tree by an earlier build can stand in for the sources
    package = tmp_path / "package"
    package.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, package / name)
    shutil.copytree(REPO / "src", package / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _pip(env, str(package), "ipykernel", "nbclient")
    python = str(env / "bin" / "python")
    assert subprocess.run([python, "-c", "import myst_nb"], capture_output=True).returncode != 0, \
        "the student environment should not have the book's tools"
    assert subprocess.run([python, "-c", "import jupytext"], capture_output=True).returncode != 0
    runner = tmp_path / "run_notebooks.py"
    runner.write_text(RUNNER)
    proc = subprocess.run([python, str(runner), *notebooks], capture_output=True, text=True, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert proc.returncode == 0, proc.stderr
    failures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not failures, "release notebooks that fail in the student environment:\n" + "\n\n".join(
        f"{path}:\n{error}" for path, error in failures.items())
