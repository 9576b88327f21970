"""Seeds moto, as a real client would (boto3), with what the differential suite reads:
resources in the caller's account in eu-west-1 and us-east-1, several of each so that
the list calls page with small page sizes. Prints a JSON summary."""
import io
import json
import sys
import zipfile

import boto3

REGION = "eu-west-1"
ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]})


def c(service, region=REGION):
    return boto3.client(service, region_name=region)


def lambda_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def main():
    out = {}
    ec2 = c("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "census-diff"}])
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24")["Subnet"]["SubnetId"] for i in range(3)]
    sgs = [ec2.create_security_group(GroupName=f"diff-sg-{i}", Description=f"sg {i}", VpcId=vpc)["GroupId"] for i in range(3)]
    ec2.authorize_security_group_ingress(GroupId=sgs[0], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for i in range(3):
        ec2.run_instances(ImageId=image, MinCount=i + 1, MaxCount=i + 1, InstanceType="t3.micro", SubnetId=subnets[i], SecurityGroupIds=[sgs[i]],
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Team", "Value": f"team-{i}"}]}])
    for i in range(3):
        ec2.create_volume(AvailabilityZone=REGION + "a", Size=8 + i)
    for i in range(2):
        ec2.create_key_pair(KeyName=f"diff-key-{i}")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.create_route_table(VpcId=vpc)
    out["vpc"] = vpc

    iam = c("iam")
    for i in range(5):
        iam.create_role(RoleName=f"diff-role-{i}", AssumeRolePolicyDocument=ASSUME, Path="/diff/", Tags=[{"Key": "n", "Value": str(i)}])
    iam.put_role_policy(RoleName="diff-role-0", PolicyName="inline", PolicyDocument=POLICY)
    for i in range(4):
        iam.create_user(UserName=f"diff-user-{i}")
    for i in range(3):
        iam.create_group(GroupName=f"diff-group-{i}")
        iam.create_policy(PolicyName=f"diff-policy-{i}", PolicyDocument=POLICY)
    iam.create_instance_profile(InstanceProfileName="diff-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="diff-profile", RoleName="diff-role-1")

    s3 = c("s3")
    s3.create_bucket(Bucket="diff-bucket-eu", CreateBucketConfiguration={"LocationConstraint": REGION})
    c("s3", "us-east-1").create_bucket(Bucket="diff-bucket-us")
    s3.put_bucket_tagging(Bucket="diff-bucket-eu", Tagging={"TagSet": [{"Key": "Owner", "Value": "census"}, {"Key": "Env", "Value": "test"}]})
    s3.put_bucket_policy(Bucket="diff-bucket-eu", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::diff-bucket-eu"}]}))
    for i in range(5):
        s3.put_object(Bucket="diff-bucket-eu", Key=f"dir/file {i}+x.txt", Body=b"hello %d" % i)

    ddb = c("dynamodb")
    for i in range(3):
        ddb.create_table(TableName=f"diff-table-{i}", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    sqs = c("sqs")
    for i in range(4):
        sqs.create_queue(QueueName=f"diff-queue-{i}", tags={"n": str(i)})
    sns = c("sns")
    topics = [sns.create_topic(Name=f"diff-topic-{i}")["TopicArn"] for i in range(3)]
    sns.subscribe(TopicArn=topics[0], Protocol="email", Endpoint="ops@example.com")

    lam = c("lambda")
    role_arn = iam.get_role(RoleName="diff-role-2")["Role"]["Arn"]
    for i in range(2):
        lam.create_function(FunctionName=f"diff-fn-{i}", Runtime="python3.12", Role=role_arn, Handler="index.handler", Code={"ZipFile": lambda_zip()}, Tags={"n": str(i)})

    r53 = c("route53")
    zones = [r53.create_hosted_zone(Name=f"diff{i}.example.com", CallerReference=f"ref-{i}")["HostedZone"]["Id"] for i in range(3)]
    r53.change_resource_record_sets(HostedZoneId=zones[0], ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": f"www.diff0.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}]}}]})
    out["zone"] = zones[0].split("/")[-1]

    cfn = c("cloudformation")
    tmpl = json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "diff-cfn-queue"}}}})
    cfn.create_stack(StackName="diff-stack", TemplateBody=tmpl, Tags=[{"Key": "k", "Value": "v"}])

    kms = c("kms")
    for i in range(3):
        kms.create_key(Description=f"diff key {i}")
    logs = c("logs")
    for i in range(4):
        logs.create_log_group(logGroupName=f"/diff/group-{i}", tags={"n": str(i)})

    org = c("organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    for i in range(3):
        org.create_account(Email=f"diff{i}@example.com", AccountName=f"diff-account-{i}")

    sm = c("secretsmanager")
    for i in range(2):
        sm.create_secret(Name=f"diff/secret-{i}", SecretString="not-a-real-secret")
    ssm = c("ssm")
    for i in range(3):
        ssm.put_parameter(Name=f"/diff/param-{i}", Value=f"v{i}", Type="String")
    ecr = c("ecr")
    for i in range(2):
        ecr.create_repository(repositoryName=f"diff-repo-{i}")
    ecs = c("ecs")
    for i in range(2):
        ecs.create_cluster(clusterName=f"diff-cluster-{i}")
    ev = c("events")
    for i in range(2):
        ev.put_rule(Name=f"diff-rule-{i}", ScheduleExpression="rate(5 minutes)")
    kin = c("kinesis")
    kin.create_stream(StreamName="diff-stream", ShardCount=1)
    apig = c("apigateway")
    for i in range(2):
        apig.create_rest_api(name=f"diff-api-{i}", description="diff")
    efs = c("efs")
    efs.create_file_system(CreationToken="diff-fs", Tags=[{"Key": "Name", "Value": "diff-fs"}])
    cw = c("cloudwatch")
    for i in range(2):
        cw.put_metric_alarm(AlarmName=f"diff-alarm-{i}", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80.0, ComparisonOperator="GreaterThanThreshold")
    elb = c("elbv2")
    elb.create_load_balancer(Name="diff-lb", Subnets=subnets[:2], SecurityGroups=[sgs[0]])
    asg = c("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName="diff-lc", ImageId=image, InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName="diff-asg", LaunchConfigurationName="diff-lc", MinSize=0, MaxSize=1, VPCZoneIdentifier=subnets[0])
    c("eks").create_cluster(name="diff-eks", roleArn=role_arn, resourcesVpcConfig={"subnetIds": subnets[:2]})
    c("backup").create_backup_vault(BackupVaultName="diff-vault")
    c("glue").create_database(DatabaseInput={"Name": "diff_db"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
