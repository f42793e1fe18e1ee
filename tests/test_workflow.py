"""The publishing workflow (.github/workflows/book.yml) is valid and publishes what the
book's own build makes: actionlint checks it, and its steps match the Makefile and
_config.yml (same execution cache, same build target, the site's folder on gh-pages)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "book.yml"
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())


def _actionlint() -> str:
    # the linter comes with the test extra; look next to this interpreter first
    here = Path(sys.executable).parent / "actionlint"
    found = str(here) if here.exists() else shutil.which("actionlint")
    assert found, "actionlint is not installed: `pip install -e .[test]` installs it"
    return found


def _steps() -> list[dict]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    (job,) = jobs.values()
    return job["steps"]


def test_actionlint_accepts_the_workflow():
    result = subprocess.run([_actionlint(), "-no-color", str(WORKFLOW)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    # the linter really reads the file: an unknown event and a bad expression are reported
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pushh\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - run: echo ${{ github.nosuchthing( }}\n")
    result = subprocess.run([_actionlint(), "-no-color", str(bad)], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "pushh" in result.stdout, result.stdout + result.stderr


def test_the_workflow_caches_the_books_execution_cache():
    (cache,) = [s for s in _steps() if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == CONFIG["execute"]["cache"]
    for source in ("chapters/**", "src/**"):
        assert source in cache["with"]["key"], "a chapter's code change must change the key"


def test_the_workflow_builds_site_and_pdf_and_publishes_the_site():
    runs = [s.get("run", "") for s in _steps()]
    assert any(r.strip() == "make pdf" for r in runs), "the workflow builds with `make pdf` (site + PDF)"
    assert any(".ci/run --system-packages-only" in r for r in runs), "system packages: the CI list"
    publish = next(s for s in _steps() if "gh-pages" in s.get("run", ""))
    assert publish["env"]["SITE"] == "_build/html"
    assert ".nojekyll" in publish["run"], "GitHub Pages hides _static/ and _sources/ without .nojekyll"
