"""What the kit's scripts share: boto3 sessions for the endpoint, and JSON output in
awsdyn's convention.

The environment comes from the Rust side (testkit::python): AWS_ENDPOINT_URL points
at moto or the fault proxy, credentials are moto's fake `testing` ones, TZ=UTC.
"""

import base64
import datetime
import json
import sys

import boto3
from botocore.config import Config
from botocore.response import StreamingBody

MEMBER_ROLE = "OrganizationAccountAccessRole"
# The trust policy of a role Lambda functions run as.
ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Caller:
    """Makes boto3 clients for one set of credentials. Every Caller shares one botocore
    session, so each service model is read from disk once per process, not once per
    account: that is most of the seeding's client-side time."""

    _shared = None

    def __init__(self, region="us-east-1", credentials=None, role_arn=None, endpoint=None):
        if Caller._shared is None:
            Caller._shared = boto3.Session()
        self.region = region
        # None means AWS_ENDPOINT_URL from the environment.
        self.endpoint = endpoint
        # None means the environment's credentials (moto's fake "testing" ones).
        self.credentials = credentials
        if role_arn:
            self.credentials = self.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName="testkit"
            )["Credentials"]

    def client(self, service, region=None, config=None):
        keys = {}
        if self.credentials:
            keys = {
                "aws_access_key_id": self.credentials["AccessKeyId"],
                "aws_secret_access_key": self.credentials["SecretAccessKey"],
                "aws_session_token": self.credentials.get("SessionToken"),
            }
        return Caller._shared.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint,
            config=config,
            **keys,
        )


def member_role_arn(account_id):
    return f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}"


def client_config(max_attempts=None, retry_mode="standard"):
    """Retries as given (boto3's standard mode by default), nothing else changed.
    max_attempts counts the first attempt (botocore's total_max_attempts; botocore's
    own "max_attempts" key counts retries only)."""
    retries = {"mode": retry_mode}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    return Config(retries=retries)


def to_json(value):
    """awsdyn's output convention: datetimes as isoformat() (TZ=UTC makes boto3's
    local-time datetimes +00:00), bytes and streaming bodies as base64."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, StreamingBody):
        return base64.b64encode(value.read()).decode("ascii")
    raise TypeError(f"cannot put {type(value).__name__} into JSON")


def emit(value):
    """Prints value as the script's one JSON document on stdout."""
    json.dump(value, sys.stdout, default=to_json)
    sys.stdout.write("\n")
    sys.stdout.flush()
