"""Seeds moto with resources whose configuration detail calls read, and prints a
manifest of what it made.

Usage: python seed_details.py ['<options JSON>']
  {"region": "us-east-1", "prefix": "census-details"}

As the caller's own account (moto's 123456789012; no organization needed), in one
region, it creates:
- bucket A (`<prefix>-a`): default encryption SSE-S3 (AES256), versioning on, a bucket
  policy, a public access block, ownership controls (BucketOwnerEnforced) and tags;
- bucket B (`<prefix>-b`): none of these;
- a DynamoDB table with tags;
- an SQS queue with attributes (MessageRetentionPeriod, VisibilityTimeout) and tags;
- an SNS topic with tags;
- an IAM role with an attached managed policy (one this script creates), an inline
  policy and tags;
- an IAM user with an access key (its secret is never printed);
- a KMS key with automatic rotation on;
- and, so that every curated detail call of the core preset has an item to run on: two
  Lambda functions (`<prefix>-fn-open` with a resource policy, `<prefix>-fn` without),
  an ECS cluster, an EKS cluster, a Secrets Manager secret (described, never read), a
  CloudTrail trail (logging to bucket A) and an application load balancer (in a VPC of
  its own), each tagged.

The manifest holds names, ARNs and the seeded values that tests compare with:
  {"account_id", "region", "buckets": {"a": {"name", "policy", "tags"}, "b": {"name"}},
   "table": {"name", "arn", "tags"}, "queue": {"name", "url", "attributes", "tags"},
   "topic": {"arn", "tags"}, "role": {"name", "arn", "attached_policies",
   "inline_policies", "tags"}, "user": {"name", "access_key_id"},
   "key": {"id", "arn", "rotation": true}, "functions": [{"name", "arn", "policy"}],
   "ecs_cluster": {"arn"}, "eks_cluster": {"name"}, "secret": {"arn"},
   "trail": {"arn"}, "load_balancer": {"arn"}}
"""

import io
import json
import sys
import zipfile

from common import Caller, emit


def tags(**kv):
    return [{"Key": k, "Value": str(v)} for k, v in kv.items()]


