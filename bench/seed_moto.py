"""Seeds a running moto with an organization for the scan benchmarks and the demo, and
prints a manifest (JSON) of what it made.

Usage: python bench/seed_moto.py '<options JSON>'
  {"members": 50, "regions": ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"],
   "iam_roles": 3, "threads": 4}

The organization (OUs, named and tagged member accounts) is made by the test kit's
crates/testkit/python/seed_org.py (`create_org`). Then every member gets, acting as
itself through OrganizationAccountAccessRole, a few resources for each call of
bench/scans/bench11.json:

- global: `iam_roles` tagged roles plus the lambda execution role;
- per region: a VPC with a subnet and a security group, one t3.micro instance, an S3
  bucket, two SQS queues, an SNS topic, a DynamoDB table and a Lambda function, all
  tagged (so that the tagging API has something to return).

Members are seeded by `threads` workers, each with its own boto3 session (sessions are
not thread-safe). The environment gives the endpoint (AWS_ENDPOINT_URL) and moto's
fake credentials; nothing here can reach real AWS unless the caller points it there.
"""

import concurrent.futures
import io
import json
import os
import sys
import threading
import zipfile

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "crates", "testkit", "python"))

from seed_org import ASSUME_LAMBDA, create_org  # noqa: E402

MEMBER_ROLE = "OrganizationAccountAccessRole"
_local = threading.local()


def session():
    if not hasattr(_local, "session"):
        _local.session = boto3.Session()
    return _local.session


def tags(**kv):
    return [{"Key": k, "Value": str(v)} for k, v in kv.items()]


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def member_clients(account_id):
    """A function making clients that act as the member (AssumeRole from management)."""
    sts = session().client("sts", region_name="us-east-1")
    c = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}", RoleSessionName="bench-seed"
    )["Credentials"]

    def client(service, region="us-east-1"):
        return session().client(
            service,
            region_name=region,
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
        )

    return client


def seed_member(account, opts, code):
    account_id = account["id"]
    client = member_clients(account_id)
    made = {"global": {}}
    iam = client("iam")
    roles = []
    for i in range(opts["iam_roles"]):
        iam.create_role(
            RoleName=f"app-role-{i:02d}",
            AssumeRolePolicyDocument=ASSUME_LAMBDA,
            Tags=tags(Team=f"team-{i % 3}"),
        )
        roles.append(f"app-role-{i:02d}")
    role_arn = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=ASSUME_LAMBDA)[
        "Role"
    ]["Arn"]
    roles.append("lambda-exec")
    made["global"]["iam:role"] = roles
    for k, region in enumerate(opts["regions"]):
        out = {}
        ec2 = client("ec2", region)
        vpc = ec2.create_vpc(
            CidrBlock=f"10.{k}.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name=f"main-{region}")}],
        )["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.{k}.1.0/24", AvailabilityZone=f"{region}a"
        )["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)[
            "GroupId"
        ]
        instance = ec2.run_instances(
            ImageId="ami-12c6146b",
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet,
            SecurityGroupIds=[sg],
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags(Name=f"app-{region}")}],
        )["Instances"][0]["InstanceId"]
        out["ec2:vpc"], out["ec2:subnet"], out["ec2:security-group"] = [vpc], [subnet], [sg]
        out["ec2:instance"] = [instance]

        s3 = client("s3", region)
        bucket = f"bench-{account_id}-{region}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags(Owner=account_id)})
        out["s3:bucket"] = [bucket]

        sqs = client("sqs", region)
        out["sqs:queue"] = []
        for q in ("jobs", "jobs-dlq"):
            sqs.create_queue(QueueName=q, tags={"Region": region})
            out["sqs:queue"].append(q)
        out["sns:topic"] = [
            client("sns", region).create_topic(Name="alerts", Tags=tags(Region=region))[
                "TopicArn"
            ]
        ]
        out["dynamodb:table"] = [
            client("dynamodb", region).create_table(
                TableName=f"orders-{k}",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=tags(Region=region),
            )["TableDescription"]["TableName"]
        ]
        out["lambda:function"] = [
            client("lambda", region).create_function(
                FunctionName="worker",
                Runtime="python3.12",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": code},
                Tags={"Region": region},
            )["FunctionName"]
        ]
        made[region] = out
    return account_id, made


def main():
    opts = {
        "members": 50,
        "regions": ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"],
        "iam_roles": 3,
        "threads": 4,
    }
    opts.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    opts["suspended"] = 0
    manifest = create_org(opts)
    manifest["regions"] = opts["regions"]
    code = lambda_zip()
    members = manifest["accounts"][1:]
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts["threads"]) as pool:
        done = pool.map(lambda a: seed_member(a, opts, code), members)
        manifest["resources"] = dict(done)
    json.dump(manifest, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
