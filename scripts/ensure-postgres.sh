#!/usr/bin/env bash
# Makes a PostgreSQL server answer at 127.0.0.1:5432 for user `postgres` (trust on loopback only),
# with a database `test`, as the store tests expect. For test machines and CI only: it opens
# loopback connections without a password. Needs root and Debian's `postgresql` package.
# Does nothing when a server already answers there.
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  # A server answers: make sure the test database exists.
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" \
    | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
  exit 0
fi
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "ensure_postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure_postgres: no server at 127.0.0.1:5432 and not root, cannot start one" >&2
  exit 1
fi
cluster=$(pg_lsclusters --no-header | awk '$3 == 5432' | head -1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster --port 5432 "$version" vigil >/dev/null
  cluster=$(pg_lsclusters --no-header | awk '$3 == 5432' | head -1)
fi
read -r version name _ <<<"$cluster"
hba="/etc/postgresql/$version/$name/pg_hba.conf"
if ! grep -q "vigil-tests" "$hba"; then
  sed -i "1i host all postgres 127.0.0.1/32 trust  # vigil-tests\nhost all postgres ::1/128 trust  # vigil-tests" "$hba"
fi
pg_ctlcluster "$version" "$name" start 2>/dev/null || pg_ctlcluster "$version" "$name" reload
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432 -q
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
fi
