#!/usr/bin/env python3
"""Seeds the fuzz corpora (fuzz/corpus/<target>/) from the repository's test data.

    python3 fuzz/seed.py            # add the seeds to fuzz/corpus/<target>/
    python3 fuzz/seed.py --out DIR  # write them to DIR/<target>/ instead

- response_<protocol>: every case of botocore's response vectors
  (tests/data/protocols/output and legacy/output: status, headers, body, result or
  error), addressed to its own operation; then, for each bundled operation of
  awsdyn::fuzzing::BUNDLED of that protocol, a success and an error body of the
  protocol taken from the vectors.
- endpoint: every case of the endpoint vectors (tests/data/endpoints), `params` and
  `operationInputs`, with its service; and a few small hand-written rule sets that
  use every function of the rules language.
- scan_file: the scan files of the repository (crates/census/tests/scans,
  bench/scans, the core preset) and the other forms aws-auto-inventory reads.
- result_key: census::spec::fuzzing::FILTERS and a few other filters as filter
  text, and the vectors' results as JSON for each of them.

The input formats are documented in crates/awsdyn/src/fuzzing.rs and
crates/census/src/spec/fuzzing.rs; this script mirrors the order in which
awsdyn::fuzzing::Responses numbers the operations (vector files in name order,
output/ before legacy/output/, suites and cases in file order, then BUNDLED).
Files are named by the SHA-1 of their content, as libFuzzer names them, so running
the script again adds nothing twice.
"""

import argparse
import hashlib
import json
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
PROTOCOLS = ["query", "ec2", "json", "rest-json", "rest-xml"]


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0


def vector_suites():
    """Every response-vector suite, in the order awsdyn::fuzzing::Responses reads them."""
    for sub in ["output", os.path.join("legacy", "output")]:
        d = os.path.join(DATA, "protocols", sub)
        for name in sorted(os.listdir(d)):
            if name.endswith(".json"):
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    yield from json.load(f)


def bundled():
    """awsdyn::fuzzing::BUNDLED: (protocol, service, operation), from the source."""
    src = open(os.path.join(ROOT, "crates", "awsdyn", "src", "fuzzing.rs"), encoding="utf-8").read()
    block = src[src.index("pub const BUNDLED"):]
    block = block[: block.index("];")]
    protocol, out = None, []
    for line in block.splitlines():
        line = line.strip()
        m = re.fullmatch(r"// (\S+)", line)
        if m:
            protocol = m.group(1)
            continue
        m = re.fullmatch(r'\("([^"]+)", "([^"]+)"\),', line)
        if m:
            out.append((protocol, m.group(1), m.group(2)))
    return out


def message(pick, status, headers, body):
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return struct.pack("<HH", pick % 65536, status % 65536) + head.encode() + b"\n" + b"\n" + body


def seed_responses(out):
    n = 0
    for protocol in PROTOCOLS:
        target = "response_" + protocol.replace("-", "_")
        index = 0
        ok_bodies, error_bodies = [], []
        for suite in vector_suites():
            if suite.get("metadata", {}).get("protocol") != protocol:
                continue
            for case in suite.get("cases", []):
                resp = case.get("response", {})
                headers = [
                    (k, v if isinstance(v, str) else json.dumps(v))
                    for k, v in (resp.get("headers") or {}).items()
                ]
                body = (resp.get("body") or "").encode()
                status = resp.get("status_code", 200)
                n += write(out, target, message(index, status, headers, body))
                is_error = "error" in case or "errorCode" in case
                (error_bodies if is_error else ok_bodies).append((status, headers, body))
                index += 1
        ops = [b for b in bundled() if b[0] == protocol]
        for j, _ in enumerate(ops):
            for k, (status, headers, body) in enumerate(
                [ok_bodies[(j * 7) % len(ok_bodies)], error_bodies[(j * 5) % len(error_bodies)]]
            ):
                n += write(out, target, message(index + j, status, headers, body))
    return n


