#!/usr/bin/env bash
# Starts the local PostgreSQL cluster when it is not answering, and fails
# loudly when it still cannot be reached: tests never skip PostgreSQL.
set -euo pipefail
URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
ready() { pg_isready -q -d "$URL" 2>/dev/null; }
if ready; then exit 0; fi
if ls /etc/postgresql >/dev/null 2>&1; then
  echo "PostgreSQL is not running; starting it" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
for _ in $(seq 1 30); do
  if ready; then exit 0; fi
  sleep 1
done
echo "PostgreSQL is not reachable at $URL; the tests need it (set TEST_DATABASE_URL)" >&2
exit 1
