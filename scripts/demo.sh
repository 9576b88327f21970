#!/usr/bin/env bash
# Census on a demo organization, no AWS account needed: starts moto (the AWS emulator)
# on a free 127.0.0.1 port, seeds it with an AWS Organization (5 member accounts in
# nested OUs, tagged, each with resources in 3 regions: EC2, S3, DynamoDB, SQS, SNS,
# Lambda, KMS, CloudWatch Logs, CloudFormation, IAM, Route 53), runs
# `census scan --org` against it, and prints where the results are.
#
#   scripts/demo.sh [extra census scan flags...]     e.g. scripts/demo.sh --preset all
#
# The core preset's calls that moto cannot serve are left out with --skip and named
# (see `skipped` below), so that the demo ends with exit status 0, as a scan of a real
# organization with the right permissions does.
#
# Results go to $CENSUS_DEMO_DIR (default: $TMPDIR/census-demo, emptied first, so the
# script can be run again and again). moto stops when the script ends, however it ends.
# Nothing here can reach real AWS: every inherited AWS_* variable is dropped, the
# credentials are moto's fake ones, and every endpoint is on 127.0.0.1.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
regions="us-east-1,eu-west-1,ap-southeast-2"
out="${CENSUS_DEMO_DIR:-${TMPDIR:-/tmp}/census-demo}"
target="${CARGO_TARGET_DIR:-$repo/target}"
# Calls of the core preset that moto 5.2.5 cannot serve: it answers ssm
# DescribeInstanceInformation with HTTP 500 (not implemented).
skipped="ssm:DescribeInstanceInformation"

# Python side: moto and boto3 in <repo>/.venv.
"$repo/scripts/setup-python.sh"
python="$repo/.venv/bin/python"

# Census: the release build if there is one, else a debug build.
if [ -x "$target/release/census" ]; then
    (cd "$repo" && cargo build --release -p census)
    census="$target/release/census"
else
    (cd "$repo" && cargo build -p census)
    census="$target/debug/census"
fi

# Only moto's fake credentials, only loopback.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^AWS_' || true)
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null TZ=UTC
# moto would otherwise load thousands of default AMIs into every account and region.
export MOTO_EC2_LOAD_DEFAULT_AMIS=false

rm -rf "$out"
mkdir -p "$out"

# moto_server.py binds a free port, prints {"port": N}, and exits when its stdin (this
# script's pipe) closes; the trap also stops it.
coproc MOTO { exec "$python" "$repo/crates/testkit/python/moto_server.py" 127.0.0.1 2>"$out/moto.log"; }
moto_pid=$MOTO_PID
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
IFS= read -r -t 60 line <&"${MOTO[0]}" || { echo "demo: moto did not start; see $out/moto.log" >&2; exit 1; }
port="$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' <<<"$line")"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
echo "demo: moto on $AWS_ENDPOINT_URL"

echo "demo: seeding an organization (5 member accounts, OUs, tags, resources in $regions)"
"$python" "$repo/crates/testkit/python/seed_org.py" \
    "{\"members\": 5, \"resource_accounts\": 5, \"iam_roles\": 3, \"regions\": [\"${regions//,/\", \"}\"]}" \
    >"$out/seeded-manifest.json"

echo "demo: leaving out what moto cannot serve: --skip $skipped"
echo "demo: $(basename "$census") scan --org --regions $regions --skip $skipped -o $out $*"
status=0
# From the output folder, so that no .env of the current folder is read.
(cd "$out" && "$census" scan --org --regions "$regions" --skip "$skipped" -o "$out" "$@") || status=$?

scan="$(find "$out" -mindepth 1 -maxdepth 1 -type d -name '2*' | sort | tail -n 1)"
if [ -z "$scan" ]; then
    echo "demo: census wrote no scan (exit $status)" >&2
    exit 1
fi
cat <<EOF

demo: census exited $status (0: complete; 2: finished, some calls failed)
demo: left out (moto cannot serve them): $skipped
demo: results in $scan
  accounts.json        the accounts found (OU paths, tags)
  summary.json         totals and every call's outcome
  <account>/<region|global>/<service>-<function>.json   one file per call
  $out/census.db       the SQLite store (try: $census query --help)
  $out/seeded-manifest.json   what the seed created, to compare
EOF
ls "$scan"
if [ "$status" = 2 ]; then
    echo
    echo "demo: failed calls, by operation (moto does not implement every operation AWS has):"
    "$python" - "$scan/summary.json" <<'PY'
import collections, json, sys
failed = collections.Counter()
for account in json.load(open(sys.argv[1]))["accounts"]:
    for call in account.get("calls", []):
        if call["status"] != "ok":
            failed[(call["service"], call["function"], call.get("error_code"))] += 1
for (service, function, code), n in sorted(failed.items()):
    print(f"  {service} {function}: {code} in {n} calls")
PY
fi
# The demo succeeds when the scan is complete; failed calls are listed above.
exit "$status"
