//! Runs botocore's protocol test vectors (tests/data/protocols) against awsdyn's
//! serializers and parsers, and prints per protocol and direction:
//! `N passed, M failed, K skipped`.
//!
//! Skipped cases are listed in tests/data/protocols-skip.txt, one per line:
//! `<protocol> <input|output> <case-key> <reason>`. The run fails when a case that is
//! not listed fails, or when fewer than 97% of the non-CBOR input or output cases pass.
//!
//! Filters (environment): VECTORS_PROTOCOL, VECTORS_DIRECTION, VECTORS_CASE (substring
//! of the case key); VECTORS_VERBOSE=1 prints every failing case in full.

mod vectors;

use std::collections::{BTreeMap, HashMap, HashSet};

use awsdyn::model::{ServiceModel, ShapeType};
use awsdyn::protocol::{self, Response};
use awsdyn::Error;
use serde_json::{json, Value};
use vectors::*;

fn run_case(case: &Case) -> Result<(), String> {
    let (model, op_name) = model_for(case)?;
    let op = model.operations.get(&op_name).unwrap();
    if case.direction == "input" {
        let params = case
            .case
            .get("params")
            .cloned()
            .unwrap_or_else(|| json!({}));
        // botocore's tests patch uuid4; this is the token they expect.
        let token = || "00000000-0000-4000-8000-000000000000".to_string();
        let req = protocol::serialize_with_token(&model, op, &params, &token)
            .map_err(|e| format!("serialize failed: {e}"))?;
        check_request(&model, case, &req)
    } else {
        let (status, headers, body) = response_of(case);
        let r = Response {
            status,
            headers: &headers,
            body: &body,
        };
        let result = protocol::parse(&model, op, &r);
        if expects_error(case) {
            match result {
                Err(Error::Service(e)) => {
                    check_error(&model, op, case, &e.code, &e.message, &e.fields)
                }
                Err(e) => Err(format!("expected a service error, got error {e}")),
                Ok(v) => Err(format!("expected a service error, got result {v}")),
            }
        } else {
            let value = result.map_err(|e| format!("parse failed: {e}"))?;
            check_result(&model, op, case, &value)
        }
    }
}

fn split_uri(uri: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    (path, form_pairs(query))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect();
    v.sort();
    v
}

