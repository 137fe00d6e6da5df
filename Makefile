# The few verbs people type. Each sets up .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint format clean browser

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

test: $(STAMP) browser  ## the whole suite (PostgreSQL and browser tests skip without them, except under CI=true)
	$(BIN)/python -m pytest -q

browser:  ## headless Chromium for the report's browser test: Debian's package, installed when we are root
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report's browser test (once)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the report's browser test will skip (fail under CI=true)"; \
	  else echo "no chromium: the report's browser test will skip (fail under CI=true)"; fi; }

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
