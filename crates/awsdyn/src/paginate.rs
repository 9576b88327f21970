//! Pagination from the paginators model (`paginators-1.json`): which input members
//! carry the token, where the next token is in a page, when to stop, and how pages
//! merge into one result the way boto3's `build_full_result` does.
//!
//! The expressions in the paginators model are a tiny subset of JMESPath: dotted paths,
//! a `[-1]` style index, and `a || b`. [`Expr`] implements exactly that.

use serde_json::{Map, Value};

use crate::model::ServiceModel;
use crate::Error;

/// One segment of a path expression.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Field(String),
    Index(i64),
}

/// A paginator expression: `A`, `A.B`, `Contents[-1].Key`, `NextMarker || Contents[-1].Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    text: String,
    alternatives: Vec<Vec<Segment>>,
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, String> {
        let mut alternatives = Vec::new();
        for alt in text.split("||") {
            let mut segs = Vec::new();
            for part in alt.trim().split('.') {
                let (name, mut rest) = match part.find('[') {
                    Some(i) => (&part[..i], &part[i..]),
                    None => (part, ""),
                };
                if name.is_empty() && rest.is_empty() {
                    return Err(format!("bad paginator expression {text:?}"));
                }
                if !name.is_empty() {
                    segs.push(Segment::Field(name.to_string()));
                }
                while let Some(stripped) = rest.strip_prefix('[') {
                    let end = stripped
                        .find(']')
                        .ok_or_else(|| format!("bad paginator expression {text:?}"))?;
                    let idx: i64 = stripped[..end]
                        .parse()
                        .map_err(|_| format!("bad index in paginator expression {text:?}"))?;
                    segs.push(Segment::Index(idx));
                    rest = &stripped[end + 1..];
                }
            }
            alternatives.push(segs);
        }
        Ok(Expr {
            text: text.to_string(),
            alternatives,
        })
    }

    /// The expression as written in the model.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The member name of an expression that is just one top-level member (`A`).
    pub(crate) fn as_field(&self) -> Option<&str> {
        match self.alternatives.as_slice() {
            [alt] => match alt.as_slice() {
                [Segment::Field(name)] => Some(name),
                _ => None,
            },
            _ => None,
        }
    }

    /// The top-level members the expression reads (the first field of each
    /// alternative).
    pub(crate) fn top_fields(&self) -> impl Iterator<Item = &str> {
        self.alternatives
            .iter()
            .filter_map(|alt| match alt.first() {
                Some(Segment::Field(name)) => Some(name.as_str()),
                _ => None,
            })
    }

    /// Evaluates the expression; `None` for null/missing (and for JMESPath-falsy
    /// alternatives before `||`).
    pub fn search<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let mut last = None;
        for alt in &self.alternatives {
            let found = walk(v, alt);
            if found.is_some_and(truthy) {
                return found;
            }
            last = found;
        }
        last.filter(|v| !v.is_null())
    }

    /// Sets the value at a plain dotted path, creating objects on the way (botocore's
    /// `set_value_from_jmespath`). Only the first alternative is used.
    pub fn set(&self, root: &mut Value, value: Value) {
        let segs = &self.alternatives[0];
        let mut cur = root;
        for (i, seg) in segs.iter().enumerate() {
            let Segment::Field(name) = seg else { return };
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            let obj = cur.as_object_mut().unwrap();
            if i + 1 == segs.len() {
                obj.insert(name.clone(), value);
                return;
            }
            cur = obj
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }

    fn search_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        let mut cur = v;
        for seg in &self.alternatives[0] {
            cur = match seg {
                Segment::Field(name) => cur.get_mut(name.as_str())?,
                Segment::Index(_) => return None,
            };
        }
        Some(cur)
    }
}

fn walk<'v>(v: &'v Value, segs: &[Segment]) -> Option<&'v Value> {
    let mut cur = v;
    for seg in segs {
        cur = match seg {
            Segment::Field(name) => cur.get(name.as_str())?,
            Segment::Index(i) => {
                let a = cur.as_array()?;
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                a.get(usize::try_from(idx).ok()?)?
            }
        };
    }
    Some(cur)
}

/// JMESPath truthiness: false, null, "", [] and {} are false.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => true,
    }
}

