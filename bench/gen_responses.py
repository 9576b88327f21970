"""Writes the benchmark responses: bench/data/ec2-describe-instances.xml and
bench/data/dynamodb-scan.json, about 20 MB each, deterministic (fixed seed).

The EC2 response has the shape of a real DescribeInstances answer (reservations,
instances with state, placement, network interfaces, block devices, tags...); the
DynamoDB one is a Scan answer whose items mix every attribute-value type.

  python3 bench/gen_responses.py [OUT_DIR]   (GEN_RESPONSES_BYTES=N for another size)"""
import json
import os
import random
import sys

# GEN_RESPONSES_BYTES: a smaller size (the differential test of crates/awsdyn/tests/printed.rs).
TARGET = int(os.environ.get("GEN_RESPONSES_BYTES", 20 * 1024 * 1024))


def ec2_instance(r, i):
    iid = "i-%017x" % r.getrandbits(68)
    vpc = "vpc-%08x" % r.getrandbits(32)
    subnet = "subnet-%08x" % r.getrandbits(32)
    ip = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
    pub = "54.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
    az = r.choice(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    t = "2026-%02d-%02dT%02d:%02d:%02d.000Z" % (r.randrange(1, 13), r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60))
    tags = "".join(
        "<item><key>%s</key><value>%s</value></item>" % (k, v)
        for k, v in [("Name", "web-%d" % i), ("Environment", r.choice(["prod", "dev", "staging"])), ("Team", "team-%d" % r.randrange(40)), ("CostCenter", str(r.randrange(1000, 9999)))]
    )
    sgs = "".join(
        "<item><groupId>sg-%08x</groupId><groupName>sg-name-%d</groupName></item>" % (r.getrandbits(32), j) for j in range(r.randrange(1, 4))
    )
    vol = "vol-%017x" % r.getrandbits(68)
    eni = "eni-%017x" % r.getrandbits(68)
    return f"""<item>
  <instanceId>{iid}</instanceId>
  <imageId>ami-{r.getrandbits(68):017x}</imageId>
  <instanceState><code>16</code><name>running</name></instanceState>
  <privateDnsName>ip-{ip.replace('.', '-')}.eu-west-1.compute.internal</privateDnsName>
  <dnsName>ec2-{pub.replace('.', '-')}.eu-west-1.compute.amazonaws.com</dnsName>
  <reason/>
  <keyName>key-{r.randrange(100)}</keyName>
  <amiLaunchIndex>0</amiLaunchIndex>
  <productCodes/>
  <instanceType>{r.choice(['t3.micro', 'm5.large', 'c6g.xlarge', 'r6i.2xlarge'])}</instanceType>
  <launchTime>{t}</launchTime>
  <placement><availabilityZone>{az}</availabilityZone><groupName/><tenancy>default</tenancy></placement>
  <monitoring><state>disabled</state></monitoring>
  <subnetId>{subnet}</subnetId>
  <vpcId>{vpc}</vpcId>
  <privateIpAddress>{ip}</privateIpAddress>
  <ipAddress>{pub}</ipAddress>
  <sourceDestCheck>true</sourceDestCheck>
  <groupSet>{sgs}</groupSet>
  <architecture>x86_64</architecture>
  <rootDeviceType>ebs</rootDeviceType>
  <rootDeviceName>/dev/xvda</rootDeviceName>
  <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>{vol}</volumeId><status>attached</status><attachTime>{t}</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>
  <virtualizationType>hvm</virtualizationType>
  <clientToken/>
  <tagSet>{tags}</tagSet>
  <hypervisor>xen</hypervisor>
  <networkInterfaceSet><item><networkInterfaceId>{eni}</networkInterfaceId><subnetId>{subnet}</subnetId><vpcId>{vpc}</vpcId><description/><ownerId>123456789012</ownerId><status>in-use</status><macAddress>0a:{r.getrandbits(40):010x}</macAddress><privateIpAddress>{ip}</privateIpAddress><sourceDestCheck>true</sourceDestCheck><groupSet>{sgs}</groupSet><attachment><attachmentId>eni-attach-{r.getrandbits(68):017x}</attachmentId><deviceIndex>0</deviceIndex><status>attached</status><attachTime>{t}</attachTime><deleteOnTermination>true</deleteOnTermination><networkCardIndex>0</networkCardIndex></attachment><association><publicIp>{pub}</publicIp><ipOwnerId>amazon</ipOwnerId></association><privateIpAddressesSet><item><privateIpAddress>{ip}</privateIpAddress><primary>true</primary></item></privateIpAddressesSet><ipv6AddressesSet/><interfaceType>interface</interfaceType></item></networkInterfaceSet>
  <ebsOptimized>false</ebsOptimized>
  <enaSupport>true</enaSupport>
  <cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>
  <capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference></capacityReservationSpecification>
  <hibernationOptions><configured>false</configured></hibernationOptions>
  <metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions>
  <enclaveOptions><enabled>false</enabled></enclaveOptions>
  <platformDetails>Linux/UNIX</platformDetails>
  <usageOperation>RunInstances</usageOperation>
  <usageOperationUpdateTime>{t}</usageOperationUpdateTime>
  <privateDnsNameOptions><hostnameType>ip-name</hostnameType><enableResourceNameDnsARecord>false</enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptions>
  <maintenanceOptions><autoRecovery>default</autoRecovery></maintenanceOptions>
  <currentInstanceBootMode>legacy-bios</currentInstanceBootMode>
</item>"""


