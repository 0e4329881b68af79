# The two commands: `make run` starts Virtool, `make test` runs the test suite. Both install what is missing.
SHELL := /bin/bash
VENV ?= .venv

.PHONY: run test install install-dev lint

run: install
	@bash bin/run

test: install-dev
	@bash bin/test $(PYTEST_ARGS)

install:
	@bash bin/bootstrap run

install-dev:
	@bash bin/bootstrap test

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
