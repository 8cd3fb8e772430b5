#!/usr/bin/env bash
# Install netfleet and its development tools into ./.venv (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
# fake-switches (a conformance peer) pins Twisted<17 in its metadata; see pyproject.toml.
.venv/bin/python -m pip install -q --no-deps "fake-switches==1.5.0"
