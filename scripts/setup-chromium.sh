#!/usr/bin/env bash
# The HTML report's tests open the page in a real headless Chromium (Debian's
# `chromium` package). Installs it when missing; instant on a machine that has it.
# Needs root or sudo, and apt (Debian/Ubuntu); or set CHROMIUM to a Chromium binary.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null || {
  echo "setup-chromium: chromium not found and no apt-get: install Chromium with your package manager, or set CHROMIUM to its binary" >&2
  exit 1
}
echo "setup-chromium: installing Chromium (Debian package)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
