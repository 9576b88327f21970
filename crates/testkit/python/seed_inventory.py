"""Seeds moto with the resources the inventory's acceptance tests look for (issue 13),
the way a real client would, and prints a manifest of every resource with its ARN, its
tags and the links between them.

Usage: python seed_inventory.py '<options JSON>'
  {"organization": true, "members": 2, "regions": ["us-east-1", "eu-west-1"]}
  {"organization": false, "regions": ["cn-north-1"]}

With "organization", the management account (moto's 123456789012) creates an
organization and `members` member accounts; the first member, acting through
OrganizationAccountAccessRole, gets the resources; the others get none. Without it,
the caller's own account gets them, in the partition of its first region (moto keeps
aws, aws-cn and aws-us-gov apart: a cn-north-1 client sees `arn:aws-cn:` ARNs).

In the resource account, per region: two VPCs, a subnet in each, a security group in
each, a reservation of two instances (subnet and group of the first VPC) and one of
one instance (the second VPC's), two volumes (one attached), two buckets, queues,
topics, tables (one encrypted with a KMS key), functions (each with its IAM role) and
KMS keys; once per account: the IAM roles. Of each kind one or more are tagged
(Environment, Owner with a non-ASCII value, Name where EC2 shows one, a tag with an
empty value on some) and one or more are "untagged": without Environment and Owner
(some keep a Name or another tag).

The manifest lists every resource of those kinds that exists in every account and
region it names, as boto3 lists them after seeding: the seeded ones, and moto's own
("seeded": false: default VPCs, subnets and security groups, instances' root volumes,
OrganizationAccountAccessRole). Each with its inventory type (`ec2:Instance`), account,
region (`global` for IAM roles; a bucket's is its location), id, ARN (as boto3 reports
it, else as AWS documents it: `arn:<partition>:ec2:<region>:<account>:instance/<id>`,
`arn:<partition>:s3:::<bucket>`), tags as boto3 reads them back, name (the Name tag,
else the name its API gives it: a bucket's, queue's, topic's, table's, function's,
role's, security group's; none for keys and other EC2 resources), and for seeded ones
whether they are untagged. `links` holds the expected (from ARN, to ARN) pairs with
the member that names the target (instance -> subnet, instance -> security group,
subnet -> VPC, security group -> VPC, function -> role, volume -> instance, table ->
KMS key).
"""

import io
import json
import sys
import zipfile

from common import ASSUME_LAMBDA, Caller, emit, member_role_arn


# The owner's value is not ASCII, on purpose.
OWNER = "équipe-données"


def tag_list(kv, key="Key", value="Value"):
    return [{key: k, value: v} for k, v in kv.items()]


def tag_dict(tags, key="Key", value="Value"):
    return {t[key]: t.get(value, "") for t in tags or []}


def tagged(env, name=None, **more):
    tags = {"Environment": env, "Owner": OWNER}
    if name is not None:
        tags["Name"] = name
    tags.update(more)
    return tags


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def own_name(kind, rid, arn):
    """The name a resource has as its API names it (without a Name tag): a bucket's,
    queue's (its URL's last part), topic's (its ARN's), table's, function's, role's;
    none for keys and for EC2 resources but security groups (their GroupName)."""
    if kind in ("s3:Bucket", "dynamodb:Table", "lambda:Function", "iam:Role"):
        return rid
    if kind == "sqs:Queue":
        return rid.rsplit("/", 1)[-1]
    if kind == "sns:Topic":
        return arn.rsplit(":", 1)[-1]
    return None


class Manifest:
    def __init__(self, partition):
        self.partition = partition
        self.resources = []
        self.links = []
        # (kind, account, region, id) of what this script made.
        self.made = set()

    def add(self, kind, account, region, rid, arn, tags, seeded, untagged=False, name=None):
        arn, moto_arn = self.checked(arn)
        self.resources.append(
            {
                "kind": kind,
                "account_id": account,
                "region": region,
                "id": rid,
                "arn": arn,
                "moto_arn": moto_arn,
                "name": (tags or {}).get("Name") or name or own_name(kind, rid, arn),
                "tags": tags,
                "seeded": seeded,
                "untagged": untagged,
            }
        )

    def checked(self, arn):
        """(the ARN, what moto reported instead): moto 5 writes subnets' and security
        groups' ARNs with a fixed `arn:aws:` in every partition, where AWS writes the
        region's partition; those get the partition put right, and moto's kept."""
        prefix = f"arn:{self.partition}:"
        if arn.startswith(prefix):
            return arn, None
        return prefix + arn.split(":", 2)[2], arn

    def seed(self, kind, account, region, rid, arn, tags, name=None):
        """A resource this script made; untagged when it lacks Environment and Owner."""
        self.made.add((kind, account, region, rid))
        untagged = "Environment" not in tags and "Owner" not in tags
        self.add(kind, account, region, rid, arn, tags, True, untagged, name)

    def link(self, member, source, target):
        self.links.append(
            {"member": member, "from_arn": self.checked(source)[0], "to_arn": self.checked(target)[0]}
        )

    def ec2_arn(self, region, account, kind, rid):
        return f"arn:{self.partition}:ec2:{region}:{account}:{kind}/{rid}"