def policy_document(statement):
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def seed_buckets(caller, account_id, region, prefix):
    s3 = caller.client("s3", region)
    a = f"{prefix}-a"
    b = f"{prefix}-b"
    for bucket in (a, b):
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
    s3.put_bucket_encryption(
        Bucket=a,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=a, VersioningConfiguration={"Status": "Enabled"})
    policy = policy_document(
        {
            "Sid": "OwnerReads",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{a}/*",
        }
    )
    s3.put_bucket_policy(Bucket=a, Policy=policy)
    s3.put_public_access_block(
        Bucket=a,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=a, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    bucket_tags = tags(Owner="census", Purpose="details")
    s3.put_bucket_tagging(Bucket=a, Tagging={"TagSet": bucket_tags})
    return {"a": {"name": a, "policy": policy, "tags": bucket_tags}, "b": {"name": b}}


def seed_table(caller, region, prefix):
    table_tags = tags(Team="orders")
    table = caller.client("dynamodb", region).create_table(
        TableName=f"{prefix}-orders",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=table_tags,
    )["TableDescription"]
    return {"name": table["TableName"], "arn": table["TableArn"], "tags": table_tags}


def seed_queue(caller, region, prefix):
    sqs = caller.client("sqs", region)
    attributes = {"MessageRetentionPeriod": "86400", "VisibilityTimeout": "45"}
    queue_tags = {"Team": "jobs"}
    name = f"{prefix}-jobs"
    url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=queue_tags)["QueueUrl"]
    return {"name": name, "url": url, "attributes": attributes, "tags": queue_tags}


def seed_topic(caller, region, prefix):
    topic_tags = tags(Team="alerts")
    arn = caller.client("sns", region).create_topic(Name=f"{prefix}-alerts", Tags=topic_tags)[
        "TopicArn"
    ]
    return {"arn": arn, "tags": topic_tags}


def seed_iam(caller, prefix):
    iam = caller.client("iam")
    role_tags = tags(Team="platform")
    role = iam.create_role(
        RoleName=f"{prefix}-role",
        AssumeRolePolicyDocument=policy_document(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        Tags=role_tags,
    )["Role"]
    managed = iam.create_policy(
        PolicyName=f"{prefix}-read",
        PolicyDocument=policy_document({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}),
    )["Policy"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=managed["Arn"])
    inline = f"{prefix}-inline"
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName=inline,
        PolicyDocument=policy_document(
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
        ),
    )
    user = iam.create_user(UserName=f"{prefix}-user")["User"]
    # The secret is dropped here: only the key's id goes into the manifest.
    key_id = iam.create_access_key(UserName=user["UserName"])["AccessKey"]["AccessKeyId"]
    return (
        {
            "name": role["RoleName"],
            "arn": role["Arn"],
            "attached_policies": [{"PolicyName": managed["PolicyName"], "PolicyArn": managed["Arn"]}],
            "inline_policies": [inline],
            "tags": role_tags,
        },
        {"name": user["UserName"], "access_key_id": key_id},
    )


def seed_key(caller, region):
    kms = caller.client("kms", region)
    # A symmetric key (rotation needs one).
    key = kms.create_key(Description="census details key")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    return {"id": key["KeyId"], "arn": key["Arn"], "rotation": True}


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def seed_others(caller, region, prefix, role_arn, bucket):
    """One of each other resource the core preset's details read."""
    out = {"functions": []}
    lam = caller.client("lambda", region)
    code = lambda_zip()
    for name, open_to_sns in ((f"{prefix}-fn-open", True), (f"{prefix}-fn", False)):
        fn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": code},
            Tags={"Team": "functions"},
        )
        if open_to_sns:
            lam.add_permission(
                FunctionName=name,
                StatementId="sns-invokes",
                Action="lambda:InvokeFunction",
                Principal="sns.amazonaws.com",
            )
        out["functions"].append(
            {"name": name, "arn": fn["FunctionArn"], "policy": open_to_sns}
        )
    out["ecs_cluster"] = {
        "arn": caller.client("ecs", region).create_cluster(
            clusterName=f"{prefix}-ecs", tags=[{"key": "Team", "value": "containers"}]
        )["cluster"]["clusterArn"]
    }
    eks = caller.client("eks", region).create_cluster(
        name=f"{prefix}-eks",
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": []},
        tags={"Team": "containers"},
    )["cluster"]
    out["eks_cluster"] = {"name": eks["name"]}
    out["secret"] = {
        "arn": caller.client("secretsmanager", region).create_secret(
            Name=f"{prefix}-secret", SecretString="not-a-real-secret", Tags=tags(Team="apps")
        )["ARN"]
    }
    out["trail"] = {
        "arn": caller.client("cloudtrail", region).create_trail(
            Name=f"{prefix}-trail", S3BucketName=bucket, TagsList=tags(Team="audit")
        )["TrailARN"]
    }
    ec2 = caller.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{n}.0/24", AvailabilityZone=f"{region}{az}")[
            "Subnet"
        ]["SubnetId"]
        for n, az in ((1, "a"), (2, "b"))
    ]
    out["load_balancer"] = {
        "arn": caller.client("elbv2", region).create_load_balancer(
            Name=f"{prefix}-lb", Subnets=subnets, Tags=tags(Team="web")
        )["LoadBalancers"][0]["LoadBalancerArn"]
    }
    return out


def main():
    opts = {"region": "us-east-1", "prefix": "census-details"}
    opts.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    region = opts["region"]
    prefix = opts["prefix"]
    caller = Caller(region=region)
    account_id = caller.client("sts").get_caller_identity()["Account"]
    role, user = seed_iam(caller, prefix)
    buckets = seed_buckets(caller, account_id, region, prefix)
    manifest = {
        "account_id": account_id,
        "region": region,
        "buckets": buckets,
        "table": seed_table(caller, region, prefix),
        "queue": seed_queue(caller, region, prefix),
        "topic": seed_topic(caller, region, prefix),
        "role": role,
        "user": user,
        "key": seed_key(caller, region),
    }
    manifest.update(seed_others(caller, region, prefix, role["arn"], buckets["a"]["name"]))
    emit(manifest)


if __name__ == "__main__":
    main()
