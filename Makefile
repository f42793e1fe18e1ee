# The README's two commands: `make book` and `make test`. Both create .venv and install
# everything first; both fail on a failing notebook cell or any Sphinx warning.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; any version in pyproject's range works (pass TORCH_SPEC to change).
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
BOOK_FLAGS ?= --warningiserror --keep-going

.PHONY: all setup book pdf lab test assets assignments list-assignments autograde feedback grades students student-book clean clean-cache benchmarks

all: book

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 is needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: Node.js and npm are needed to fetch the site's MathJax/widget assets (https://nodejs.org, or: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The site's own MathJax, ipywidgets manager and RequireJS, at the versions pinned in
# package-lock.json; the book build copies them into _build/html/_assets
# (_ext/offline_assets.py), so the site loads nothing from another host.
assets: node_modules/.installed

setup: $(STAMP) assets

book: setup assets
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

# The course (README, "For instructors"): course.yml -> the nbgrader course directory
# (assignments/ by default). A=NN (or the assignment's name) picks the assignment.
COURSE_FILE ?= course.yml
COURSE_TOOL := $(BIN)/python tools/make_assignments.py --course $(COURSE_FILE)

assignments: $(STAMP)
	$(COURSE_TOOL) generate

list-assignments: $(STAMP)
	$(COURSE_TOOL) list

autograde: $(STAMP)
	@test -n "$(A)" || { echo "usage: make autograde A=NN (the assignment's number or name)"; exit 2; }
	$(COURSE_TOOL) autograde $(A)

feedback: $(STAMP)
	@test -n "$(A)" || { echo "usage: make feedback A=NN (the assignment's number or name)"; exit 2; }
	$(COURSE_TOOL) feedback $(A)

grades: $(STAMP)
	$(COURSE_TOOL) grades

# the roster: a CSV with the columns id,first_name,last_name,email (nbgrader's format)
students: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make students FILE=roster.csv"; exit 2; }
	cd "$$($(COURSE_TOOL) directory)" && PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/nbgrader db student import "$(abspath $(FILE))"

# The site without solutions (for a course that hands out the exercises), in _build/student/html.
student-book: setup assets
	$(COURSE_TOOL) student-config _build/student_config.yml
	$(BIN)/jupyter-book build . --config _build/student_config.yml --path-output _build/student $(BOOK_FLAGS)

# The whole book as one PDF (xelatex), from the same execution cache as the site: run after
# `book`, no chapter executes again. The PDF is copied to the site's root, where every page's
# download menu links it (_ext/book_pdf.py). TeX Live and fonts: see .ci/run's apt list.
PDF := adam-and-beyond.pdf
pdf: book
	@command -v xelatex >/dev/null 2>&1 && command -v latexmk >/dev/null 2>&1 || { echo "error: xelatex and latexmk are needed (apt-get install texlive-xetex texlive-latex-extra latexmk, see .ci/run)"; exit 1; }
	LATEXOPTS="-interaction=nonstopmode -halt-on-error" LATEXMKOPTS=-silent $(BIN)/jupyter-book build . --builder pdflatex $(BOOK_FLAGS)
	cp _build/latex/$(PDF) _build/html/$(PDF)

# The book in JupyterLab from .venv, as Binder opens it: postBuild's settings (jupytext opens
# the .md chapters as notebooks) go to a Jupyter configuration of .venv's own, so the
# reader's ~/.jupyter stays as it is; jupyterlab-myst renders the chapters' MyST.
LAB_CONFIG := $(abspath $(VENV))/jupyter-config
lab: $(STAMP)
	JUPYTER_CONFIG_DIR=$(LAB_CONFIG) PATH="$(abspath $(BIN)):$$PATH" bash postBuild
	JUPYTER_CONFIG_DIR=$(LAB_CONFIG) $(BIN)/jupyter lab intro.md

test: book pdf
	$(BIN)/python -m pytest

benchmarks: setup
	$(BIN)/python benchmarks/bench_optimizer_step.py --steps 50
	$(BIN)/python benchmarks/bench_simulator.py
	$(BIN)/python benchmarks/bench_explorer.py
	$(BIN)/python benchmarks/bench_batched_grid.py

clean-cache:
	rm -rf _build/.jupyter_cache

clean:
	rm -rf _build
