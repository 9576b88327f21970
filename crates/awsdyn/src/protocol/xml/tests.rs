use super::*;
use serde_json::json;

const DESCRIBE_INSTANCES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
    <reservationSet>
        <item>
            <reservationId>r-1234567890abcdef0</reservationId>
            <ownerId>123456789012</ownerId>
            <groupSet/>
            <instancesSet>
                <item>
                    <instanceId>i-1234567890abcdef0</instanceId>
                    <imageId>ami-0abcdef1234567890</imageId>
                    <instanceState>
                        <code>16</code>
                        <name>running</name>
                    </instanceState>
                    <privateDnsName>ip-10-0-0-12.ec2.internal</privateDnsName>
                    <dnsName/>
                    <reason/>
                    <keyName>my-key-pair</keyName>
                    <amiLaunchIndex>0</amiLaunchIndex>
                    <productCodes/>
                    <instanceType>t3.micro</instanceType>
                    <launchTime>2024-01-02T12:34:56.000Z</launchTime>
                    <placement>
                        <availabilityZone>us-east-1a</availabilityZone>
                        <groupName/>
                        <tenancy>default</tenancy>
                    </placement>
                    <monitoring>
                        <state>disabled</state>
                    </monitoring>
                    <subnetId>subnet-0123456789abcdef0</subnetId>
                    <vpcId>vpc-0123456789abcdef0</vpcId>
                    <privateIpAddress>10.0.0.12</privateIpAddress>
                    <sourceDestCheck>true</sourceDestCheck>
                    <groupSet>
                        <item>
                            <groupId>sg-0123456789abcdef0</groupId>
                            <groupName>web &amp; app</groupName>
                        </item>
                    </groupSet>
                    <architecture>x86_64</architecture>
                    <rootDeviceType>ebs</rootDeviceType>
                    <rootDeviceName>/dev/xvda</rootDeviceName>
                    <blockDeviceMapping>
                        <item>
                            <deviceName>/dev/xvda</deviceName>
                            <ebs>
                                <volumeId>vol-0123456789abcdef0</volumeId>
                                <status>attached</status>
                                <attachTime>2024-01-02T12:34:57.250Z</attachTime>
                                <deleteOnTermination>true</deleteOnTermination>
                            </ebs>
                        </item>
                    </blockDeviceMapping>
                    <virtualizationType>hvm</virtualizationType>
                    <tagSet>
                        <item>
                            <key>Name</key>
                            <value><![CDATA[web <1>]]></value>
                        </item>
                        <item>
                            <key>Empty</key>
                            <value/>
                        </item>
                    </tagSet>
                    <hypervisor>xen</hypervisor>
                    <ebsOptimized>false</ebsOptimized>
                    <enaSupport>true</enaSupport>
                    <cpuOptions>
                        <coreCount>1</coreCount>
                        <threadsPerCore>2</threadsPerCore>
                    </cpuOptions>
                    <someFutureField><nested>ignored</nested></someFutureField>
                </item>
                <item>
                    <instanceId>i-0fedcba9876543210</instanceId>
                    <instanceState>
                        <code>80</code>
                        <name>stopped</name>
                    </instanceState>
                    <instanceType>m5.large</instanceType>
                    <launchTime>2023-12-31T23:59:59Z</launchTime>
                    <tagSet/>
                </item>
            </instancesSet>
        </item>
        <item>
            <reservationId>r-0fedcba9876543210</reservationId>
            <ownerId>210987654321</ownerId>
            <requesterId>940372691376</requesterId>
            <instancesSet>
                <item>
                    <instanceId>i-00000000000000001</instanceId>
                    <instanceState><code>48</code><name>terminated</name></instanceState>
                    <stateReason>
                        <code>Client.UserInitiatedShutdown</code>
                        <message>Client.UserInitiatedShutdown: User initiated shutdown</message>
                    </stateReason>
                </item>
            </instancesSet>
        </item>
    </reservationSet>
    <nextToken>eyJ0b2tlbiI6MX0=</nextToken>
</DescribeInstancesResponse>
"#;

