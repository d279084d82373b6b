# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE ?= examples/platform

.PHONY: demo test test-fast bench lock flux-schemas clean

# The tests run against the exact versions of constraints.txt (make lock refreshes it).
$(BIN)/kure-fn: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

## demo: install, render the bundled platform example to ./out and show the tree
demo: $(BIN)/kure-fn
	rm -rf out
	$(BIN)/kure-fn render $(EXAMPLE)/cluster.yaml -o out
	find out -type f | sort

## test: install and run the whole test suite
test: $(BIN)/kure-fn
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: the in-process tiers only (no kpt/kustomize/podman, no property tests): about a minute
test-fast: $(BIN)/kure-fn
	$(BIN)/python -m pytest -m "not e2e and not container and not slow" $(PYTEST_ARGS)

## bench: run the benchmark (see bench/README.md); BENCH_ARGS=--quick for a short run
bench: $(BIN)/kure-fn
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## lock: refresh constraints.txt to today's releases (then run make test)
lock:
	rm -rf $(VENV).lock
	$(PYTHON) -m venv $(VENV).lock
	$(VENV).lock/bin/pip install --quiet --disable-pip-version-check '.[test]'
	{ sed -n '1,2p' constraints.txt; $(VENV).lock/bin/pip freeze --exclude-editable | grep -v '^kure-fn'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(VENV).lock

## flux-schemas: rewrite fn/flux/crds from the Flux CRDs (FLUX_CRDS, default ../shared/schemas/crds)
FLUX_CRDS ?= ../shared/schemas/crds
flux-schemas: $(BIN)/kure-fn
	$(BIN)/python scripts/flux-schemas.py --crds $(FLUX_CRDS)

clean:
	rm -rf $(VENV) out .pytest_cache
