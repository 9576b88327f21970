"""Seeds moto for aws-auto-inventory's sample scan files s3.json and ec2.json (issue
12): what `seed_details.py` makes (bucket A with versioning, policy, tags, encryption...;
a VPC with subnets and a load balancer), plus on bucket A an ACL grant, CORS rules and
a lifecycle rule, and an EC2 instance, a security group and a managed prefix list.
Prints the manifest of `seed_details.py` with "samples": {"bucket", "cors", "lifecycle",
"instance", "security_group", "prefix_list"}.

Usage: python seed_samples.py ['<options JSON>'] (as seed_details.py)
"""

import json
import sys

from common import Caller, emit
import seed_details


def main():
    opts = {"region": "us-east-1", "prefix": "census-samples"}
    opts.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    region = opts["region"]
    prefix = opts["prefix"]
    caller = Caller(region=region)
    account_id = caller.client("sts").get_caller_identity()["Account"]
    buckets = seed_details.seed_buckets(caller, account_id, region, prefix)
    s3 = caller.client("s3", region)
    a = buckets["a"]["name"]
    cors = [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"], "MaxAgeSeconds": 300}]
    s3.put_bucket_cors(Bucket=a, CORSConfiguration={"CORSRules": cors})
    lifecycle = [
        {
            "ID": "expire-old",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
        }
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=a, LifecycleConfiguration={"Rules": lifecycle})
    # An ACL grant on bucket B (bucket A enforces bucket-owner ownership: no ACLs).
    b = buckets["b"]["name"]
    s3.put_bucket_acl(Bucket=b, ACL="log-delivery-write")
    ec2 = caller.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.43.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{prefix}-sg", Description="census samples", VpcId=vpc)["GroupId"]
    image = ec2.register_image(Name=f"{prefix}-ami", RootDeviceName="/dev/sda1")["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet
    )["Instances"][0]["InstanceId"]
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName=f"{prefix}-pl", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": "10.0.0.0/8", "Description": "private"}],
    )["PrefixList"]["PrefixListId"]
    emit(
        {
            "account_id": account_id,
            "region": region,
            "buckets": buckets,
            "samples": {
                "bucket": a,
                "cors": cors,
                "lifecycle": lifecycle,
                "acl_bucket": b,
                "vpc": vpc,
                "instance": instance,
                "security_group": group,
                "prefix_list": prefix_list,
            },
        }
    )


if __name__ == "__main__":
    main()