def seed_roles(m, member, account):
    """IAM roles (global): one tagged, one untagged; both assumable by Lambda."""
    iam = member.client("iam")
    roles = {}
    for name, tags in (
        ("inventory-worker", tagged("prod", Team="plateforme")),
        ("inventory-batch", {}),
    ):
        kwargs = {"Tags": tag_list(tags)} if tags else {}
        role = iam.create_role(
            RoleName=name, Path="/census/", AssumeRolePolicyDocument=ASSUME_LAMBDA, **kwargs
        )["Role"]
        read_back = tag_dict(iam.list_role_tags(RoleName=name)["Tags"])
        m.seed("iam:Role", account, "global", name, role["Arn"], read_back)
        roles[name] = role["Arn"]
    return roles


def seed_region(m, member, account, region, k, roles, code):
    """One region's resources; k is the region's index (CIDRs and names)."""
    ec2 = member.client("ec2", region)

    def ec2_tags(kind, tags):
        return [{"ResourceType": kind, "Tags": tag_list(tags)}] if tags else []

    # VPCs: the first tagged, the second only named (untagged).
    vpcs = []
    for n, tags in ((0, tagged("prod", f"main-{k}")), (1, {"Name": f"scratch-{k}"})):
        vpc = ec2.create_vpc(
            CidrBlock=f"10.{k * 2 + n}.0.0/16", TagSpecifications=ec2_tags("vpc", tags)
        )["Vpc"]
        arn = m.ec2_arn(region, account, "vpc", vpc["VpcId"])
        m.seed("ec2:Vpc", account, region, vpc["VpcId"], arn, tag_dict(vpc.get("Tags")))
        vpcs.append((vpc["VpcId"], arn))

    # A subnet and a security group in each VPC, the second ones untagged.
    subnets, groups = [], []
    for n, ((vpc_id, vpc_arn), tags) in enumerate(
        zip(vpcs, (tagged("prod", f"app-{k}", Note=""), {}))
    ):
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=f"10.{k * 2 + n}.1.0/24",
            AvailabilityZone=f"{region}a",
            TagSpecifications=ec2_tags("subnet", tags),
        )["Subnet"]
        arn = subnet.get("SubnetArn") or m.ec2_arn(region, account, "subnet", subnet["SubnetId"])
        m.seed("ec2:Subnet", account, region, subnet["SubnetId"], arn, tag_dict(subnet.get("Tags")))
        m.link("VpcId", arn, vpc_arn)
        subnets.append((subnet["SubnetId"], arn))

        group_tags = tagged("prod", f"web-{k}") if tags else {}
        created = ec2.create_security_group(
            GroupName=f"web-{n}",
            Description="inventory test",
            VpcId=vpc_id,
            TagSpecifications=ec2_tags("security-group", group_tags),
        )
        group = ec2.describe_security_groups(GroupIds=[created["GroupId"]])["SecurityGroups"][0]
        arn = (
            created.get("SecurityGroupArn")
            or group.get("SecurityGroupArn")
            or m.ec2_arn(region, account, "security-group", group["GroupId"])
        )
        tags = tag_dict(group.get("Tags"))
        m.seed("ec2:SecurityGroup", account, region, group["GroupId"], arn, tags, group["GroupName"])
        m.link("VpcId", arn, vpc_arn)
        groups.append((group["GroupId"], arn))

    # Two reservations: two tagged instances in the first subnet and group, one
    # untagged in the second.
    instances = []
    for n, count, tags in ((0, 2, tagged("prod", f"app-{k}")), (1, 1, {})):
        reservation = ec2.run_instances(
            ImageId="ami-12c6146b",
            InstanceType="t3.micro",
            MinCount=count,
            MaxCount=count,
            SubnetId=subnets[n][0],
            SecurityGroupIds=[groups[n][0]],
            TagSpecifications=ec2_tags("instance", tags),
        )
        for instance in reservation["Instances"]:
            iid = instance["InstanceId"]
            arn = m.ec2_arn(region, account, "instance", iid)
            read_back = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
            m.seed("ec2:Instance", account, region, iid, arn, tag_dict(read_back.get("Tags")))
            m.link("SubnetId", arn, subnets[n][1])
            m.link("SecurityGroups[].GroupId", arn, groups[n][1])
            instances.append((iid, arn))

    # Volumes: a tagged one attached to the first instance, an untagged loose one.
    for n, tags in ((0, tagged("prod", f"data-{k}", Note="")), (1, {})):
        volume = ec2.create_volume(
            AvailabilityZone=f"{region}a", Size=8, TagSpecifications=ec2_tags("volume", tags)
        )
        vid = volume["VolumeId"]
        arn = m.ec2_arn(region, account, "volume", vid)
        if n == 0:
            ec2.attach_volume(VolumeId=vid, InstanceId=instances[0][0], Device="/dev/sdf")
            m.link("Attachments[].InstanceId", arn, instances[0][1])
        m.seed("ec2:Volume", account, region, vid, arn, tag_dict(volume.get("Tags")))

    # KMS keys: the tagged one is symmetric and encrypts a table; the other signs.
    kms = member.client("kms", region)
    keys = []
    for spec, usage, tags in (
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", tagged("prod")),
        ("ECC_NIST_P256", "SIGN_VERIFY", {"Purpose": "signing"}),
    ):
        meta = kms.create_key(
            Description=f"inventory key in {region}",
            KeySpec=spec,
            KeyUsage=usage,
            Tags=tag_list(tags, "TagKey", "TagValue"),
        )["KeyMetadata"]
        read_back = tag_dict(
            kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"], "TagKey", "TagValue"
        )
        m.seed("kms:Key", account, region, meta["KeyId"], meta["Arn"], read_back)
        keys.append(meta["Arn"])

    # Buckets, in this region.
    s3 = member.client("s3", region)
    for n, tags in ((0, tagged("prod", Note="")), (1, {})):
        bucket = f"inv-{account}-{region}-{n}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(tags)})
            read_back = tag_dict(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
        else:
            read_back = {}
        m.seed("s3:Bucket", account, region, bucket, f"arn:{m.partition}:s3:::{bucket}", read_back)

    # Queues.
    sqs = member.client("sqs", region)
    for name, tags in (("orders", tagged("prod")), ("orders-dlq", {})):
        url = sqs.create_queue(QueueName=name, tags=tags)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        read_back = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        m.seed("sqs:Queue", account, region, url, arn, read_back)

    # Topics.
    sns = member.client("sns", region)
    for name, tags in (("alerts", tagged("prod")), ("scratch", {})):
        kwargs = {"Tags": tag_list(tags)} if tags else {}
        arn = sns.create_topic(Name=name, **kwargs)["TopicArn"]
        read_back = tag_dict(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])
        m.seed("sns:Topic", account, region, arn, arn, read_back)

    # Tables: the tagged one encrypted with the tagged key.
    dynamodb = member.client("dynamodb", region)
    for name, tags, sse in (
        (f"orders-{k}", tagged("prod"), {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": keys[0]}),
        (f"sessions-{k}", {}, None),
    ):
        kwargs = {"Tags": tag_list(tags)} if tags else {}
        if sse:
            kwargs["SSESpecification"] = sse
        table = dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            **kwargs,
        )["TableDescription"]
        arn = table["TableArn"]
        read_back = tag_dict(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"])
        m.seed("dynamodb:Table", account, region, name, arn, read_back)
        if sse:
            described = dynamodb.describe_table(TableName=name)["Table"]
            key = described.get("SSEDescription", {}).get("KMSMasterKeyArn")
            if key != keys[0]:
                sys.exit(f"moto reports table {name}'s KMS key as {key!r}, not {keys[0]!r}")
            m.link("SSEDescription.KMSMasterKeyArn", arn, key)

    # Functions, each with its role.
    lam = member.client("lambda", region)
    for name, role, tags in (
        ("worker", "inventory-worker", tagged("prod")),
        ("batch", "inventory-batch", {}),
    ):
        function = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=roles[role],
            Handler="index.handler",
            Code={"ZipFile": code},
            Tags=tags,
        )
        arn = function["FunctionArn"]
        read_back = lam.list_tags(Resource=arn).get("Tags", {})
        m.seed("lambda:Function", account, region, name, arn, read_back)
        m.link("Role", arn, roles[role])


def survey(m, member, account, regions):
    """Everything of the manifest's kinds that exists in one account and its regions,
    as boto3 lists it; what this script did not make goes in as moto's own."""

    def other(kind, region, rid, arn, tags, name=None):
        if (kind, account, region, rid) not in m.made:
            m.add(kind, account, region, rid, arn, tags, False, name=name)

    iam = member.client("iam", regions[0])
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            tags = tag_dict(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])
            other("iam:Role", "global", role["RoleName"], role["Arn"], tags)
    s3 = member.client("s3", regions[0])
    for bucket in s3.list_buckets()["Buckets"]:
        location = s3.get_bucket_location(Bucket=bucket["Name"])["LocationConstraint"]
        arn = f"arn:{m.partition}:s3:::{bucket['Name']}"
        other("s3:Bucket", location or "us-east-1", bucket["Name"], arn, None)
    for region in regions:
        ec2 = member.client("ec2", region)
        for vpc in ec2.describe_vpcs()["Vpcs"]:
            arn = m.ec2_arn(region, account, "vpc", vpc["VpcId"])
            other("ec2:Vpc", region, vpc["VpcId"], arn, tag_dict(vpc.get("Tags")))
        for subnet in ec2.describe_subnets()["Subnets"]:
            arn = subnet.get("SubnetArn") or m.ec2_arn(region, account, "subnet", subnet["SubnetId"])
            other("ec2:Subnet", region, subnet["SubnetId"], arn, tag_dict(subnet.get("Tags")))
        for group in ec2.describe_security_groups()["SecurityGroups"]:
            arn = group.get("SecurityGroupArn") or m.ec2_arn(
                region, account, "security-group", group["GroupId"]
            )
            tags = tag_dict(group.get("Tags"))
            other("ec2:SecurityGroup", region, group["GroupId"], arn, tags, group["GroupName"])
        for reservation in ec2.describe_instances()["Reservations"]:
            for i in reservation["Instances"]:
                arn = m.ec2_arn(region, account, "instance", i["InstanceId"])
                other("ec2:Instance", region, i["InstanceId"], arn, tag_dict(i.get("Tags")))
        for volume in ec2.describe_volumes()["Volumes"]:
            arn = m.ec2_arn(region, account, "volume", volume["VolumeId"])
            other("ec2:Volume", region, volume["VolumeId"], arn, tag_dict(volume.get("Tags")))
        kms = member.client("kms", region)
        for key in kms.list_keys()["Keys"]:
            other("kms:Key", region, key["KeyId"], key["KeyArn"], None)
        sqs = member.client("sqs", region)
        for url in sqs.list_queues().get("QueueUrls", []):
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            other("sqs:Queue", region, url, arn, None)
        for topic in member.client("sns", region).list_topics()["Topics"]:
            other("sns:Topic", region, topic["TopicArn"], topic["TopicArn"], None)
        dynamodb = member.client("dynamodb", region)
        for name in dynamodb.list_tables()["TableNames"]:
            arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
            other("dynamodb:Table", region, name, arn, None)
        for f in member.client("lambda", region).list_functions()["Functions"]:
            other("lambda:Function", region, f["FunctionName"], f["FunctionArn"], None)