fn check_request(model: &ServiceModel, case: &Case, req: &awsdyn::Request) -> Result<(), String> {
    let ser = &case.case["serialized"];
    let mut problems = Vec::new();
    if let Some(m) = ser.get("method").and_then(Value::as_str) {
        if !m.eq_ignore_ascii_case(&req.method) {
            problems.push(format!("method: expected {m}, got {}", req.method));
        }
    }
    let endpoint = case
        .suite
        .get("clientEndpoint")
        .and_then(Value::as_str)
        .unwrap_or("https://example.com");
    let endpoint_host_path = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .trim_end_matches('/');
    // The client joins the endpoint's own path (https://example.com/custom) before the
    // request's URI, as the HTTP layer does.
    let endpoint_path = endpoint_host_path
        .find('/')
        .map(|i| &endpoint_host_path[i..])
        .unwrap_or("");
    let full_uri = format!("{endpoint_path}{}", req.uri);
    if let Some(uri) = ser.get("uri").and_then(Value::as_str) {
        let (ep, eq) = split_uri(uri);
        let (op_, oq) = split_uri(&full_uri);
        if ep != op_ || eq != oq {
            problems.push(format!("uri: expected {uri}, got {full_uri}"));
        }
    }
    if let Some(h) = ser.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            let want = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            // A Content-Type expected without parameters matches ours with a charset
            // (botocore sends `application/x-www-form-urlencoded; charset=utf-8`).
            let media_type_only = k.eq_ignore_ascii_case("content-type") && !want.contains(';');
            // botocore's own runner drops the space after commas in list headers
            // (`a, b` vs `a,b`) before comparing; so do we.
            let list_header = is_list_header(model, case, k);
            let clean = |v: &str| {
                if list_header {
                    v.replace(", ", ",")
                } else {
                    v.to_string()
                }
            };
            match req.header(k) {
                Some(got) if got == want => {}
                Some(got) if list_header && clean(got) == clean(&want) => {}
                Some(got)
                    if media_type_only && got.split(';').next().unwrap_or("").trim() == want => {}
                Some(got) => problems.push(format!("header {k}: expected {want:?}, got {got:?}")),
                None => problems.push(format!("header {k}: missing (expected {want:?})")),
            }
        }
    }
    if let Some(h) = ser.get("forbidHeaders").and_then(Value::as_array) {
        for k in h.iter().filter_map(Value::as_str) {
            if req.header(k).is_some() {
                problems.push(format!("header {k} must not be sent"));
            }
        }
    }
    if let Some(host) = ser.get("host").and_then(Value::as_str) {
        let ours = format!(
            "{}{}",
            req.host_prefix.as_deref().unwrap_or(""),
            endpoint_host_path
        );
        if ours != host {
            problems.push(format!("host: expected {host}, got {ours}"));
        }
    }
    let want_body = ser.get("body").and_then(Value::as_str).unwrap_or("");
    let got_body = String::from_utf8_lossy(&req.body);
    // As botocore's runner: the body is compared only when the case gives one (the
    // compression cases, for one, name only the headers).
    if ser.get("body").is_some() && !bodies_match(model, want_body, &got_body) {
        problems.push(format!(
            "body:\n  expected {want_body:?}\n  got      {got_body:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Whether `header` is bound to an input member whose shape is a list.
fn is_list_header(model: &ServiceModel, case: &Case, header: &str) -> bool {
    let Some(op) = case.case["given"]["name"]
        .as_str()
        .and_then(|n| model.operations.get(n))
    else {
        return false;
    };
    let Some(input) = &op.input else { return false };
    model.shape(input.target).members.iter().any(|(name, m)| {
        m.location == Some(awsdyn::model::Location::Header)
            && m.location_name
                .as_deref()
                .unwrap_or(name)
                .eq_ignore_ascii_case(header)
            && model.shape(m.target).kind == ShapeType::List
    })
}

fn bodies_match(model: &ServiceModel, want: &str, got: &str) -> bool {
    if want == got {
        return true;
    }
    let (w, g) = (want.trim(), got.trim());
    if w.is_empty() || g.is_empty() {
        return w == g;
    }
    let protocol = model.metadata.protocol.as_str();
    if (protocol == "query" || protocol == "ec2") && !w.starts_with('<') {
        return form_pairs(w) == form_pairs(g);
    }
    if w.starts_with('{') || w.starts_with('[') {
        if let (Ok(a), Ok(b)) = (
            serde_json::from_str::<Value>(w),
            serde_json::from_str::<Value>(g),
        ) {
            return same(&a, &b);
        }
    }
    if w.starts_with('<') {
        if let (Some(a), Some(b)) = (xml_tree(w), xml_tree(g)) {
            return a == b;
        }
    }
    false
}

#[derive(Debug, PartialEq)]
struct XmlNode {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<XmlNode>,
}

fn xml_tree(s: &str) -> Option<XmlNode> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(s);
    let mut stack: Vec<XmlNode> = vec![XmlNode {
        name: String::new(),
        attrs: BTreeMap::new(),
        text: String::new(),
        children: vec![],
    }];
    let open = |e: &quick_xml::events::BytesStart| -> Option<XmlNode> {
        let mut attrs = BTreeMap::new();
        for a in e.attributes() {
            let a = a.ok()?;
            attrs.insert(
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                a.unescape_value().ok()?.into_owned(),
            );
        }
        Some(XmlNode {
            name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            attrs,
            text: String::new(),
            children: vec![],
        })
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let n = open(&e)?;
                stack.last_mut()?.children.push(n);
            }
            Event::End(_) => {
                let mut n = stack.pop()?;
                n.text = n.text.trim().to_string();
                stack.last_mut()?.children.push(n);
            }
            Event::Text(t) => stack.last_mut()?.text.push_str(&t.unescape().ok()?),
            Event::CData(t) => stack
                .last_mut()?
                .text
                .push_str(&String::from_utf8_lossy(&t)),
            Event::Eof => break,
            _ => {}
        }
    }
    let mut root = stack.pop()?;
    if root.children.len() == 1 {
        root.children.pop()
    } else {
        None
    }
}

