# Two commands do everything, set-up included:
#   make demo DATA=<folder with the four MNIST files>   train the CNN for one epoch, test it
#   make test                                            run the test suite (what CI runs)
#   make lint                                            lint, format check and type check (CI runs it first)
PYTHON ?= python3
VENV ?= .venv
DATA ?= data
RUNS ?= runs
BIN := $(VENV)/bin

.PHONY: demo test lint format install clean

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

clean:
	rm -rf $(RUNS) .pytest_cache
