# The few verbs people type. Each sets up .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint format clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,semantic,teams]"
	touch $(STAMP)

run: $(STAMP)  ## migrate, index the sample library and chat in the terminal (SQLite)
	$(BIN)/learnbot db upgrade
	$(BIN)/learnbot index
	$(BIN)/learnbot chat

test: $(STAMP)  ## the whole suite (PostgreSQL tests skip without a server, except under CI=true)
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## speed and quality tables
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .learnbot .pytest_cache