fn main() {
    // `cargo test` passes flags such as --nocapture/--quiet; this harness takes none.
    let want_protocol = std::env::var("VECTORS_PROTOCOL").ok();
    let want_direction = std::env::var("VECTORS_DIRECTION").ok();
    let want_case = std::env::var("VECTORS_CASE").ok();
    let verbose = std::env::var("VECTORS_VERBOSE").is_ok_and(|v| v != "0");
    let skips = load_skips();
    let mut used_skips = HashSet::new();
    let mut tallies: BTreeMap<(String, &'static str), Tally> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    let mut cbor = 0;
    for case in load_cases() {
        if case.protocol.starts_with("smithy-rpc-v2-cbor") {
            cbor += 1;
            continue;
        }
        if want_protocol.as_deref().is_some_and(|p| p != case.protocol)
            || want_direction
                .as_deref()
                .is_some_and(|d| d != case.direction)
            || want_case.as_deref().is_some_and(|c| !case.key.contains(c))
        {
            continue;
        }
        let skip_key = (
            case.protocol.clone(),
            case.direction.to_string(),
            case.key.clone(),
        );
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(&case)))
            .unwrap_or_else(|p| {
                Err(format!(
                    "panicked: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                ))
            });
        let t = tallies
            .entry((case.protocol.clone(), case.direction))
            .or_default();
        if skips.contains_key(&skip_key) {
            used_skips.insert(skip_key.clone());
            t.skipped += 1;
            if outcome.is_ok() {
                stale.push(format!("{} {} {}", case.protocol, case.direction, case.key));
            }
            continue;
        }
        match outcome {
            Ok(()) => t.passed += 1,
            Err(why) => {
                t.failed += 1;
                if verbose {
                    eprintln!(
                        "FAIL {} {} {}: {why}\n",
                        case.protocol, case.direction, case.key
                    );
                }
                unexpected.push(format!(
                    "{} {} {}: {}",
                    case.protocol,
                    case.direction,
                    case.key,
                    why.lines().next().unwrap_or("")
                ));
            }
        }
    }
    let mut totals: HashMap<&str, Tally> = HashMap::new();
    println!("protocol vectors (botocore 1.43.67):");
    for ((p, d), t) in &tallies {
        println!(
            "  {p:28} {d:6}: {} passed, {} failed, {} skipped",
            t.passed, t.failed, t.skipped
        );
        let tot = totals.entry(d).or_default();
        tot.passed += t.passed;
        tot.failed += t.failed;
        tot.skipped += t.skipped;
    }
    println!("  smithy-rpc-v2-cbor (all)           : {cbor} not run (CBOR is not supported)");
    let mut ok = true;
    for d in ["input", "output"] {
        let t = totals.get(d).copied().unwrap_or_default();
        let all = t.passed + t.failed + t.skipped;
        if all == 0 {
            continue;
        }
        let rate = 100.0 * t.passed as f64 / all as f64;
        println!(
            "  all non-CBOR {d}: {} passed of {all} ({rate:.1}%), {} skipped, {} failed",
            t.passed, t.skipped, t.failed
        );
        let filtered = want_protocol.is_some() || want_case.is_some();
        if !filtered && rate < 97.0 {
            ok = false;
            println!("  FAIL: fewer than 97% of the non-CBOR {d} cases pass");
        }
    }
    for s in &stale {
        println!("  note: skipped case now passes, remove it from protocols-skip.txt: {s}");
    }
    let filtered = want_protocol.is_some() || want_direction.is_some() || want_case.is_some();
    if !filtered {
        for k in skips.keys() {
            if !used_skips.contains(k) {
                println!(
                    "  note: protocols-skip.txt lists a case that does not exist: {} {} {}",
                    k.0, k.1, k.2
                );
            }
        }
    }
    if !unexpected.is_empty() {
        ok = false;
        println!(
            "  {} failing cases not listed in protocols-skip.txt:",
            unexpected.len()
        );
        for u in &unexpected {
            println!("    {u}");
        }
    }
    if !ok {
        std::process::exit(1);
    }
}
