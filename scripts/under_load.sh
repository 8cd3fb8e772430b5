#!/usr/bin/env bash
# Run a command while a busy loop keeps each core loaded, to catch timing assumptions.
# The loops are killed when the command ends (or fails, or is interrupted).
# Usage: scripts/under_load.sh SECONDS COMMAND [ARGS...]   (SECONDS bounds the command)
set -euo pipefail
limit="$1"
shift
busy=()
cleanup() {
    for pid in "${busy[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait "${busy[@]}" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq "$(nproc)"); do
    timeout "$((limit + 30))" bash -c 'while :; do :; done' &
    busy+=("$!")
done
timeout "$limit" "$@"