# Small rule sets that between them use every function and rule form of the
# endpoint rules language; resolved with the parameters given.
RULE_SETS = [
    {
        "version": "1.0",
        "parameters": {
            "Region": {"type": "String", "builtIn": "AWS::Region", "required": False},
            "UseFIPS": {"type": "Boolean", "builtIn": "AWS::UseFIPS", "required": True, "default": False},
            "Endpoint": {"type": "String", "builtIn": "SDK::Endpoint", "required": False},
        },
        "rules": [
            {
                "conditions": [{"fn": "isSet", "argv": [{"ref": "Endpoint"}]}],
                "rules": [
                    {
                        "conditions": [{"fn": "parseURL", "argv": [{"ref": "Endpoint"}], "assign": "url"}],
                        "endpoint": {"url": "{url#scheme}://{url#authority}{url#normalizedPath}", "properties": {}, "headers": {}},
                        "type": "endpoint",
                    },
                    {"conditions": [], "error": "Invalid endpoint {Endpoint}", "type": "error"},
                ],
                "type": "tree",
            },
            {
                "conditions": [
                    {"fn": "isSet", "argv": [{"ref": "Region"}]},
                    {"fn": "aws.partition", "argv": [{"ref": "Region"}], "assign": "p"},
                ],
                "rules": [
                    {
                        "conditions": [
                            {"fn": "booleanEquals", "argv": [{"ref": "UseFIPS"}, True]},
                            {"fn": "booleanEquals", "argv": [True, {"fn": "getAttr", "argv": [{"ref": "p"}, "supportsFIPS"]}]},
                        ],
                        "endpoint": {
                            "url": "https://svc-fips.{Region}.{p#dnsSuffix}",
                            "properties": {"authSchemes": [{"name": "sigv4", "signingName": "svc", "signingRegion": "{Region}"}]},
                            "headers": {"x-a": ["{Region}", "b"]},
                        },
                        "type": "endpoint",
                    },
                    {
                        "conditions": [{"fn": "stringEquals", "argv": [{"fn": "getAttr", "argv": [{"ref": "p"}, "name"]}, "aws"]}],
                        "endpoint": {"url": "https://svc.{Region}.{p#dnsSuffix}", "properties": {}, "headers": {}},
                        "type": "endpoint",
                    },
                    {"conditions": [], "endpoint": {"url": "https://svc.{Region}.{p#dualStackDnsSuffix}"}, "type": "endpoint"},
                ],
                "type": "tree",
            },
            {"conditions": [], "error": "Invalid Configuration: Missing Region", "type": "error"},
        ],
    },
    {
        "version": "1.0",
        "parameters": {
            "Bucket": {"type": "String", "required": False},
            "Arn": {"type": "String", "required": False},
            "Tags": {"type": "StringArray", "required": False, "default": ["a", "b"]},
            "Flag": {"type": "Boolean", "required": False},
        },
        "rules": [
            {
                "conditions": [
                    {"fn": "isSet", "argv": [{"ref": "Arn"}]},
                    {"fn": "aws.parseArn", "argv": [{"ref": "Arn"}], "assign": "arn"},
                    {"fn": "getAttr", "argv": [{"ref": "arn"}, "resourceId[1]"], "assign": "name"},
                    {"fn": "isValidHostLabel", "argv": [{"ref": "name"}, False]},
                    {"fn": "not", "argv": [{"fn": "stringEquals", "argv": [{"fn": "getAttr", "argv": [{"ref": "arn"}, "region"]}, ""]}]},
                ],
                "endpoint": {"url": "https://{name}.{arn#region}.example.com/{arn#resourceId[0]}", "properties": {"p": {"list": ["{arn#accountId}", True, 3]}}},
                "type": "endpoint",
            },
            {
                "conditions": [
                    {"fn": "isSet", "argv": [{"ref": "Bucket"}]},
                    {"fn": "aws.isVirtualHostableS3Bucket", "argv": [{"ref": "Bucket"}, True]},
                    {"fn": "substring", "argv": [{"ref": "Bucket"}, 0, 4, True], "assign": "tail"},
                    {"fn": "uriEncode", "argv": [{"ref": "Bucket"}], "assign": "enc"},
                ],
                "endpoint": {"url": "https://{Bucket}.s3.example.com/{enc}?t={tail}"},
                "type": "endpoint",
            },
            {
                "conditions": [
                    {"fn": "getAttr", "argv": [{"ref": "Tags"}, "[0]"], "assign": "first"},
                    {"fn": "not", "argv": [{"fn": "isSet", "argv": [{"ref": "Flag"}]}]},
                    {"fn": "stringEquals", "argv": [{"ref": "first"}, "a"]},
                ],
                "endpoint": {"url": "https://{first}.{Tags#[1]}.example.com"},
                "type": "endpoint",
            },
            {"conditions": [], "error": "no match for {Bucket}", "type": "error"},
        ],
    },
]


