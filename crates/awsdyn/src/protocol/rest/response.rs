//! Responses: members bound to the status, headers and payload, and rest errors.

use super::*;

// ---------------------------------------------------------------------------
// Responses.

/// How the response body of a shape is bound.
pub enum PayloadBinding<'a> {
    /// The body holds the shape's non-located members.
    Members,
    /// A blob or string payload member: the raw body.
    Raw { name: &'a str, blob: bool },
    /// A structure (or other) payload member: the body is that shape's document.
    Shape { name: &'a str, target: ShapeId },
    /// An event stream payload: not supported, the member is left out.
    EventStream,
}

/// How `shape`'s members are bound to the response body.
pub fn payload<'a>(model: &'a ServiceModel, op_ref: &'a ShapeRef) -> PayloadBinding<'a> {
    let s = model.shape(op_ref.target);
    let Some(name) = payload_member(Some(op_ref), s) else {
        return PayloadBinding::Members;
    };
    let Some((name, member)) = s.members.get_key_value(name) else {
        return PayloadBinding::Members;
    };
    let target = model.shape(member.target);
    if target.eventstream {
        return PayloadBinding::EventStream;
    }
    match target.kind {
        ShapeType::Blob => PayloadBinding::Raw { name, blob: true },
        ShapeType::String => PayloadBinding::Raw { name, blob: false },
        _ => PayloadBinding::Shape {
            name,
            target: member.target,
        },
    }
}

/// Reads the members of `shape` bound to the status code, to headers and to header
/// prefix maps into `out` (in member order).
pub fn parse_http(
    model: &ServiceModel,
    shape: ShapeId,
    resp: &Response,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    for (name, member) in &model.shape(shape).members {
        if let Some(v) = parse_http_member(model, name, member, resp)? {
            out.insert(name.clone(), v);
        }
    }
    Ok(())
}

/// One member bound to the status code, a header or a header prefix map; `None` when
/// the member is bound to the body or its header is absent.
pub(super) fn parse_http_member(
    model: &ServiceModel,
    name: &str,
    member: &ShapeRef,
    resp: &Response,
) -> Result<Option<Value>, String> {
    let target = model.shape(member.target);
    Ok(match member_location(member, target) {
        Some(Location::StatusCode) => Some(Value::from(resp.status)),
        Some(Location::Headers) => {
            let prefix = location_name(member, target).unwrap_or("");
            let mut map = Map::new();
            for (k, v) in resp.headers {
                if k.len() >= prefix.len()
                    && k.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
                {
                    map.insert(k[prefix.len()..].to_string(), Value::String(v.clone()));
                }
            }
            Some(Value::Object(map))
        }
        Some(Location::Header) => {
            let header = location_name(member, target).unwrap_or(name);
            match resp.header(header) {
                Some(v) => Some(
                    parse_header_value(model, member, v)
                        .map_err(|e| format!("header {header}: {e}"))?,
                ),
                None => None,
            }
        }
        _ => None,
    })
}

/// Parses one header value into boto3-shaped output for the member `r`.
pub fn parse_header_value(model: &ServiceModel, r: &ShapeRef, v: &str) -> Result<Value, String> {
    let shape = model.shape(r.target);
    Ok(match shape.kind {
        ShapeType::String if jsonvalue(r, shape) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|e| format!("not base64: {e}"))?;
            serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?
        }
        ShapeType::Integer
        | ShapeType::Long
        | ShapeType::Short
        | ShapeType::Byte
        | ShapeType::Biginteger => {
            let t = v.trim();
            match t.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => match t.parse::<u64>() {
                    Ok(u) => Value::from(u),
                    Err(_) => return Err(format!("not an integer: {v:?}")),
                },
            }
        }
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => {
            float_output(v.trim()).ok_or_else(|| format!("not a number: {v:?}"))?
        }
        ShapeType::Boolean => Value::Bool(v.trim().eq_ignore_ascii_case("true")),
        ShapeType::Timestamp => {
            let t = timestamp::parse(v).ok_or_else(|| format!("not a timestamp: {v:?}"))?;
            Value::String(timestamp::to_boto3(&t))
        }
        ShapeType::List => {
            let m = shape.member.as_ref().ok_or("list without member")?;
            let member_shape = model.shape(m.target);
            let mut items = split_header_list(v);
            if member_shape.kind == ShapeType::Timestamp {
                items = join_http_dates(items);
            }
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.push(parse_header_value(model, m, item)?);
            }
            Value::Array(out)
        }
        _ => Value::String(v.to_string()),
    })
}

/// A float read from text: `NaN`, `Infinity` and `-Infinity` as those strings.
pub(super) fn float_output(t: &str) -> Option<Value> {
    let f: f64 = match t.to_ascii_lowercase().as_str() {
        "nan" => return Some(Value::String("NaN".into())),
        "inf" | "infinity" | "+inf" | "+infinity" => return Some(Value::String("Infinity".into())),
        "-inf" | "-infinity" => return Some(Value::String("-Infinity".into())),
        _ => t.parse().ok()?,
    };
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// Splits a list header (RFC 7230): items separated by commas, optional whitespace
/// around them; an item may be a quoted string with `\` escapes.
pub fn split_header_list(v: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut chars = v.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            item.push(n);
                        }
                    }
                    '"' => break,
                    c => item.push(c),
                }
            }
            // Skip anything up to the next comma.
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
            items.push(item);
            if chars.peek().is_none() && !v.trim_end().ends_with(',') {
                break;
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                item.push(c);
            }
            items.push(item.trim().to_string());
            if ended {
                break;
            }
        }
    }
    items
}