#[test]
fn describe_instances_multi_reservation() {
    let model = crate::model::load("ec2").unwrap();
    let op = model.operation("DescribeInstances").unwrap();
    let out = op.output.as_ref().unwrap().target;
    let v = Value::Object(parse_members(&model, out, DESCRIBE_INSTANCES.as_bytes(), None).unwrap());
    assert_eq!(v["NextToken"], "eyJ0b2tlbiI6MX0=");
    assert!(v.get("requestId").is_none() && v.get("RequestId").is_none());
    let res = v["Reservations"].as_array().unwrap();
    assert_eq!(res.len(), 2);
    assert_eq!(res[0]["ReservationId"], "r-1234567890abcdef0");
    assert_eq!(res[0]["Groups"], json!([]));
    let inst = res[0]["Instances"].as_array().unwrap();
    assert_eq!(inst.len(), 2);
    let i0 = &inst[0];
    assert_eq!(i0["InstanceId"], "i-1234567890abcdef0");
    assert_eq!(i0["State"], json!({"Code": 16, "Name": "running"}));
    assert_eq!(i0["LaunchTime"], "2024-01-02T12:34:56+00:00");
    assert_eq!(i0["PublicDnsName"], "");
    assert_eq!(i0["ProductCodes"], json!([]));
    assert_eq!(i0["AmiLaunchIndex"], 0);
    assert_eq!(i0["EbsOptimized"], false);
    assert_eq!(i0["EnaSupport"], true);
    assert_eq!(i0["Placement"]["GroupName"], "");
    assert_eq!(
        i0["SecurityGroups"],
        json!([{"GroupId": "sg-0123456789abcdef0", "GroupName": "web & app"}])
    );
    assert_eq!(
        i0["BlockDeviceMappings"][0]["Ebs"]["AttachTime"],
        "2024-01-02T12:34:57.250000+00:00"
    );
    assert_eq!(
        i0["Tags"],
        json!([{"Key": "Name", "Value": "web <1>"}, {"Key": "Empty", "Value": ""}])
    );
    assert_eq!(
        i0["CpuOptions"],
        json!({"CoreCount": 1, "ThreadsPerCore": 2})
    );
    assert!(i0.get("someFutureField").is_none());
    let i1 = &inst[1];
    assert_eq!(i1["State"]["Name"], "stopped");
    assert_eq!(i1["LaunchTime"], "2023-12-31T23:59:59+00:00");
    assert_eq!(i1["Tags"], json!([]));
    assert!(i1.get("ImageId").is_none());
    assert_eq!(res[1]["OwnerId"], "210987654321");
    assert_eq!(res[1]["RequesterId"], "940372691376");
    assert_eq!(
        res[1]["Instances"][0]["StateReason"]["Code"],
        "Client.UserInitiatedShutdown"
    );
    assert_eq!(res[1]["Instances"][0]["State"]["Code"], 48);

    // The same response through the protocol entry point.
    let resp = Response {
        status: 200,
        headers: &[],
        body: DESCRIBE_INSTANCES.as_bytes(),
    };
    assert_eq!(crate::protocol::parse(&model, op, &resp).unwrap(), v);
}

fn small_model() -> ServiceModel {
    ServiceModel::from_value(
        "t",
        json!({
            "metadata": {"protocol": "rest-xml", "apiVersion": "2020-01-01"},
            "operations": {"Op": {"name": "Op", "output": {"shape": "Out"},
                                  "errors": [{"shape": "NoSuchThing"}]}},
            "shapes": {
                "Out": {"type": "structure", "members": {
                    "Grantee": {"shape": "Grantee"},
                    "Flat": {"shape": "Names", "flattened": true},
                    "Wrapped": {"shape": "Names"},
                    "Attrs": {"shape": "AttrMap", "locationName": "Attribute"},
                    "Blob": {"shape": "Blob"},
                    "Ratio": {"shape": "Double"},
                    "Big": {"shape": "Long"},
                    "When": {"shape": "Time"},
                    "Header": {"shape": "String", "location": "header", "locationName": "x-h"}
                }},
                "Grantee": {"type": "structure", "members": {
                    "Type": {"shape": "String", "locationName": "xsi:type", "xmlAttribute": true},
                    "ID": {"shape": "String"}
                }},
                "Names": {"type": "list", "member": {"shape": "String", "locationName": "Name"}},
                "AttrMap": {"type": "map", "flattened": true,
                            "key": {"shape": "String", "locationName": "Name"},
                            "value": {"shape": "String", "locationName": "Value"}},
                "NoSuchThing": {"type": "structure", "exception": true,
                                "error": {"code": "NoSuchThing", "httpStatusCode": 404},
                                "members": {"Message": {"shape": "String"},
                                            "Thing": {"shape": "String"}}},
                "String": {"type": "string"},
                "Blob": {"type": "blob"},
                "Double": {"type": "double"},
                "Long": {"type": "long"},
                "Time": {"type": "timestamp"}
            }
        }),
    )
    .unwrap()
}

