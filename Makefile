# Two commands do all the set-up on a machine with Python 3.11 and git: `make run`, `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: run test lint install install-test demo bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/flask docmgr init
	$(BIN)/flask docmgr demo

run: demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check docmgr tests

bench: install-test
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

# Every benchmark once at a tiny size: proves they still run (CI), not how fast.
bench-smoke: install-test
	$(BIN)/python -m tests.bench.run --smoke $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
