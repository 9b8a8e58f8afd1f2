# Two commands for a newcomer: `make run` (the whole system with demo data) and `make test`.
# Every target installs what is missing first, so a fresh machine needs nothing by hand.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin

.PHONY: install install-system install-browser run test test-fast test-cluster test-e2e bench clean

install: install-system $(VENV)/.installed node_modules/.installed webapp/static/htmx.min.js

install-system:
	@scripts/install-system-deps.sh

install-browser:
	@scripts/install-system-deps.sh --browser

$(VENV)/.installed: pyproject.toml | install-system
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# patches/: fixes to the embedded PouchDB Server (replication, validation cost; see each patch's comment).
node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund --loglevel=error
	for p in patches/*.patch; do patch --quiet -p1 -d node_modules/$$(basename $$p .patch) < $$p || exit 1; done
	touch $@

webapp/static/htmx.min.js: node_modules/.installed
	cp node_modules/htmx.org/dist/htmx.min.js $@

run: install
	$(BIN)/oms serve --demo

test: install install-browser
	$(BIN)/pytest -q -ra

# The fast lane while working: the unit tests (pure logic, the design documents under node)
# without the slow ones; no server is started. `make test` stays the whole suite.
test-fast: install
	$(BIN)/pytest -q -m "unit and not slow" tests/unit

# The same suite against a CouchDB 3 server or cluster of yours (its admin; each run is a desk of
# its own and leaves nothing behind, so runs may share the server). OMS_COUCHDB_NODES: the
# cluster's nodes, comma-separated, for the tests that race writers through different nodes.
# TESTS: a part of the suite (pytest paths and options), e.g. TESTS=tests/integration.
test-cluster: install install-browser
	@test -n "$(COUCHDB_URL)" || { echo "make test-cluster needs COUCHDB_URL, COUCHDB_USER and COUCHDB_PASSWORD of a CouchDB 3 server (README: The production engine)"; exit 2; }
	COUCHDB_URL="$(COUCHDB_URL)" COUCHDB_USER="$(COUCHDB_USER)" COUCHDB_PASSWORD="$(COUCHDB_PASSWORD)" \
	  OMS_COUCHDB_NODES="$(OMS_COUCHDB_NODES)" $(BIN)/pytest -q -ra $(TESTS)

bench: install
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) node_modules webapp/static/htmx.min.js
