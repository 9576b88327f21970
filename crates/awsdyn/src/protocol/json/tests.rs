use super::*;
use serde_json::json;

fn model() -> ServiceModel {
    ServiceModel::from_value(
        "test",
        json!({
            "metadata": {"protocol": "json", "jsonVersion": "1.1", "targetPrefix": "Svc"},
            "operations": {
                "Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"},
                       "input": {"shape": "Struct"}, "output": {"shape": "Struct"},
                       "errors": [{"shape": "Oops"}]},
                "NoInput": {"name": "NoInput", "http": {"method": "POST", "requestUri": "/"}}
            },
            "shapes": {
                "Struct": {"type": "structure", "members": {
                    "Str": {"shape": "String"},
                    "Renamed": {"shape": "String", "locationName": "wire"},
                    "Ts": {"shape": "Time"},
                    "Iso": {"shape": "Time", "timestampFormat": "iso8601"},
                    "Http": {"shape": "Time", "timestampFormat": "rfc822"},
                    "Blob": {"shape": "Blob"},
                    "Dbl": {"shape": "Double"},
                    "List": {"shape": "List"},
                    "Map": {"shape": "Map"},
                    "Doc": {"shape": "Doc"},
                    "Union": {"shape": "Union"},
                    "Nested": {"shape": "Struct"}
                }},
                "String": {"type": "string"},
                "Time": {"type": "timestamp"},
                "Blob": {"type": "blob"},
                "Double": {"type": "double"},
                "List": {"type": "list", "member": {"shape": "Struct"}},
                "Map": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "Time"}},
                "Doc": {"type": "structure", "members": {}, "document": true},
                "Union": {"type": "structure", "union": true, "members": {
                    "A": {"shape": "String"}, "B": {"shape": "Double"}}},
                "Oops": {"type": "structure", "exception": true,
                         "error": {"code": "OopsCode", "httpStatusCode": 400},
                         "members": {"Message": {"shape": "String"}, "Extra": {"shape": "String"}}}
            }
        }),
    )
    .unwrap()
}

fn body(m: &ServiceModel, v: Value) -> Value {
    let id = m.shape_id("Struct").unwrap();
    serde_json::from_slice(&serialize_body(m, id, &v).unwrap()).unwrap()
}

fn parsed(m: &ServiceModel, s: &str) -> Value {
    parse_body(m, m.shape_id("Struct").unwrap(), s.as_bytes()).unwrap()
}

#[test]
fn serializes_members() {
    let m = model();
    let out = body(
        &m,
        json!({"Str": "a", "Renamed": "b", "Ts": 1398796238, "Iso": "2014-04-29T18:30:38Z",
                   "Http": 1398796238.5, "Blob": "foo", "Dbl": "NaN", "List": [{"Str": "x"}],
                   "Map": {"k": 1398796238}, "Doc": {"any": [1, null]}, "Union": {"A": "u"},
                   "Nested": {"Ts": 1398796238.25, "Str": null}}),
    );
    assert_eq!(
        out,
        json!({"Str": "a", "wire": "b", "Ts": 1398796238, "Iso": "2014-04-29T18:30:38Z",
                   "Http": "Tue, 29 Apr 2014 18:30:38 GMT", "Blob": "Zm9v", "Dbl": "NaN",
                   "List": [{"Str": "x"}], "Map": {"k": 1398796238}, "Doc": {"any": [1, null]},
                   "Union": {"A": "u"}, "Nested": {"Ts": 1398796238.25}})
    );
}

#[test]
fn rejects_unknown_members() {
    let m = model();
    let id = m.shape_id("Struct").unwrap();
    assert!(serialize_body(&m, id, &json!({"Nope": 1})).is_err());
    assert!(serialize_body(&m, id, &json!({"Blob": 1})).is_err());
}

#[test]
fn request_headers_and_empty_body() {
    let m = model();
    let req = serialize(&m, m.operation("NoInput").unwrap(), &json!({})).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.uri, "/");
    assert_eq!(req.body, b"{}");
    assert_eq!(req.header("X-Amz-Target"), Some("Svc.NoInput"));
    assert_eq!(
        req.header("Content-Type"),
        Some("application/x-amz-json-1.1")
    );
    assert_eq!(req.header("x-amzn-query-mode"), None);
    let req = serialize(&m, m.operation("Op").unwrap(), &json!({})).unwrap();
    assert_eq!(req.body, b"{}");
}

