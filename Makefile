# The two commands of the README: `make run` and `make test`. Everything installs from PyPI/npm.
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
# `make run PORT=8080` (or HOST=0.0.0.0 with FRONTLINE_ENVIRONMENT=production behind TLS).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint format bench

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: .tools/bin/uv
	$(UV) sync --frozen --quiet

run: setup
	.venv/bin/frontline migrate
	.venv/bin/frontline demo
	.venv/bin/frontline serve --host $(HOST) --port $(PORT)

test: setup
	scripts/test

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
