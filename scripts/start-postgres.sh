#!/usr/bin/env bash
# Start the local PostgreSQL cluster if it is installed and not answering (tests use 127.0.0.1:5432).
set -uo pipefail
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
    exit 0
fi
if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
        sleep 1
    done
    echo "start-postgres: PostgreSQL did not become ready on 127.0.0.1:5432" >&2
    exit 1
fi
echo "start-postgres: no local PostgreSQL installed; PostgreSQL tests will be skipped" >&2
exit 0
