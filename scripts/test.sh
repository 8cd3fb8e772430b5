#!/usr/bin/env bash
# Run the whole test suite (starts PostgreSQL first if it is installed and down).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || ./scripts/setup.sh
./scripts/start-postgres.sh
exec .venv/bin/python -m pytest "$@"
