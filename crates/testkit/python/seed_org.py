"""Seeds moto with a demo AWS Organization, the way a real client would, and prints a
manifest of what it made.

Usage: python seed_org.py '<options JSON>'
  {"members": 8, "resource_accounts": 3, "suspended": 0,
   "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "iam_roles": 12}

As the management account (moto's 123456789012) it creates the organization, the OUs
Root/Workloads, Root/Workloads/Prod, Root/Workloads/Dev and Root/Sandbox, and the
member accounts (named, e-mailed and tagged), moved into the OUs in turn. The last
`suspended` members are closed (status SUSPENDED). In the first `resource_accounts`
members it assumes OrganizationAccountAccessRole and, acting as that member, creates
resources in each region (ec2, s3, dynamodb, sqs, sns, lambda, kms, logs,
cloudformation) and global ones (iam, route53).

The manifest lists only what this script created: moto also makes a default VPC,
subnets and security group in each region it is asked about, and
OrganizationAccountAccessRole in every member. Resource ids are grouped by account,
then region ("global" for IAM and Route53), then kind ("service:type").
"""

import io
import json
import sys
import zipfile

from common import ASSUME_LAMBDA, Caller, emit, member_role_arn

# Where members go, in turn; paths name OUs from the root.
PLACEMENTS = [
    "Root/Workloads/Prod",
    "Root/Workloads/Dev",
    "Root/Sandbox",
    "Root/Workloads",
    "Root",
]
ENVIRONMENT = {
    "Root/Workloads/Prod": "prod",
    "Root/Workloads/Dev": "dev",
    "Root/Sandbox": "sandbox",
    "Root/Workloads": "workloads",
    "Root": "shared",
}
STACK_TEMPLATE = json.dumps(
    {
        "Resources": {
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"TopicName": "cfn-notifications"},
            }
        }
    }
)


def tags(**kv):
    return [{"Key": k, "Value": str(v)} for k, v in kv.items()]


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create_org(opts):
    org = Caller().client("organizations")
    organization = org.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org.list_roots()["Roots"][0]["Id"]

    # OUs, parents before children.
    ou_ids = {"Root": root_id}
    ous = []
    for path in ["Root/Workloads", "Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Sandbox"]:
        parent, name = path.rsplit("/", 1)
        ou = org.create_organizational_unit(
            ParentId=ou_ids[parent], Name=name, Tags=tags(Path=path)
        )["OrganizationalUnit"]
        ou_ids[path] = ou["Id"]
        ous.append({"id": ou["Id"], "name": name, "path": path, "parent_id": ou_ids[parent]})

    management = org.describe_account(AccountId=organization["MasterAccountId"])["Account"]
    accounts = [
        {
            "id": management["Id"],
            "name": management["Name"],
            "email": management["Email"],
            "status": "ACTIVE",
            "ou_id": root_id,
            "ou_path": "Root",
            "tags": {},
        }
    ]
    for i in range(opts["members"]):
        path = PLACEMENTS[i % len(PLACEMENTS)]
        env = ENVIRONMENT[path]
        name = f"{env}-{i + 1:02d}"
        account_tags = {"Environment": env, "Owner": f"team-{i % 3}", "Index": str(i + 1)}
        status = org.create_account(
            AccountName=name,
            Email=f"{name}@census-demo.example",
            Tags=tags(**account_tags),
        )["CreateAccountStatus"]
        account_id = status["AccountId"]
        if path != "Root":
            org.move_account(
                AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou_ids[path]
            )
        accounts.append(
            {
                "id": account_id,
                "name": name,
                "email": f"{name}@census-demo.example",
                "status": "ACTIVE",
                "ou_id": ou_ids[path],
                "ou_path": path,
                "tags": account_tags,
            }
        )
    for account in accounts[len(accounts) - opts["suspended"]:] if opts["suspended"] else []:
        org.close_account(AccountId=account["id"])
        account["status"] = "SUSPENDED"

    return {
        "management_account_id": organization["MasterAccountId"],
        "organization_id": organization["Id"],
        "root_id": root_id,
        "ous": ous,
        "accounts": accounts,
    }


def seed_global(member, account_id, name, opts):
    """IAM and Route53, which have no region."""
    iam = member.client("iam")
    roles = []
    for i in range(opts["iam_roles"]):
        role = iam.create_role(
            RoleName=f"app-role-{i:02d}",
            Path="/census/",
            AssumeRolePolicyDocument=ASSUME_LAMBDA,
            Tags=tags(Team=f"team-{i % 3}"),
        )["Role"]
        roles.append(role["RoleName"])
    lambda_role = iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=ASSUME_LAMBDA)
    roles.append("lambda-exec")
    policies = []
    for i in range(2):
        policy = iam.create_policy(
            PolicyName=f"read-only-{i}",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
                }
            ),
        )["Policy"]
        policies.append(policy["Arn"])
    iam.attach_role_policy(RoleName=roles[0], PolicyArn=policies[0])
    users = []
    for i in range(3):
        iam.create_user(UserName=f"user-{i}", Tags=tags(Index=i))
        users.append(f"user-{i}")

    zone = member.client("route53").create_hosted_zone(
        Name=f"{name}.census-demo.example.", CallerReference=f"seed-{account_id}"
    )["HostedZone"]
    return (
        {
            "iam:role": roles,
            "iam:user": users,
            "iam:policy": policies,
            "route53:hosted-zone": [zone["Id"]],
        },
        lambda_role["Role"]["Arn"],
    )


