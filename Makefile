# VidStudio: the two commands a newcomer needs are `make demo` and `make test`.
# Both create .venv when it is missing and install the project into it.

PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
# Where torch comes from. Empty (the default): pip's own configuration, which on our build and CI machines finds
# the machine's CPU wheel of torch==2.13.0 (and those machines reach no other index). Elsewhere PyPI's Linux
# wheels are CUDA builds: pass TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for a CPU-only install.
TORCH_INDEX_URL ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.vidstudio-installed
DEMO_PROJECT ?= resources/examples/bouncing_ball.vidproj
DEMO_OUT ?= out/demo.mp4
PYTEST_ARGS ?=

.PHONY: demo test install lint-imports lint bench clean help package package-test

help:
	@echo "make demo   render $(DEMO_PROJECT) to $(DEMO_OUT)"
	@echo "make test   run the import contracts and the whole test suite"
	@echo "make bench  run the benchmarks"
	@echo "make package       build the Linux desktop bundle (dist/VidStudio.AppDir and an AppImage or tar.gz)"
	@echo "make package-test  build it and test it, and install the managed backend for real (minutes)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned, so that nothing later pulls a CUDA build from the index.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	@if $(BIN)/python -c "import torch" >/dev/null 2>&1; then \
		echo "torch already installed: $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	else \
		echo "installing torch==$(TORCH_VERSION)$(if $(TORCH_INDEX_URL), from $(TORCH_INDEX_URL))"; \
		$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url "$(TORCH_INDEX_URL)" )"torch==$(TORCH_VERSION)"; \
	fi
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/vidstudio render $(DEMO_PROJECT) -o $(DEMO_OUT)

lint-imports: install
	$(BIN)/lint-imports --no-cache

# ruff: lint and format, configured in pyproject.toml ([tool.ruff])
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint-imports lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

package: install
	$(BIN)/python -m pip install --quiet -e ".[package]"
	$(BIN)/python packaging/linux/build_bundle.py

package-test: install
	$(BIN)/python -m pip install --quiet -e ".[package]"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m package $(PYTEST_ARGS)

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf out build dist *.egg-info .pytest_cache .import_linter_cache