def main():
    opts = {"organization": True, "members": 2, "regions": ["us-east-1", "eu-west-1"]}
    opts.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    regions = opts["regions"]
    home = Caller(region=regions[0])
    identity = home.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    m = Manifest(partition)

    out = {"partition": partition, "regions": regions, "organization_id": None}
    accounts = [{"id": identity["Account"], "name": None, "caller": home}]
    if opts["organization"]:
        org = home.client("organizations")
        organization = org.create_organization(FeatureSet="ALL")["Organization"]
        out["organization_id"] = organization["Id"]
        accounts[0]["name"] = org.describe_account(AccountId=identity["Account"])["Account"][
            "Name"
        ]
        for i in range(opts["members"]):
            name = f"inventory-{i + 1:02d}"
            account_id = org.create_account(
                AccountName=name, Email=f"{name}@census-demo.example"
            )["CreateAccountStatus"]["AccountId"]
            role = member_role_arn(account_id).replace("arn:aws:", f"arn:{partition}:", 1)
            accounts.append(
                {
                    "id": account_id,
                    "name": name,
                    "caller": Caller(region=regions[0], role_arn=role),
                }
            )
        resource_account = accounts[1]
    else:
        resource_account = accounts[0]

    code = lambda_zip()
    caller, account_id = resource_account["caller"], resource_account["id"]
    roles = seed_roles(m, caller, account_id)
    for k, region in enumerate(regions):
        seed_region(m, caller, account_id, region, k, roles, code)
    for account in accounts:
        survey(m, account["caller"], account["id"], regions)

    out["management_account_id"] = identity["Account"] if opts["organization"] else None
    out["resource_account_id"] = account_id
    out["accounts"] = [{"id": a["id"], "name": a["name"]} for a in accounts]
    out["resources"] = m.resources
    out["links"] = m.links
    emit(out)


if __name__ == "__main__":
    main()
