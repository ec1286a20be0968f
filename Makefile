# Two commands do everything, set-up included:
#   make demo DATA=<folder with the four MNIST files>   train the CNN for one epoch, test it
#   make test                                            run the test suite (what CI runs)
#   make lint                                            lint, format check and type check (CI runs it first)
#   make browser                                         Debian's chromium for the drawing-page test (CI runs it)
PYTHON ?= python3
VENV ?= .venv
DATA ?= data
RUNS ?= runs
BIN := $(VENV)/bin

.PHONY: demo test lint format install clean browser

install: $(VENV)/.installed

# Re-installs when pyproject.toml changes; torch/torchvision come from the pins in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $@

# One epoch is too short for augmentation to pay off (BENCHMARKS.md has both accuracies).
demo: install
	$(BIN)/python cli.py fit --config configs/mnist_cnn.yaml --run_name demo --runs_dir $(RUNS) \
		--data.data_dir $(DATA) --trainer.max_epochs 1 --data.augment false
	$(BIN)/python cli.py test --config configs/mnist_cnn.yaml --run_name demo --runs_dir $(RUNS) \
		--data.data_dir $(DATA) --ckpt_path best

test: install
	$(BIN)/python -m pytest

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
