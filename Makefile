# Two commands on a fresh machine (Python 3.11): `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve test fast build lint clean vendor

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

# The inner loop: everything but the slow, browser and external-engine tests, on every core
# (CI runs the whole suite with `make test`).
fast: install
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser and not backend"

lint: install
	$(BIN)/ruff check src tests

# Refresh the browser libraries committed under the package (versions pinned in package.json);
# only maintainers run this: a fresh machine needs no npm step. yasgui's LICENSE is kept by hand
# (the npm package ships none).
VENDOR := src/exomirkg/web/static/vendor
vendor:
	npm install --no-audit --no-fund --ignore-scripts --no-package-lock
	cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css $(VENDOR)/yasgui/
	cp node_modules/cytoscape/dist/cytoscape.min.js node_modules/cytoscape/LICENSE $(VENDOR)/cytoscape/
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/browser/vendor/axe-core/

clean:
	rm -rf build .pytest_cache