#[test]
fn parses_members() {
    let m = model();
    let out = parsed(
        &m,
        r#"{"__type": "x", "Nested": {"Str": "n"}, "unknown": {"deep": [1, {"x": null}]},
                "wire": "b", "Str": "a", "Ts": 1398796238, "Iso": "2014-04-29T18:30:38.5Z",
                "Http": "Tue, 29 Apr 2014 18:30:38 GMT", "Blob": "Zm9v", "Dbl": "-Infinity",
                "List": [{"Str": "x"}, null], "Map": {"k": 1.5, "gone": null},
                "Doc": {"any": [1, null]}, "Union": {"__type": "U", "B": 2.5}, "Renamed": "ignored"}"#,
    );
    assert_eq!(
        out,
        json!({"Str": "a", "Renamed": "b", "Ts": "2014-04-29T18:30:38+00:00",
                   "Iso": "2014-04-29T18:30:38.500000+00:00", "Http": "2014-04-29T18:30:38+00:00",
                   "Blob": "Zm9v", "Dbl": "-Infinity", "List": [{"Str": "x"}, null],
                   "Map": {"k": "1970-01-01T00:00:01.500000+00:00"}, "Doc": {"any": [1, null]},
                   "Union": {"B": 2.5}, "Nested": {"Str": "n"}})
    );
    // Members come out in model order, whatever the wire order.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys[..3], ["Str", "Renamed", "Ts"]);
}

