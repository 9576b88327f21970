#!/usr/bin/env bash
# The PostgreSQL tests start a real server from Debian's packages (testkit::Postgres,
# on 127.0.0.1 in a temporary folder). Installs the packages when initdb is missing;
# instant on a machine that has them. Needs root or sudo, and apt (Debian/Ubuntu).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null || {
  echo "setup-postgres: PostgreSQL server binaries not found under /usr/lib/postgresql and no apt-get: install the PostgreSQL server (initdb, pg_ctl) with your package manager" >&2
  exit 1
}
echo "setup-postgres: installing PostgreSQL (Debian packages)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