/// How one operation paginates.
#[derive(Debug, Clone)]
pub struct Paginator {
    pub input_token: Vec<String>,
    pub output_token: Vec<Expr>,
    pub more_results: Option<Expr>,
    pub limit_key: Option<String>,
    pub result_keys: Vec<Expr>,
    pub non_aggregate_keys: Vec<Expr>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Paginator {
    /// The paginator of `operation` (model name), if the service defines one.
    pub fn for_operation(
        model: &ServiceModel,
        operation: &str,
    ) -> Result<Option<Paginator>, Error> {
        let Some(cfg) = model.paginators().get(operation) else {
            return Ok(None);
        };
        let bad = |e: String| Error::Model(format!("{} {operation} paginator: {e}", model.name));
        let exprs = |v: &Value| -> Result<Vec<Expr>, Error> {
            strings(v)
                .iter()
                .map(|s| Expr::parse(s).map_err(bad))
                .collect()
        };
        let input_token = strings(&cfg["input_token"]);
        let output_token = exprs(&cfg["output_token"])?;
        if input_token.is_empty() || input_token.len() != output_token.len() {
            return Err(bad("input_token and output_token do not pair up".into()));
        }
        Ok(Some(Paginator {
            input_token,
            output_token,
            more_results: cfg
                .get("more_results")
                .and_then(Value::as_str)
                .map(Expr::parse)
                .transpose()
                .map_err(bad)?,
            limit_key: cfg
                .get("limit_key")
                .and_then(Value::as_str)
                .map(str::to_string),
            result_keys: exprs(&cfg["result_key"])?,
            non_aggregate_keys: exprs(&cfg["non_aggregate_keys"])?,
        }))
    }

    /// The tokens for the next request, or `None` when `page` is the last one
    /// (`more_results` false, or no non-empty output token).
    pub fn next_tokens(&self, page: &Value) -> Option<Vec<(String, Value)>> {
        if let Some(m) = &self.more_results {
            if !m.search(page).is_some_and(truthy) {
                return None;
            }
        }
        let mut tokens = Vec::with_capacity(self.input_token.len());
        let mut any = false;
        for (input, output) in self.input_token.iter().zip(&self.output_token) {
            match output.search(page).filter(|v| truthy(v)) {
                Some(v) => {
                    any = true;
                    tokens.push((input.clone(), v.clone()));
                }
                None => tokens.push((input.clone(), Value::Null)),
            }
        }
        any.then_some(tokens)
    }

    /// Writes the tokens into the next request's input (null tokens removed).
    pub fn inject(&self, input: &mut Value, tokens: &[(String, Value)]) {
        if !input.is_object() {
            *input = Value::Object(Map::new());
        }
        let obj = input.as_object_mut().unwrap();
        for (k, v) in tokens {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Merges pages into one result as boto3's `build_full_result` does: list result keys
/// concatenated, numeric/string ones summed/concatenated, non-aggregate keys taken
/// from the first page; nothing else of the pages is kept.
#[derive(Debug)]
pub struct FullResult<'p> {
    paginator: &'p Paginator,
    result: Value,
    pages: usize,
}

impl<'p> FullResult<'p> {
    pub fn new(paginator: &'p Paginator) -> Self {
        FullResult {
            paginator,
            result: Value::Object(Map::new()),
            pages: 0,
        }
    }

    pub fn add_page(&mut self, mut page: Value) {
        if self.pages == 0 {
            for expr in &self.paginator.non_aggregate_keys {
                let v = expr.search(&page).cloned().unwrap_or(Value::Null);
                expr.set(&mut self.result, v);
            }
        }
        self.pages += 1;
        for expr in &self.paginator.result_keys {
            let Some(value) = expr.search_mut(&mut page).map(Value::take) else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            match expr.search_mut(&mut self.result) {
                None => expr.set(&mut self.result, value),
                Some(existing) if existing.is_null() => *existing = value,
                Some(existing) => match (existing, value) {
                    (Value::Array(a), Value::Array(b)) => a.extend(b),
                    (Value::String(a), Value::String(b)) => a.push_str(&b),
                    (Value::Number(a), Value::Number(b)) => {
                        let sum = match (a.as_i64(), b.as_i64()) {
                            (Some(x), Some(y)) => Value::from(x + y),
                            _ => Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
                        };
                        if let Value::Number(n) = sum {
                            *a = n;
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// Pages merged so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    pub fn finish(self) -> Value {
        self.result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions() {
        let page = json!({"NextMarker": null, "Contents": [{"Key": "a"}, {"Key": "b"}], "D": {"L": {"Next": "t"}}});
        assert_eq!(
            Expr::parse("NextMarker || Contents[-1].Key")
                .unwrap()
                .search(&page),
            Some(&json!("b"))
        );
        assert_eq!(
            Expr::parse("D.L.Next").unwrap().search(&page),
            Some(&json!("t"))
        );
        assert_eq!(Expr::parse("Missing").unwrap().search(&page), None);
        assert!(Expr::parse("A[x]").is_err());
    }

    fn pager() -> Paginator {
        Paginator {
            input_token: vec!["Marker".into()],
            output_token: vec![Expr::parse("NextMarker").unwrap()],
            more_results: Some(Expr::parse("IsTruncated").unwrap()),
            limit_key: Some("MaxItems".into()),
            result_keys: vec![Expr::parse("Roles").unwrap(), Expr::parse("Count").unwrap()],
            non_aggregate_keys: vec![Expr::parse("Owner").unwrap()],
        }
    }

    #[test]
    fn tokens_and_stop() {
        let p = pager();
        let page = json!({"IsTruncated": true, "NextMarker": "m1"});
        assert_eq!(
            p.next_tokens(&page),
            Some(vec![("Marker".to_string(), json!("m1"))])
        );
        assert_eq!(
            p.next_tokens(&json!({"IsTruncated": false, "NextMarker": "m1"})),
            None
        );
        assert_eq!(
            p.next_tokens(&json!({"IsTruncated": true, "NextMarker": ""})),
            None
        );
        let mut input = json!({"MaxItems": 2});
        p.inject(&mut input, &[("Marker".to_string(), json!("m1"))]);
        assert_eq!(input, json!({"MaxItems": 2, "Marker": "m1"}));
    }

    #[test]
    fn full_result_like_boto3() {
        let p = pager();
        let mut full = FullResult::new(&p);
        full.add_page(
            json!({"Roles": [1, 2], "Count": 2, "Owner": "first", "IsTruncated": true, "Other": 1}),
        );
        full.add_page(json!({"Roles": [3], "Count": 1, "Owner": "second", "IsTruncated": false}));
        assert_eq!(full.pages(), 2);
        assert_eq!(
            full.finish(),
            json!({"Owner": "first", "Roles": [1, 2, 3], "Count": 3})
        );
    }

    #[test]
    fn every_bundled_paginator_parses() {
        for e in crate::model::services()
            .iter()
            .filter(|e| ["s3", "ec2", "iam", "cloudfront", "kinesis"].contains(&e.name.as_str()))
        {
            let m = crate::model::load(&e.name).unwrap();
            for op in m.paginators().as_object().unwrap().keys() {
                Paginator::for_operation(&m, op).unwrap().unwrap();
            }
        }
    }
}
