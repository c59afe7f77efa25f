# The project's commands. `make test` and `make report` install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
KERNEL := skr-report
KERNEL_DISPLAY := SKR-rapporter (Python 3.11)
# JupyterLab refuses to start as root without --allow-root (containers, CI machines)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
AXE := tests/axe/node_modules/axe-core/axe.min.js

.PHONY: install system-deps test lint lab report bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "$(KERNEL_DISPLAY)" >/dev/null
	touch $@

system-deps:
	@scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# axe-core for the accessibility tests, as pinned in tests/axe/package-lock.json (npm registry)
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/axe --no-audit --no-fund --silent \
		&& touch $@; else echo "npm not found: the axe-core tests will be skipped"; fi

test: $(STAMP) system-deps lint $(AXE)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# at the project root, so reports/_interactive/ (where notebooks run by hand write) is in view;
# the browser opens on notebooks/
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(ALLOW_ROOT)

report: $(STAMP) system-deps
	$(BIN)/skr-report report-all

bench: $(STAMP)
	$(BIN)/python bench/bench_fetch.py

clean:
	rm -rf $(VENV) data/processed/* reports/* tests/axe/node_modules
