#!/usr/bin/env bash
# Creates <repo>/.venv with the test kit's pinned Python packages (moto's server and
# boto3, crates/testkit/python/requirements.txt). Idempotent: when the venv exists and
# its stamp holds the hash of the requirements and the interpreter's version, it
# returns at once. Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$repo/crates/testkit/python/requirements.txt"
venv="$repo/.venv"
stamp="$venv/.testkit-requirements.stamp"
python="${PYTHON:-python3}"

command -v "$python" >/dev/null || {
    echo "setup-python: $python not found; install Python 3 (with venv and pip)" >&2
    exit 1
}
want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"

# Quick path: same requirements, same Python, and the venv's interpreter still runs.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c '' 2>/dev/null; then
    exit 0
fi

echo "setup-python: installing the test kit's packages into $venv"
rm -f "$stamp"
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
"$venv/bin/python" -c 'import boto3, moto.server' # fail here, not in the tests
echo "$want" > "$stamp"
echo "setup-python: done ($("$venv/bin/python" -c 'import moto, boto3; print("moto", moto.__version__, "boto3", boto3.__version__)'))"
