#!/usr/bin/env bash
# Run the whole test suite (starts PostgreSQL first if it is installed and down).
# NETFLEET_TEST_JOBS=N runs the tests in N processes (pytest-xdist; each has its own
# PostgreSQL database and temporary directories). Unset: one process.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || ./scripts/setup.sh
./scripts/start-postgres.sh
jobs=()
if [ -n "${NETFLEET_TEST_JOBS:-}" ] && [ "${NETFLEET_TEST_JOBS}" != 1 ]; then
    jobs=(-n "$NETFLEET_TEST_JOBS")
fi
exec .venv/bin/python -m pytest "${jobs[@]}" "$@"
