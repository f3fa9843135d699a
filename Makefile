# Two commands on a fresh machine (Python 3.11): `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve test build lint clean

$(BIN)/exomirkg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/exomirkg

install: $(BIN)/exomirkg

build: install
	$(BIN)/exomirkg build

serve: build
	$(BIN)/exomirkg serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests

clean:
	rm -rf build .pytest_cache
