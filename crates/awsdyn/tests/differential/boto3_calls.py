"""Runs every call of ops.json through boto3 (the paginator's build_full_result when the
operation has one, as `census call` does) and prints {id: result} as JSON in awsdyn's
output convention: datetimes isoformat(), bytes base64, no ResponseMetadata. A failed
call gives {"__error__": code}."""
import base64
import datetime
import json
import sys

import boto3
import botocore.exceptions
from botocore.response import StreamingBody


def to_json(v):
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, StreamingBody):
        return base64.b64encode(v.read()).decode()
    raise TypeError(type(v).__name__)


def substitute(value, seeded):
    if isinstance(value, str) and value.startswith("$"):
        return seeded[value[1:]]
    if isinstance(value, dict):
        return {k: substitute(v, seeded) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, seeded) for v in value]
    return value


def main():
    ops = json.load(open(sys.argv[1]))
    seeded = json.loads(sys.argv[2])
    session = boto3.Session()
    out = {}
    for op in ops:
        client = session.client(op["service"], region_name=op.get("region", "eu-west-1"))
        name = botocore.xform_name(op["operation"])
        params = substitute(op.get("params", {}), seeded)
        try:
            if client.can_paginate(name):
                result = client.get_paginator(name).paginate(**params).build_full_result()
            else:
                result = getattr(client, name)(**params)
            result.pop("ResponseMetadata", None)
        except botocore.exceptions.ClientError as e:
            result = {"__error__": e.response["Error"]["Code"]}
        out[op["id"]] = result
    json.dump(out, sys.stdout, default=to_json)


if __name__ == "__main__":
    main()
