# Each command does its own set-up (the venv):
#   make demo DATA=<folder with the four MNIST files>   train the CNN for one epoch, test it
#   make test                                            the fast suite: every test not marked slow (~2 min)
#   make test-full                                       every test: DDP, subprocesses and kills, the wheel build,
#                                                        the browser, long fits (what CI runs, after lint and browser)
#   make lint                                            lint, format check and type check (CI runs it first)
#   make browser                                         Debian's chromium for the drawing-page test (CI runs it)
#   make benchmarks DATA=<MNIST folder>                  every benchmark, full size, into docs/results.md (hours)
#   make benchmarks-quick                                each benchmark's tiny variant: a smoke test (minutes)
# PYTEST_ARGS adds pytest options to either suite, e.g. make test PYTEST_ARGS="-x -k resume".
PYTHON ?= python3
VENV ?= .venv
DATA ?= data
RUNS ?= runs
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-full lint format install clean browser benchmarks benchmarks-quick

install: $(VENV)/.installed

# Re-installs when pyproject.toml changes; torch/torchvision come from the pins in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $@

# One epoch is too short for augmentation to pay off (docs/results.md has both accuracies).
demo: install
	$(BIN)/python cli.py fit --config configs/mnist_cnn.yaml --run_name demo --runs_dir $(RUNS) \
		--data.data_dir $(DATA) --trainer.max_epochs 1 --data.augment false
	$(BIN)/python cli.py test --config configs/mnist_cnn.yaml --run_name demo --runs_dir $(RUNS) \
		--data.data_dir $(DATA) --ckpt_path best

# A test that takes more than a few seconds carries @pytest.mark.slow (pyproject.toml declares the marker).
# pytest's exit status passes through, 5 (no test collected) included: an empty suite is a failure too.
test: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-full: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# python -m benchmarks --list names them, by purpose (results, robustness, speed); --only NAME runs one.
benchmarks: install
	$(BIN)/python -m benchmarks --write --data-dir $(DATA)

benchmarks-quick: install
	$(BIN)/python -m benchmarks --quick

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Rewrites files: the formatter and the linter's safe fixes.
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The drawing-page test drives Chromium through playwright, pointed at the system's browser (playwright's
# own browser download is not used). Installs Debian's chromium when missing and run as root; otherwise
# the test skips itself and says why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "no chromium and no root apt-get: the drawing-page test will be skipped (install chromium to run it)"; \
	fi

clean:
	rm -rf $(RUNS) .pytest_cache