def seed_region(member, account_id, region, k, lambda_role_arn, code):
    """One region's resources; k is the region's index (for CIDRs and counts)."""
    out = {}
    ec2 = member.client("ec2", region)
    vpc = ec2.create_vpc(
        CidrBlock=f"10.{k}.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name=f"main-{region}")}],
    )["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{k}.{n}.0/24", AvailabilityZone=f"{region}{az}")[
            "Subnet"
        ]["SubnetId"]
        for n, az in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)["GroupId"]
    # Two instances in the first region, one elsewhere.
    instances = ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MinCount=2 if k == 0 else 1,
        MaxCount=2 if k == 0 else 1,
        SubnetId=subnets[0],
        SecurityGroupIds=[sg],
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags(Name=f"app-{region}")}],
    )["Instances"]
    out["ec2:vpc"] = [vpc]
    out["ec2:subnet"] = subnets
    out["ec2:security-group"] = [sg]
    out["ec2:instance"] = [i["InstanceId"] for i in instances]

    s3 = member.client("s3", region)
    bucket = f"census-{account_id}-{region}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags(Owner=account_id)})
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello")
    out["s3:bucket"] = [bucket]

    table = member.client("dynamodb", region).create_table(
        TableName=f"orders-{k}",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=tags(Region=region),
    )["TableDescription"]["TableName"]
    out["dynamodb:table"] = [table]

    sqs = member.client("sqs", region)
    queues = []
    for q in ("jobs", "jobs-dlq"):
        sqs.create_queue(QueueName=q, tags={"Region": region})
        queues.append(q)
    out["sqs:queue"] = queues

    sns = member.client("sns", region)
    topic = sns.create_topic(Name="alerts", Tags=tags(Region=region))["TopicArn"]

    function = member.client("lambda", region).create_function(
        FunctionName="worker",
        Runtime="python3.12",
        Role=lambda_role_arn,
        Handler="index.handler",
        Code={"ZipFile": code},
        Tags={"Region": region},
    )["FunctionName"]
    out["lambda:function"] = [function]

    # An EC key: moto makes an RSA-2048 key for every other spec, ten times slower.
    key = member.client("kms", region).create_key(
        Description=f"demo key in {region}",
        KeySpec="ECC_NIST_P256",
        KeyUsage="SIGN_VERIFY",
        Tags=[{"TagKey": "Region", "TagValue": region}],
    )["KeyMetadata"]["KeyId"]
    out["kms:key"] = [key]

    logs = member.client("logs", region)
    groups = ["/aws/lambda/worker", "/census/app"]
    for g in groups:
        logs.create_log_group(logGroupName=g, tags={"Region": region})
    out["logs:log-group"] = groups

    stack = member.client("cloudformation", region).create_stack(
        StackName="demo-stack", TemplateBody=STACK_TEMPLATE, Tags=tags(Region=region)
    )["StackId"]
    out["cloudformation:stack"] = ["demo-stack"]
    out["cloudformation:stack-id"] = [stack]
    # The stack made a second topic.
    out["sns:topic"] = [topic, f"arn:aws:sns:{region}:{account_id}:cfn-notifications"]
    return out


def main():
    opts = {
        "members": 8,
        "resource_accounts": 3,
        "suspended": 0,
        "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
        "iam_roles": 12,
    }
    opts.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    if opts["resource_accounts"] + opts["suspended"] > opts["members"]:
        sys.exit("resource_accounts + suspended must not exceed members")

    manifest = create_org(opts)
    manifest["regions"] = opts["regions"]
    manifest["resources"] = {}
    code = lambda_zip()
    members = manifest["accounts"][1:]
    for account in members[: opts["resource_accounts"]]:
        # Act as the member, as an org-wide tool would.
        member = Caller(role_arn=member_role_arn(account["id"]))
        resources, lambda_role_arn = seed_global(member, account["id"], account["name"], opts)
        per_account = {"global": resources}
        for k, region in enumerate(opts["regions"]):
            per_account[region] = seed_region(member, account["id"], region, k, lambda_role_arn, code)
        manifest["resources"][account["id"]] = per_account
    emit(manifest)


if __name__ == "__main__":
    main()
