# Two commands for a newcomer: `make lab` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: setup lab instructor-lab test lint dev-check release bench broker-up broker-down clean

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

setup: $(INSTALLED)

lab: setup  ## start the broker and open JupyterLab on lesson 01 (a learner's lab)
	$(BIN)/kafka-course broker up
	$(BIN)/kafka-course lab

instructor-lab: setup  ## JupyterLab on course/ with nbgrader's instructor tools
	$(BIN)/kafka-course broker up
	$(BIN)/kafka-course lab --instructor

LINTED := autograder tests bench docs course/source/*/wrong_answers

test: lint  ## lint, then every test against a real broker, `dev check` included
	$(BIN)/python -m pytest --durations=25

lint: setup  ## ruff, the format check and the type checker
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

dev-check: setup  ## the course's self-test gate against the running broker
	$(BIN)/kafka-course dev check

release: setup  ## regenerate notebooks/ and solutions/ from course/source
	$(BIN)/kafka-course release

bench: setup  ## benchmarks: print figures, never pass or fail
	$(BIN)/python bench/broker_start.py
	$(BIN)/python bench/producer_tuning.py
	$(BIN)/python bench/transactions.py
	$(BIN)/python bench/rebalance_pause.py
	$(BIN)/python bench/first_run.py

broker-up: setup
	$(BIN)/kafka-course broker up

broker-down: setup
	$(BIN)/kafka-course broker down

clean:
	rm -rf $(VENV) .pytest_cache
