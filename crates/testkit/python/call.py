"""boto3 calls, printed the way awsdyn prints results.

Usage:
  python call.py '<request JSON>'   one call, one JSON document on stdout
  python call.py --serve            one request per stdin line, one answer per stdout
                                    line, until stdin closes (the Rust kit's workers)

A request:
  {"service": "ec2", "operation": "DescribeInstances" or "describe_instances",
   "params": {...}, "region": "us-east-1", "paginate": false, "endpoint": null,
   "role_arn": null, "credentials": null, "max_attempts": null, "retry_mode": "standard"}
"endpoint" defaults to AWS_ENDPOINT_URL. With "paginate" the paginator's
build_full_result() is printed. ResponseMetadata is dropped.

An answer:
  {"result": {...}, "retry_attempts": N, "requests": N}   success (retry_attempts is
                                                          null when paginated)
  {"error": {"Code", "Message", "HTTPStatusCode", "RequestId", "RetryAttempts"},
   "requests": N}                                         an AWS error (ClientError)
  {"crash": "<traceback>"}                                anything else, e.g. bad
                                                          parameters or no connection
"requests" counts the HTTP requests boto3 sent, retries and pages included (not the
AssumeRole of "role_arn", which is made with a client of its own; an AssumeRole that
fails is reported as the call's error).
"""

import json
import sys
import traceback

from botocore import xform_name
from botocore.exceptions import ClientError

from common import Caller, client_config, emit


def call(request):
    sent = {"n": 0}

    def count(**_):
        sent["n"] += 1

    operation = xform_name(request["operation"])
    params = request.get("params") or {}
    try:
        # Inside the try: an AssumeRole that fails is the call's AWS error.
        caller = Caller(
            region=request.get("region") or "us-east-1",
            credentials=request.get("credentials"),
            role_arn=request.get("role_arn"),
            endpoint=request.get("endpoint"),
        )
        client = caller.client(
            request["service"],
            config=client_config(
                request.get("max_attempts"), request.get("retry_mode") or "standard"
            ),
        )
        client.meta.events.register("before-send", count)
        if request.get("paginate"):
            result = client.get_paginator(operation).paginate(**params).build_full_result()
            retries = None  # spread over pages: see "requests"
        else:
            result = getattr(client, operation)(**params)
            retries = result.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    except ClientError as e:
        meta = e.response.get("ResponseMetadata", {})
        error = dict(e.response.get("Error", {}))
        error["HTTPStatusCode"] = meta.get("HTTPStatusCode")
        error["RequestId"] = meta.get("RequestId")
        error["RetryAttempts"] = meta.get("RetryAttempts", 0)
        return {"error": error, "requests": sent["n"]}
    result.pop("ResponseMetadata", None)
    return {"result": result, "retry_attempts": retries, "requests": sent["n"]}


def answer(request):
    try:
        return call(request)
    except Exception:  # reported to the Rust side, which panics with it
        return {"crash": traceback.format_exc()}


def main():
    if sys.argv[1:] == ["--serve"]:
        for line in sys.stdin:
            if line.strip():
                emit(answer(json.loads(line)))
        return
    reply = answer(json.loads(sys.argv[1]))
    emit(reply)
    if "crash" in reply:
        sys.exit(1)


if __name__ == "__main__":
    main()