#[test]
fn members_attributes_flattened_and_scalars() {
    let model = small_model();
    let out = model.shape_id("Out").unwrap();
    let body = br#"<?xml version="1.0"?>
<!-- a comment -->
<OpResult xmlns="https://example.com/">
  <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
    <ID>abc&#x41;&lt;</ID>
  </Grantee>
  <Name>a</Name>
  <Wrapped><x>1</x><y/></Wrapped>
  <Flat>b</Flat>
  <Attribute><Name>k1</Name><Value>v1</Value></Attribute>
  <Attribute><Name>k2</Name><Value>v2</Value></Attribute>
  <Blob>dmFs
dWU=</Blob>
  <Ratio>-Infinity</Ratio>
  <Big>9007199254740993</Big>
  <When>Tue, 29 Apr 2014 18:30:38 GMT</When>
  <Header>not read from the body</Header>
</OpResult>"#;
    let v = Value::Object(parse_members(&model, out, body, None).unwrap());
    assert_eq!(
        v,
        json!({
            "Grantee": {"Type": "CanonicalUser", "ID": "abcA<"},
            "Flat": ["a", "b"],
            "Wrapped": ["1", ""],
            "Attrs": {"k1": "v1", "k2": "v2"},
            "Blob": "dmFsdWU=",
            "Ratio": "-Infinity",
            "Big": 9007199254740993u64,
            "When": "2014-04-29T18:30:38+00:00"
        })
    );
    // With a wrapper that is absent, and an empty body.
    assert!(parse_members(&model, out, body, Some("Nope"))
        .unwrap()
        .is_empty());
    assert!(parse_members(&model, out, b"", None).unwrap().is_empty());
    assert!(parse_members(&model, out, b"<a><b></a>", None).is_err());
}

fn error_for(body: &str, status: u16, headers: &[(String, String)]) -> ServiceError {
    let model = small_model();
    let op = model.operation("Op").unwrap();
    let resp = Response {
        status,
        headers,
        body: body.as_bytes(),
    };
    parse_error(&model, op, &resp)
}

#[test]
fn error_layouts() {
    // query
    let e = error_for(
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
             <Message>Rate exceeded</Message></Error><RequestId>q-1</RequestId></ErrorResponse>",
        400,
        &[],
    );
    assert_eq!(
        (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
        ("Throttling", "Rate exceeded", Some("q-1"))
    );
    assert!(e.fields.is_empty());
    // ec2
    let e = error_for(
        "<Response><Errors><Error><Code>InvalidInstanceID.Malformed</Code>\
             <Message>Invalid id: \"1343124\"</Message></Error></Errors>\
             <RequestID>e-1</RequestID></Response>",
        400,
        &[],
    );
    assert_eq!(e.code, "InvalidInstanceID.Malformed");
    assert_eq!(e.message, "Invalid id: \"1343124\"");
    assert_eq!(e.request_id.as_deref(), Some("e-1"));
    // s3, modeled
    let e = error_for(
        "<?xml version=\"1.0\"?><Error><Code>NoSuchThing</Code><Message>gone</Message>\
             <Thing>t</Thing><RequestId>s-1</RequestId><HostId>h</HostId></Error>",
        404,
        &[],
    );
    assert_eq!(e.code, "NoSuchThing");
    assert_eq!(e.request_id.as_deref(), Some("s-1"));
    assert_eq!(
        Value::Object(e.fields),
        json!({"Message": "gone", "Thing": "t"})
    );
    // rest-xml <ErrorResponse>, modeled
    let e = error_for(
        "<ErrorResponse><Error><Code>NoSuchThing</Code><Thing>u</Thing></Error></ErrorResponse>",
        404,
        &[("x-amzn-RequestId".into(), "h-1".into())],
    );
    assert_eq!(Value::Object(e.fields), json!({"Thing": "u"}));
    assert_eq!(e.message, "");
    assert_eq!(e.request_id.as_deref(), Some("h-1"));
    // No body: the status, as botocore does.
    let e = error_for("", 404, &[("x-amz-request-id".into(), "s3-id".into())]);
    assert_eq!(
        (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
        ("404", "Not Found", Some("s3-id"))
    );
    let e = error_for("<html><body>Service Unavailable</body></html>", 503, &[]);
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("503", "Service Unavailable")
    );
}

#[test]
fn timestamps_fast_path_matches_chrono() {
    for s in [
        "2024-01-02T12:34:56Z",
        "2024-01-02T12:34:56.000Z",
        "2024-01-02T12:34:56.5Z",
        "2024-01-02T12:34:56.123456789Z",
        "2024-02-29T00:00:00Z",
    ] {
        let slow = crate::timestamp::to_boto3(&crate::timestamp::parse(s).unwrap());
        assert_eq!(fast_utc_iso8601(s).as_deref(), Some(slow.as_str()), "{s}");
    }
    for s in [
        "2023-02-29T00:00:00Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T12:34:56+01:00",
        "2024-01-02T12:34:56.Z",
        "2024-01-02 12:34:56Z",
    ] {
        assert_eq!(fast_utc_iso8601(s), None, "{s}");
    }
}