#[test]
fn parses_nulls_and_empty_bodies() {
    let m = model();
    assert_eq!(parsed(&m, ""), json!({}));
    assert_eq!(parsed(&m, "  \n"), json!({}));
    assert_eq!(parsed(&m, "null"), json!({}));
    assert_eq!(
        parsed(&m, r#"{"Str": null, "Nested": null, "List": []}"#),
        json!({"List": []})
    );
    assert!(parse_body(&m, m.shape_id("Struct").unwrap(), b"{\"Str\": ").is_err());
    assert!(parse_body(&m, m.shape_id("Struct").unwrap(), b"{} x").is_err());
}

#[test]
fn unknown_union_member() {
    let m = model();
    assert_eq!(
        parsed(
            &m,
            r#"{"Union": {"__type": "U", "C": {"x": 1}, "A": null}}"#
        ),
        json!({"Union": {"SDK_UNKNOWN_MEMBER": {"name": "C"}}})
    );
}

#[test]
fn unexpected_types_pass_through() {
    let m = model();
    assert_eq!(
        parsed(
            &m,
            r#"{"Str": 5, "Nested": "text", "List": {"a": 1}, "Ts": "not a date"}"#
        ),
        json!({"Str": 5, "Nested": "text", "List": {"a": 1}, "Ts": "not a date"})
    );
}

fn resp<'a>(status: u16, headers: &'a [(String, String)], body: &'a str) -> Response<'a> {
    Response {
        status,
        headers,
        body: body.as_bytes(),
    }
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn errors() {
    let m = model();
    let op = m.operation("Op").unwrap();
    let none = h(&[]);
    let e = parse_error(
        &m,
        op,
        &resp(
            400,
            &none,
            r#"{"__type": "ns#OopsCode", "Code": "Other", "Message": "hi", "Extra": "x"}"#,
        ),
    );
    assert_eq!(e.code, "OopsCode");
    assert_eq!(e.message, "hi");
    assert_eq!(
        e.fields,
        json!({"Message": "hi", "Extra": "x"})
            .as_object()
            .unwrap()
            .clone()
    );

    let hs = h(&[
        ("X-Amzn-ErrorType", "Foo:http://x"),
        ("x-amzn-RequestId", "rid"),
    ]);
    let e = parse_error(&m, op, &resp(500, &hs, ""));
    assert_eq!(
        (e.code.as_str(), e.request_id.as_deref()),
        ("Foo", Some("rid"))
    );

    let e = parse_error(
        &m,
        op,
        &resp(400, &none, r#"{"code": "a.b#Bar", "errorMessage": "m"}"#),
    );
    assert_eq!((e.code.as_str(), e.message.as_str()), ("Bar", "m"));

    let hs = h(&[("x-amzn-query-error", "OopsCode;Sender")]);
    let e = parse_error(
        &m,
        op,
        &resp(400, &hs, r#"{"__type": "ns#Oops", "message": "q"}"#),
    );
    assert_eq!((e.code.as_str(), e.message.as_str()), ("OopsCode", "q"));

    let e = parse_error(&m, op, &resp(503, &none, ""));
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("503", "Service Unavailable")
    );

    let e = parse_error(&m, op, &resp(502, &none, " <html>bad gateway</html>"));
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("502", "Bad Gateway")
    );

    let e = parse_error(&m, op, &resp(400, &none, "not json"));
    assert_eq!((e.code.as_str(), e.message.as_str()), ("400", "not json"));

    match parse(&m, op, &resp(400, &none, r#"{"__type": "Oops"}"#)) {
        Err(Error::Service(e)) => assert_eq!(e.code, "Oops"),
        other => panic!("{other:?}"),
    }
}

/// A DynamoDB Scan response of about `items` items with ten attributes each.
pub(crate) fn scan_body(items: usize) -> Vec<u8> {
    let mut out = String::from("{\"Count\":");
    out.push_str(&items.to_string());
    out.push_str(",\"ScannedCount\":");
    out.push_str(&items.to_string());
    out.push_str(",\"Items\":[");
    for i in 0..items {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
                concat!(
                    "{{\"pk\":{{\"S\":\"user#{i:08}\"}},\"sk\":{{\"S\":\"profile\"}},",
                    "\"age\":{{\"N\":\"{age}\"}},\"score\":{{\"N\":\"{i}.25\"}},",
                    "\"active\":{{\"BOOL\":true}},\"nothing\":{{\"NULL\":true}},",
                    "\"avatar\":{{\"B\":\"aGVsbG8gd29ybGQ=\"}},",
                    "\"tags\":{{\"SS\":[\"red\",\"green\",\"blue\"]}},",
                    "\"address\":{{\"M\":{{\"city\":{{\"S\":\"Paris\"}},\"zip\":{{\"N\":\"75001\"}}}}}},",
                    "\"history\":{{\"L\":[{{\"N\":\"1\"}},{{\"S\":\"two\"}},{{\"BOOL\":false}}]}}}}"
                ),
                i = i,
                age = i % 90
            ));
    }
    out.push_str("],\"LastEvaluatedKey\":{\"pk\":{\"S\":\"user#x\"}}}");
    out.into_bytes()
}

#[test]
fn query_compatible_cbor_service_speaks_json() {
    let m = crate::model::load("cloudwatch").unwrap();
    assert_eq!(m.protocol().unwrap(), crate::Protocol::Json);
    let op = m.operation("ListMetrics").unwrap();
    let req = serialize(&m, op, &json!({"Namespace": "AWS/EC2"})).unwrap();
    assert_eq!(
        req.header("X-Amz-Target"),
        Some("GraniteServiceVersion20100801.ListMetrics")
    );
    assert_eq!(
        req.header("Content-Type"),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(req.header("x-amzn-query-mode"), Some("true"));
    assert_eq!(req.body, br#"{"Namespace":"AWS/EC2"}"#);
    let hs = h(&[("x-amzn-query-error", "InvalidParameterValue;Sender")]);
    let e = parse_error(
        &m,
        op,
        &resp(
            400,
            &hs,
            r#"{"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException", "message": "bad"}"#,
        ),
    );
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("InvalidParameterValue", "bad")
    );
}

#[test]
fn dynamodb_put_item() {
    let m = crate::model::load("dynamodb").unwrap();
    let op = m.operation("PutItem").unwrap();
    let item = json!({"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "hi"},
                          "l": {"L": [{"M": {"x": {"BOOL": true}}}, {"NULL": true}]}});
    let req = serialize(&m, op, &json!({"TableName": "t", "Item": item})).unwrap();
    assert_eq!(
        req.header("X-Amz-Target"),
        Some("DynamoDB_20120810.PutItem")
    );
    assert_eq!(
        req.header("Content-Type"),
        Some("application/x-amz-json-1.0")
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let mut want = item.clone();
    want["b"]["B"] = json!("aGk=");
    assert_eq!(body, json!({"TableName": "t", "Item": want}));
}

#[test]
fn dynamodb_scan() {
    let m = crate::model::load("dynamodb").unwrap();
    let op = m.operation("Scan").unwrap();
    let body = scan_body(3);
    let out = parse_body(&m, op.output.as_ref().unwrap().target, &body).unwrap();
    let generic: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(out, generic);
    assert_eq!(
        out["Items"][1]["tags"],
        json!({"SS": ["red", "green", "blue"]})
    );
}

/// `cargo test --release -p awsdyn --lib scan_speed -- --ignored --nocapture`
#[test]
#[ignore]
fn scan_speed() {
    let m = crate::model::load("dynamodb").unwrap();
    let shape = m.operation("Scan").unwrap().output.as_ref().unwrap().target;
    let body = scan_body(20_000);
    let mb = body.len() as f64 / 1e6;
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let (mut ours, mut plain) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        let v = parse_body(&m, shape, &body).unwrap();
        ours = ours.min(t.elapsed().as_secs_f64());
        if std::env::var_os("LEAK").is_some() {
            std::mem::forget(v);
            continue;
        }
        drop(std::hint::black_box(v));
        let t = std::time::Instant::now();
        let v = serde_json::from_slice::<Value>(&body).unwrap();
        plain = plain.min(t.elapsed().as_secs_f64());
        drop(std::hint::black_box(v));
    }
    println!(
        "{mb:.1} MB: parse_body {:.0} MB/s, serde_json::Value {:.0} MB/s",
        mb / ours,
        mb / plain
    );
}
