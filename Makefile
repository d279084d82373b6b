# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/platform

.PHONY: demo test bench clean

$(BIN)/kure-fn: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

## demo: install, render the bundled platform example to ./out and show the tree
demo: $(BIN)/kure-fn
	rm -rf out
	$(BIN)/kure-fn render $(EXAMPLE)/cluster.yaml -o out
	find out -type f | sort

## test: install and run the whole test suite
test: $(BIN)/kure-fn
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: run the benchmark (see bench/README.md); BENCH_ARGS=--quick for a short run
bench: $(BIN)/kure-fn
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache
