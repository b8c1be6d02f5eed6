# The README's commands are these targets; .ci/run calls `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./data
YEARS ?= 2008-2024

.PHONY: install demo test lint bench ui clean

$(BIN)/govreports: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/govreports

install: $(BIN)/govreports

# Install, lay the bundled sample corpus into the landing folder, run the whole pipeline through Dagster.
demo: install
	$(BIN)/govreports init-sample --data-dir $(DATA_DIR)
	$(BIN)/govreports run --data-dir $(DATA_DIR) --years $(YEARS)

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/parse_throughput.py

ui: install
	$(BIN)/govreports ui --data-dir $(DATA_DIR)

clean:
	rm -rf $(VENV) .pytest_cache
