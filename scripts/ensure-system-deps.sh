#!/usr/bin/env bash
# Makes sure the servers and system packages the test suites use are there: installed when missing
# and the machine allows it (root with apt-get), started when installed but stopped.
# Suites check for themselves too: in CI (CI=true) a missing one fails, elsewhere it skips with a reason.
set -uo pipefail

can_install() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  if ! can_install; then
    echo "ensure-system-deps: $* missing and cannot be installed here (not root with apt-get)" >&2
    return 1
  fi
  echo "ensure-system-deps: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  [ -n "${_apt_updated:-}" ] || { apt-get update -qq >/dev/null && _apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}

# Java for the Spark suite.
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless

# Debian's Chromium for the dashboard's browser tests (driven by Playwright; no browser download).
command -v chromium >/dev/null 2>&1 || apt_install chromium

# A real Prometheus server scrapes /metrics in the server suite.
command -v prometheus >/dev/null 2>&1 || apt_install prometheus

# nginx as the load balancer in front of several servers in the fleet suite (tests/fleet). The
# suite runs its own nginx from a config in a tmp dir; the one Debian's package starts on port 80
# right after installing it is stopped again.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if apt_install nginx && [ -s /run/nginx.pid ]; then
    /usr/sbin/nginx -s quit 2>/dev/null || true
  fi
fi

# PostgreSQL on 127.0.0.1:5432 (user postgres, trust on loopback, database `test`) for the
# store tests: installed when missing, then a cluster started and the database created.
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  apt_install postgresql || true
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
  bash "$(dirname "$0")/ensure-postgres.sh" || echo "ensure-system-deps: PostgreSQL could not be started" >&2
fi
exit 0
