//! An answer decoded straight into the JSON `census call` prints (serde_json's pretty
//! form of [`decode`](super::decode)'s value, merged as [`FullResult`] merges a first
//! page when asked), without building the value: the streaming parsers of the `json`,
//! `query` and `ec2` protocols write it in one pass over the body.
//!
//! [`decode_printed`] answers `None` for whatever it does not handle (error statuses,
//! other protocols, operations with result customizations, paginators whose keys are
//! not top-level members, documents the streaming parsers refuse, invalid bodies): the
//! caller then takes the [`Value`] path, so the printed bytes never differ.
//!
//! [`FullResult`]: crate::paginate::FullResult

use std::io::{self, Write};
use std::ops::Range;

use serde_json::{Map, Value};

use crate::customize::service_facts;
use crate::model::{Operation, Protocol, ServiceModel};
use crate::paginate::Paginator;
use crate::protocol::pretty::{Out, Top};
use crate::protocol::{json, xml, Response};

/// A decoded answer ready to print.
pub struct Printed<'m> {
    top: Top<'m>,
    /// The members of the printed object in order: name, and value bytes in `top.buf`
    /// (`None`: `null`).
    entries: Vec<(String, Option<Range<usize>>)>,
    /// With a merge: the tokens of the next page when the answer has one, as
    /// [`Paginator::next_tokens`] gives them.
    pub next_tokens: Option<Vec<(String, Value)>>,
}

/// Decodes a success answer to `op` (key `op_name` in the model) straight into its
/// printed form, merged as a first page when `merge` and the operation has a
/// paginator; `None` when the [`Value`] path must do it (see the module docs). `census
/// call` without `--param`: customizations see an empty input.
pub fn decode_printed<'m>(
    model: &'m ServiceModel,
    op_name: &str,
    op: &'m Operation,
    resp: &Response,
    merge: bool,
) -> Option<Printed<'m>> {
    let facts = service_facts(&model.name);
    if facts.error_in_200
        || facts.url_encoded_json_shape.is_some()
        || facts.json_results.contains_key(&op.name)
        || facts.base64_results.contains_key(&op.name)
        || facts.root_text_results.contains_key(&op.name)
        || facts.url_encoded_listings.contains_key(&op.name)
    {
        return None;
    }
    // botocore treats 301 and above as errors.
    if resp.status >= 301 {
        return None;
    }
    let output = op.output.as_ref()?;
    let top = match model.protocol().ok()? {
        Protocol::Json => json::stream::parse_top(model, output.target, resp.body)?,
        Protocol::Query => {
            let wrapper = match output.result_wrapper() {
                Some(w) => w.to_string(),
                None => format!("{}Result", op.name),
            };
            xml::stream::parse_top(model, output.target, resp.body, Some(&wrapper))?
        }
        Protocol::Ec2 => xml::stream::parse_top(model, output.target, resp.body, None)?,
        Protocol::RestJson | Protocol::RestXml => return None,
    };
    let paginator = if merge {
        Paginator::for_operation(model, op_name).ok()?
    } else {
        None
    };
    let Some(paginator) = paginator else {
        let entries = top
            .members
            .iter()
            .map(|(name, r)| (name.to_string(), Some(r.clone())))
            .collect();
        return Some(Printed {
            top,
            entries,
            next_tokens: None,
        });
    };
    let entries = merged_entries(&paginator, &top)?;
    // The page as far as the token expressions read it.
    let mut page = Map::new();
    let token_exprs = paginator.output_token.iter().chain(&paginator.more_results);
    for field in token_exprs.flat_map(|e| e.top_fields()) {
        if let Some(bytes) = top.get(field) {
            page.insert(field.to_string(), serde_json::from_slice(bytes).ok()?);
        }
    }
    let next_tokens = paginator.next_tokens(&Value::Object(page));
    Some(Printed {
        top,
        entries,
        next_tokens,
    })
}

/// The members of [`FullResult`](crate::paginate::FullResult)'s result for one page:
/// the non-aggregate keys (null when absent), then the result keys present. `None`
/// for keys that are not plain top-level members, or both kinds at once.
fn merged_entries(paginator: &Paginator, top: &Top) -> Option<Vec<(String, Option<Range<usize>>)>> {
    let find = |f: &str| {
        top.members
            .iter()
            .find(|(n, _)| *n == f)
            .map(|(_, r)| r.clone())
    };
    let mut entries: Vec<(String, Option<Range<usize>>)> = Vec::new();
    for e in &paginator.non_aggregate_keys {
        let f = e.as_field()?;
        match entries.iter_mut().find(|(n, _)| n == f) {
            Some(entry) => entry.1 = find(f),
            None => entries.push((f.to_string(), find(f))),
        }
    }
    let aggregate_from = entries.len();
    for e in &paginator.result_keys {
        let f = e.as_field()?;
        if entries[..aggregate_from].iter().any(|(n, _)| n == f) {
            return None;
        }
        let Some(r) = find(f) else { continue };
        // A key listed twice: the second finds the page's value already taken.
        if !entries.iter().any(|(n, _)| n == f) {
            entries.push((f.to_string(), Some(r)));
        }
    }
    Some(entries)
}

impl Printed<'_> {
    /// Writes the JSON (without a final line break).
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        if self.entries.is_empty() {
            return w.write_all(b"{}");
        }
        let mut head = Out::with_capacity(64);
        head.depth = 1;
        w.write_all(b"{")?;
        for (n, (name, value)) in self.entries.iter().enumerate() {
            head.buf.clear();
            head.separator(n == 0);
            head.key(name);
            w.write_all(&head.buf)?;
            match value {
                Some(r) => w.write_all(&self.top.buf[r.clone()])?,
                None => w.write_all(b"null")?,
            }
        }
        w.write_all(b"\n}")
    }
}
