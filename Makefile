# Two entry points for a fresh machine with Python 3.11 and make: `make demo`, `make test`.
# Each creates .venv and installs what it needs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean locales

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/asamblea demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2  # two workers (pytest-xdist): the suite is mostly waiting on loopback HTTP

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

# After adding or changing user-facing strings: refresh the template and every catalogue,
# then translate what `make test` reports as missing (tests/test_translations.py).
locales: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --no-location --sort-output --project asamblea -o locales/asamblea.pot bot handlers domain
	$(BIN)/pybabel -q update -D asamblea -i locales/asamblea.pot -d locales --no-fuzzy-matching
