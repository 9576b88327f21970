"""Reads AWS config files the way the tools that use them do, and prints JSON.

Usage:
  python config_files.py parse FILE
      The file read by Python's configparser (strict: a section or key twice is an
      error): {"sections": {"profile x": {"role_arn": ...}, ...}, "order": [...]}.
  python config_files.py yaml FILE
      The YAML file read by PyYAML's safe loader, as JSON.
  python config_files.py whoami CONFIG PROFILE...
      For each profile, boto3 with AWS_CONFIG_FILE=CONFIG (and no credentials from the
      environment) calls sts GetCallerIdentity: {"PROFILE": {"Account": ..., "Arn":
      ...}, ...}. A profile that fails gives {"error": "..."}.
"""

import configparser
import json
import os
import sys


def parse(path):
    parser = configparser.RawConfigParser(strict=True, interpolation=None)
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    # RawConfigParser's default section is "DEFAULT": an AWS file's [default] is a
    # section like any other here.
    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    return {"sections": sections, "order": list(sections)}


def whoami(config, profiles):
    # Only the config file speaks: no credentials, profile or region from outside.
    for key in list(os.environ):
        if key.startswith("AWS_") and key != "AWS_ENDPOINT_URL":
            del os.environ[key]
    os.environ["AWS_CONFIG_FILE"] = config
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    import boto3

    out = {}
    for profile in profiles:
        try:
            session = boto3.Session(profile_name=profile)
            identity = session.client("sts").get_caller_identity()
            out[profile] = {"Account": identity["Account"], "Arn": identity["Arn"]}
        except Exception as e:  # noqa: BLE001 - reported to the test as data
            out[profile] = {"error": f"{type(e).__name__}: {e}"}
    return out


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "parse":
        result = parse(args[0])
    elif command == "yaml":
        import yaml

        with open(args[0], encoding="utf-8") as f:
            result = yaml.safe_load(f)
    elif command == "whoami":
        result = whoami(args[0], args[1:])
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
