# Every target does its own set-up on a fresh machine: a virtual environment with the
# project installed in editable mode.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test lint unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	@echo "== the KubeFed demo, simulated on three in-memory clusters (examples/demo/scenario.yaml) =="
	$(BIN)/kubectl-kubefed simulate examples/demo/scenario.yaml
	@echo
	@echo "== the same app rendered offline: what each cluster gets =="
	$(BIN)/kubectl-kubefed render -f examples/demo/clusters.yaml -f examples/demo/app.yaml

lint: venv
	$(BIN)/ruff check kubectl_kubefed simulator tests benchmarks
	$(BIN)/ruff format --check kubectl_kubefed simulator tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest

test: lint unit

bench: venv
	$(BIN)/python benchmarks/bench_offline.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