/// HTTP dates hold a comma (`Mon, 16 Dec 2019 23:48:18 GMT`): after splitting a list
/// of them on commas, joins each day name back to its date.
pub(super) fn join_http_dates(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut pending: Option<String> = None;
    for item in items {
        if let Some(day) = pending.take() {
            out.push(format!("{day}, {item}"));
            continue;
        }
        if item.len() >= 3 && item.chars().all(|c| c.is_ascii_alphabetic()) {
            pending = Some(item);
        } else {
            out.push(item);
        }
    }
    out.extend(pending);
    out
}

/// The request id of a REST response: `x-amzn-requestid`, else `x-amz-request-id`.
pub fn request_id(resp: &Response) -> Option<String> {
    resp.header("x-amzn-requestid")
        .or_else(|| resp.header("x-amz-request-id"))
        .map(str::to_string)
}

/// Adds the header- and status-bound members of the modeled error shape for `code`
/// (if any) to `fields`, as botocore's modeled error parse does. A malformed header
/// leaves its member out rather than hiding the error.
pub fn add_error_http_fields(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
    code: &str,
    fields: &mut Map<String, Value>,
) {
    let Some(id) = crate::protocol::error_shape(model, op, code) else {
        return;
    };
    for (name, member) in &model.shape(id).members {
        if let Ok(Some(v)) = parse_http_member(model, name, member, resp) {
            fields.insert(name.clone(), v);
        }
    }
}

/// Whether a body is empty or only whitespace.
pub fn blank(body: &[u8]) -> bool {
    body.iter().all(|b| b.is_ascii_whitespace())
}

/// The body format of a REST protocol (JSON for rest-json, XML for rest-xml): what
/// [`parse_response`] needs from it.
pub trait BodyFormat {
    /// The members of structure `target` in a non-blank `body`.
    fn members(
        model: &ServiceModel,
        target: ShapeId,
        body: &[u8],
    ) -> Result<Map<String, Value>, String>;
    /// A structure (or document) payload member's value from a non-blank `body`.
    fn payload(model: &ServiceModel, target: ShapeId, body: &[u8]) -> Result<Value, String> {
        Self::members(model, target, body).map(Value::Object)
    }
    /// The service error in an error response's body, with code, message and the
    /// body's fields; `None` when the body holds no error the format recognises.
    fn error(model: &ServiceModel, op: &Operation, resp: &Response) -> Option<crate::ServiceError>;
}

/// A REST response parsed the way both REST protocols parse it: a status of 301 or
/// more is an error ([`parse_error`]); otherwise the header/status-bound members, then
/// the body per the payload binding (members, a raw blob/string payload, or a
/// structure payload).
pub fn parse_response<F: BodyFormat>(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
) -> Result<Value, Error> {
    if resp.status >= 301 {
        return Err(Error::Service(parse_error::<F>(model, op, resp)));
    }
    let parse_err = |message: String| Error::Parse {
        operation: op.name.clone(),
        status: resp.status,
        message,
    };
    let mut out = Map::new();
    let Some(output) = &op.output else {
        return Ok(Value::Object(out));
    };
    parse_http(model, output.target, resp, &mut out).map_err(parse_err)?;
    match payload(model, output) {
        PayloadBinding::Members => {
            if !blank(resp.body) {
                out.extend(F::members(model, output.target, resp.body).map_err(parse_err)?);
            }
        }
        PayloadBinding::Raw { name, blob } => {
            let v = if blob {
                crate::protocol::blob_output(resp.body)
            } else {
                Value::String(String::from_utf8_lossy(resp.body).into_owned())
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::Shape { name, target } => {
            let v = if blank(resp.body) {
                Value::Object(Map::new())
            } else {
                F::payload(model, target, resp.body).map_err(parse_err)?
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::EventStream => {}
    }
    Ok(Value::Object(out))
}

/// A REST error: the body's error when the format finds one with a code; otherwise
/// (an empty body, as HEAD requests get, or a 5xx with a generic HTML page and no
/// `x-amzn-errortype`) one named by the HTTP status (`404`, `Not Found`). The request
/// id comes from the headers when the body has none, and the header- and status-bound
/// members of the modeled error shape are added to the fields.
pub fn parse_error<F: BodyFormat>(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
) -> crate::ServiceError {
    let trimmed = resp.body.trim_ascii();
    let generic = resp.header("x-amzn-errortype").is_none()
        && (trimmed.is_empty() || (resp.status >= 500 && trimmed.starts_with(b"<html>")));
    let mut err = if generic {
        None
    } else {
        F::error(model, op, resp).filter(|e| !e.code.is_empty())
    }
    .unwrap_or_else(|| crate::ServiceError {
        code: resp.status.to_string(),
        message: crate::protocol::reason_phrase(resp.status).to_string(),
        request_id: None,
        status: resp.status,
        fields: Map::new(),
    });
    if err.request_id.is_none() {
        err.request_id = request_id(resp);
    }
    let code = err.code.clone();
    add_error_http_fields(model, op, resp, &code, &mut err.fields);
    err
}
