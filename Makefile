# The two commands: `make run` starts Virtool, `make test` runs the test suite. Both install what is missing.
SHELL := /bin/bash
VENV ?= .venv

.PHONY: run test install install-dev lint lock

run: install
	@bash bin/run

test: install-dev
	@bash bin/test $(PYTEST_ARGS)

install:
	@bash bin/bootstrap run

install-dev:
	@bash bin/bootstrap test

# mypy loads the settings, which create the data folder: it gets a temporary one (removed after), never ./data.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	data=$$(mktemp -d) && trap 'rm -rf "$$data"' EXIT && VIRTOOL_DATA_PATH=$$data $(VENV)/bin/mypy .

# Remake the locks (every package, pinned, with its hashes, for every platform) after editing a requirements*.in file.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11
lock: install-dev
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -c requirements.txt -o requirements-dev.txt
