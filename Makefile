# news-streams: every entry point a developer or CI needs. `make run` and `make test` are the two
# commands README.md starts with; .ci/run calls `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit integration lint bench eval clean venv chaos soak

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# setuptools prints a 10-line "Editable installation" notice for every editable install
	# of a flat layout; it is information only (see pyproject.toml for the license string).
	PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## run: embedded Kafka + local sample feeds + poller + worker, live view in the terminal (Ctrl-C stops)
run: $(STAMP)
	$(BIN)/news-streams run $(if $(FEEDS),--feeds $(FEEDS),)

## test: install what the tests need (venv, Kafka jars, prometheus) and run all of them
test: $(STAMP)
	bash deploy/ensure-test-tools.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check streams tests bench
	$(BIN)/ruff format --check streams tests bench
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/python -m bench.eval

bench: $(STAMP)
	$(BIN)/python -m bench.core_speed
	$(BIN)/python -m bench.pipeline

## chaos: kill -9 / broker restart scenarios on 20,000 items, the issue-6 table (bench/results/chaos.json)
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

## soak: 500,000 items through one worker, RSS plotted (bench/results/soak.png)
soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