def ec2(r):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">\n<requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n<reservationSet>\n']
    size = sum(map(len, parts))
    i = 0
    while size < TARGET:
        insts = "".join(ec2_instance(r, i + k) for k in range(r.randrange(1, 4)))
        i += 3
        res = f"<item><reservationId>r-{r.getrandbits(68):017x}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>{insts}</instancesSet></item>\n"
        parts.append(res)
        size += len(res)
    parts.append("</reservationSet>\n</DescribeInstancesResponse>\n")
    return "".join(parts).encode()


def dynamo_item(r, i):
    return {
        "pk": {"S": "tenant#%06d" % r.randrange(10**6)},
        "sk": {"S": "order#%010d" % i},
        "amount": {"N": "%d.%02d" % (r.randrange(10**5), r.randrange(100))},
        "quantity": {"N": str(r.randrange(1, 50))},
        "status": {"S": r.choice(["NEW", "PAID", "SHIPPED", "CANCELLED"])},
        "active": {"BOOL": r.random() < 0.5},
        "deleted": {"NULL": True},
        "tags": {"SS": ["tag-%d" % r.randrange(100) for _ in range(r.randrange(1, 5))]},
        "scores": {"NS": [str(r.randrange(1000)) for _ in range(3)]},
        "payload": {"B": "aGVsbG8gd29ybGQgZnJvbSBjZW5zdXM="},
        "address": {"M": {"street": {"S": "%d Main Street" % r.randrange(1000)}, "city": {"S": r.choice(["Paris", "Lisbon", "Leeds"])}, "zip": {"N": str(r.randrange(10000, 99999))}}},
        "history": {"L": [{"S": "created"}, {"N": str(r.randrange(10**9))}, {"M": {"by": {"S": "user-%d" % r.randrange(500)}}}]},
    }


def dynamo(r):
    items = []
    size = 0
    i = 0
    while size < TARGET:
        it = dynamo_item(r, i)
        size += len(json.dumps(it, separators=(",", ":"))) + 1
        items.append(it)
        i += 1
    doc = {"Count": len(items), "Items": items, "ScannedCount": len(items), "LastEvaluatedKey": {"pk": {"S": "tenant#000001"}, "sk": {"S": "order#%010d" % i}}, "ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 1280.5}}
    return json.dumps(doc, separators=(",", ":")).encode()


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, fn in [("ec2-describe-instances.xml", ec2), ("dynamodb-scan.json", dynamo)]:
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            data = fn(random.Random(42))
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        print("%s: %.1f MB" % (path, os.path.getsize(path) / 1e6))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data"))
