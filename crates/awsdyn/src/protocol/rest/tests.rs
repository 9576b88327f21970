use super::*;

#[test]
fn http_bindings() {
    let model = ServiceModel::from_value(
            "t",
            serde_json::json!({
                "metadata": {"protocol": "rest-json"},
                "operations": {"Op": {"name": "Op", "http": {"method": "GET", "requestUri": "/{Bucket}/{Key+}?versions"}, "input": {"shape": "In"}}},
                "shapes": {
                    "In": {"type": "structure", "members": {
                        "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                        "Key": {"shape": "S", "location": "uri", "locationName": "Key"},
                        "Named": {"shape": "S", "location": "querystring", "locationName": "a"},
                        "Rest": {"shape": "M", "location": "querystring"},
                        "Since": {"shape": "T", "location": "querystring", "locationName": "since"},
                        "Flags": {"shape": "BL", "location": "querystring", "locationName": "flag"},
                        "When": {"shape": "T", "location": "header", "locationName": "x-when"},
                        "Names": {"shape": "SL", "location": "header", "locationName": "x-names"},
                        "Doc": {"shape": "S", "location": "header", "locationName": "x-doc", "jsonvalue": true},
                        "Meta": {"shape": "M", "location": "headers", "locationName": "x-meta-"},
                    }},
                    "S": {"type": "string"},
                    "T": {"type": "timestamp"},
                    "B": {"type": "boolean"},
                    "BL": {"type": "list", "member": {"shape": "B"}},
                    "SL": {"type": "list", "member": {"shape": "S"}},
                    "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
                },
            }),
        )
        .unwrap();
    let op = &model.operations["Op"];
    let input = serde_json::json!({
        "Bucket": "my bucket",
        "Key": "dir/file name+1.txt",
        "Rest": {"a": "from map", "b": "x/y"},
        "Named": "named",
        "Since": 1422172800.5,
        "Flags": [true, false],
        "When": 1422172800.5,
        "Names": ["a", "b,c", "d\"e"],
        "Doc": {"k": [1, "é"]},
        "Meta": {"Color": "red"},
    });
    let http = serialize_http(&model, op, &input).unwrap();
    let req = http.request;
    assert_eq!(
            req.uri,
            "/my%20bucket/dir/file%20name%2B1.txt?versions&a=named&b=x%2Fy&since=2015-01-25T08%3A00%3A00.500000Z&flag=true&flag=false"
        );
    assert_eq!(req.header("x-when"), Some("Sun, 25 Jan 2015 08:00:00 GMT"));
    assert_eq!(req.header("x-names"), Some("a,\"b,c\",\"d\\\"e\""));
    assert_eq!(req.header("x-doc"), Some("eyJrIjpbMSwiXHUwMGU5Il19"));
    assert_eq!(req.header("x-meta-Color"), Some("red"));
    assert!(matches!(http.body, BodyBinding::None));

    let only_bucket = serde_json::json!({"Bucket": "b"});
    let missing = serialize_http(&model, op, &only_bucket);
    assert!(matches!(missing, Err(Error::Validation { .. })));
}

#[test]
fn labels_keep_only_unreserved() {
    assert_eq!(encode_label("my/bucket"), "my%2Fbucket");
    assert_eq!(encode_label("a b+c~d_e.f-g"), "a%20b%2Bc~d_e.f-g");
    assert_eq!(
        encode_label("%:/?#[]@!$&'()*,;="),
        "%25%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2C%3B%3D"
    );
    assert_eq!(encode_label("é"), "%C3%A9");
    assert_eq!(encode_greedy_label("testing /123"), "testing%20/123");
    assert_eq!(encode_greedy_label("a/b/c?d"), "a/b/c%3Fd");
}

#[test]
fn list_headers_quote_as_botocore() {
    assert_eq!(quote_header_list_item("plain"), "plain");
    assert_eq!(quote_header_list_item("a,b"), "\"a,b\"");
    assert_eq!(quote_header_list_item("say \"hi\""), "\"say \\\"hi\\\"\"");
}

#[test]
fn list_headers_split() {
    assert_eq!(split_header_list("a, b,c"), vec!["a", "b", "c"]);
    assert_eq!(
        split_header_list("\"b,c\", \"\\\"quoted\\\"\", d"),
        vec!["b,c", "\"quoted\"", "d"]
    );
    assert_eq!(split_header_list("a,"), vec!["a", ""]);
    assert_eq!(
        join_http_dates(split_header_list(
            "Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT"
        )),
        vec![
            "Mon, 16 Dec 2019 23:48:18 GMT",
            "Tue, 17 Dec 2019 23:48:18 GMT"
        ]
    );
}

#[test]
fn python_floats() {
    assert_eq!(py_float(1.0), "1.0");
    assert_eq!(py_float(1.1), "1.1");
    assert_eq!(py_float(1e16), "1e+16");
    assert_eq!(py_float(1.5e-5), "1.5e-05");
    assert_eq!(py_float(0.0001), "0.0001");
    assert_eq!(py_float(f64::NAN), "NaN");
}

#[test]
fn jsonvalue_headers_escape_non_ascii() {
    let v = serde_json::json!({"a": "é", "b": [1, 2]});
    assert_eq!(compact_ascii_json(&v), r#"{"a":"\u00e9","b":[1,2]}"#);
}