def seed_endpoint(out):
    n = 0
    d = os.path.join(DATA, "endpoints")
    for service in sorted(os.listdir(d)):
        path = os.path.join(d, service, "endpoint-tests-1.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            cases = json.load(f).get("testCases", [])
        for case in cases:
            doc = {"service": service}
            for key in ["params", "operationInputs"]:
                if key in case:
                    doc[key] = case[key]
            n += write(out, "endpoint", json.dumps(doc, separators=(",", ":")).encode())
    params = [
        {"Region": "us-east-1"},
        {"Region": "us-gov-west-1", "UseFIPS": True},
        {"Region": "cn-north-1", "Endpoint": "https://example.com:8443/a/b"},
        {"Endpoint": "http://[::1]:80"},
        {"Arn": "arn:aws:s3:us-west-2:123456789012:accesspoint:myendpoint"},
        {"Bucket": "my.bucket-name", "Flag": True},
        {"Tags": ["x"], "Flag": False},
    ]
    for rules in RULE_SETS:
        for p in params:
            doc = {"service": "sts", "ruleSet": rules, "params": p}
            n += write(out, "endpoint", json.dumps(doc, separators=(",", ":")).encode())
    return n


def seed_scan_file(out):
    n = 0
    files = [
        os.path.join(ROOT, "crates", "census", "presets", "core.json"),
    ]
    for d in [os.path.join(ROOT, "crates", "census", "tests", "scans"), os.path.join(ROOT, "bench", "scans")]:
        files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".json")]
    entries = []
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        n += write(out, "scan_file", data)
        v = json.loads(data)
        if isinstance(v, list):
            entries += v
    extra = [
        {"sheets": entries[:3]},
        {"inventories": [{"name": "a", "sheets": entries[3:5]}, {"sheets": entries[5:6]}]},
        [{"service": "ec2", "function": "DescribeInstances", "parameters": {"Filters": [{"Name": "tag:Name", "Values": ["a"]}], "MaxResults": 5}, "result_key": ".Reservations[]"}],
        [{"service": "Resource Groups Tagging API", "function": "get-resources", "parameters": None, "result_key": ""}],
        [{"service": "s3", "function": "list_objects_v2", "parameters": {"Bucket": "b", "Prefix": "p/"}}],
        [{"service": "ec2", "function": "terminate_instances", "parameters": {"InstanceIds": ["i-1"]}}],
        [{"service": "ec3", "function": "describe_instances"}, {"service": "ec2", "function": "get_paginator"}],
        [{"service": "ec2", "function": "describe_instances", "paramters": {}}, {"service": "s3", "function": "list_buckets", "resultKey": "x"}],
        [{"service": "dynamodb", "function": "query", "parameters": {"TableName": "t", "KeyConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}}],
        [{"service": "cloudwatch", "function": "get_metric_data", "parameters": {"MetricDataQueries": [{"Id": "a", "Expression": "1"}], "StartTime": "2024-01-01T00:00:00Z", "EndTime": 1704067200}}],
        [{"service": "ec2", "function": "describe_instances", "result_key": ".Reservations | .["}],
        [{"service": "lambda", "function": "list_functions", "result_key": 3}],
        "[\ufeff]",
    ]
    for v in extra:
        n += write(out, "scan_file", json.dumps(v, indent=1).encode())
    n += write(out, "scan_file", b"\xef\xbb\xbf" + json.dumps(entries[:2]).encode())
    return n


def filters():
    src = open(os.path.join(ROOT, "crates", "census", "src", "spec", "fuzzing.rs"), encoding="utf-8").read()
    block = src[src.index("pub const FILTERS"):]
    block = block[block.index("= &[") + 4: block.index("\n];")]
    return [json.loads(line.strip().rstrip(",")) for line in block.splitlines() if line.strip()]


def seed_result_key(out):
    n = 0
    fs = filters()
    extra = [
        ".a[]", ".x = env", ".x = $ENV", ". | input", ".a | halt", ".a | error(\"boom\")",
        "def f: .; f", "reduce .[] as $x (0; . + $x)", "[limit(3; .[])]", "label $out | foreach .[] as $i (0; .+1; if . > 2 then ., break $out else . end)",
        ".a as [$x, {b: $y}] | $x", "try error(\"x\") catch .", "if . then 1 elif .a then 2 else 3 end",
        ".[1:3]", ".a?.b?", "@json \"x\\(.)\"", "\"\\u00e9\" | explode | implode", "$__loc__", "getpath([\"a\",0])",
    ]
    for text in fs + extra:
        n += write(out, "result_key", b"\x00" + text.encode())
    results = []
    for suite in vector_suites():
        for case in suite.get("cases", []):
            if isinstance(case.get("result"), dict) and case["result"]:
                results.append(case["result"])
    results.append({"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Key": "Name", "Value": "web"}]}]}],
                    "Buckets": [{"Name": "a", "CreationDate": "2024-01-02T03:04:05+00:00"}],
                    "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "IsDefault": True}],
                    "Contents": [{"Key": "k", "StorageClass": "STANDARD"}]})
    for i, result in enumerate(results):
        pick = i % len(fs)
        n += write(out, "result_key", b"\x01" + bytes([pick]) + json.dumps(result).encode())
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "fuzz", "corpus"))
    args = ap.parse_args()
    for name, fn in [
        ("response_*", seed_responses),
        ("endpoint", seed_endpoint),
        ("scan_file", seed_scan_file),
        ("result_key", seed_result_key),
    ]:
        print(f"{name}: {fn(args.out)} new seeds")


if __name__ == "__main__":
    main()
