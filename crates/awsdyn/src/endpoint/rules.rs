//! Rule sets: `endpoint-rule-set-1.json` compiled into Rust values, and their
//! evaluation.
//!
//! Compilation resolves every name to a slot (parameters first, then the names that
//! conditions `assign`), every function to a [`Call`] variant, every `getAttr` path
//! and every `{template}` string to steps, and checks that each reference names a
//! parameter or a value assigned earlier on the same rule path. Evaluation then walks
//! the rules with a vector of slots and never looks at JSON, except to build the
//! endpoint's properties.
//!
//! Semantics follow botocore's `endpoint_provider.py`: a condition holds when its
//! value is set and not `false`; a tree rule whose sub-rules all fail falls through
//! to the next rule. One difference: a function other than `isSet` and `not` given
//! an unset argument gives an unset value, so its condition fails, where botocore
//! would raise (valid rule sets guard such references with `isSet`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::functions::{self, Arn, Url};
use super::partition::{Partition, Partitions};
use super::{Endpoint, EndpointError, ParamValue, Params};

mod compile;

/// The type of a rule-set parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Boolean,
    StringArray,
}

impl ParamKind {
    fn name(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Boolean => "boolean",
            ParamKind::StringArray => "list of strings",
        }
    }

    fn accepts(self, v: &ParamValue) -> bool {
        matches!(
            (self, v),
            (ParamKind::String, ParamValue::String(_))
                | (ParamKind::Boolean, ParamValue::Bool(_))
                | (ParamKind::StringArray, ParamValue::StringList(_))
        )
    }
}

/// A parameter the rule set declares.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub kind: ParamKind,
    /// The built-in that supplies it (`AWS::Region`, `SDK::Endpoint`, ...).
    pub built_in: Option<String>,
    pub default: Option<ParamValue>,
    pub required: bool,
    pub documentation: Option<String>,
}

/// A compiled endpoint rule set.
#[derive(Debug)]
pub struct RuleSet {
    parameters: Vec<Parameter>,
    rules: Vec<Rule>,
    /// Parameters, then assigned names.
    slots: usize,
    partitions: Arc<Partitions>,
}

type Slot = usize;

#[derive(Debug)]
struct Rule {
    conditions: Vec<Condition>,
    kind: RuleKind,
}

#[derive(Debug)]
enum RuleKind {
    Endpoint(Box<EndpointTemplate>),
    Error(Expr),
    Tree(Vec<Rule>),
}

#[derive(Debug)]
struct Condition {
    call: Call,
    assign: Option<Slot>,
}

#[derive(Debug)]
struct EndpointTemplate {
    url: Expr,
    headers: Vec<(String, Vec<Expr>)>,
    properties: Vec<(String, Prop)>,
}

/// An endpoint property: literal JSON, or JSON with templates inside.
#[derive(Debug)]
enum Prop {
    Literal(Value),
    Template(Template),
    Array(Vec<Prop>),
    Object(Vec<(String, Prop)>),
}

#[derive(Debug)]
enum Expr {
    Bool(bool),
    Int(i64),
    Str(String),
    Template(Template),
    Ref(Slot),
    Call(Box<Call>),
}

/// A string with `{name}` / `{name#path}` holes.
#[derive(Debug)]
struct Template {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    Var(Slot, Vec<Step>),
}

/// One step of a `getAttr` path: `name` or `[index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

#[derive(Debug)]
enum Call {
    BooleanEquals(Expr, Expr),
    StringEquals(Expr, Expr),
    IsSet(Expr),
    Not(Expr),
    GetAttr(Expr, Vec<Step>),
    Partition(Expr),
    ParseArn(Expr),
    ParseUrl(Expr),
    IsValidHostLabel(Expr, Expr),
    IsVirtualHostableS3Bucket(Expr, Expr),
    Substring(Expr, Expr, Expr, Expr),
    UriEncode(Expr),
}

/// A value during evaluation. Strings borrow from the parameters and the rule set
/// where they can.
#[derive(Debug, Clone)]
enum Val<'a> {
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    List(Cow<'a, [String]>),
    Partition(&'a Partition),
    Url(Box<Url>),
    Arn(Box<Arn>),
}

impl Val<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Bool(_) => "boolean",
            Val::Int(_) => "integer",
            Val::Str(_) => "string",
            Val::List(_) => "array",
            Val::Partition(_) | Val::Url(_) | Val::Arn(_) => "object",
        }
    }
}

fn truthy(v: &Option<Val>) -> bool {
    !matches!(v, None | Some(Val::Bool(false)))
}

// ---------------------------------------------------------------------------
// Evaluation.

type Scope<'a> = Vec<Option<Val<'a>>>;

fn type_error(what: &str, v: &Val) -> EndpointError {
    EndpointError::RuleSet(format!(
        "{what} expects a different type, got a {}",
        v.type_name()
    ))
}

impl RuleSet {
    /// Resolves the endpoint for these parameters: applies defaults, checks required
    /// parameters and types, then evaluates the rules. An error rule that matches
    /// gives [`EndpointError::Rule`] with its message.
    pub fn resolve(&self, params: &Params) -> Result<Endpoint, EndpointError> {
        let mut scope: Scope = Vec::with_capacity(self.slots);
        for p in &self.parameters {
            let value = match params.get(&p.name).or(p.default.as_ref()) {
                Some(v) if !p.kind.accepts(v) => {
                    return Err(EndpointError::InvalidParameter {
                        name: p.name.clone(),
                        expected: p.kind.name(),
                    })
                }
                Some(ParamValue::Bool(b)) => Some(Val::Bool(*b)),
                Some(ParamValue::String(s)) => Some(Val::Str(Cow::Borrowed(s))),
                Some(ParamValue::StringList(l)) => Some(Val::List(Cow::Borrowed(l))),
                None if p.required => return Err(EndpointError::MissingParameter(p.name.clone())),
                None => None,
            };
            scope.push(value);
        }
        scope.resize(self.slots, None);
        match self.eval_rules(&self.rules, &mut scope)? {
            Some(endpoint) => Ok(endpoint),
            None => {
                let shown: Vec<String> = params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.to_json()))
                    .collect();
                Err(EndpointError::NoMatch(shown.join(", ")))
            }
        }
    }

    fn eval_rules<'a>(
        &'a self,
        rules: &'a [Rule],
        scope: &mut Scope<'a>,
    ) -> Result<Option<Endpoint>, EndpointError> {
        'rules: for rule in rules {
            for c in &rule.conditions {
                let v = self.call(&c.call, scope)?;
                let ok = truthy(&v);
                if let Some(slot) = c.assign {
                    scope[slot] = v;
                }
                if !ok {
                    continue 'rules;
                }
            }
            match &rule.kind {
                RuleKind::Endpoint(e) => return self.endpoint(e, scope).map(Some),
                RuleKind::Error(e) => return Err(EndpointError::Rule(self.string(e, scope)?)),
                RuleKind::Tree(sub) => {
                    if let Some(endpoint) = self.eval_rules(sub, scope)? {
                        return Ok(Some(endpoint));
                    }
                }
            }
        }
        Ok(None)
    }

    fn endpoint<'a>(
        &'a self,
        e: &'a EndpointTemplate,
        scope: &Scope<'a>,
    ) -> Result<Endpoint, EndpointError> {
        let url = self.string(&e.url, scope)?;
        let mut headers = IndexMap::with_capacity(e.headers.len());
        for (name, values) in &e.headers {
            let values = values
                .iter()
                .map(|v| self.string(v, scope))
                .collect::<Result<_, _>>()?;
            headers.insert(name.clone(), values);
        }
        let mut properties = Map::new();
        for (name, p) in &e.properties {
            properties.insert(name.clone(), self.prop(p, scope)?);
        }
        Ok(Endpoint {
            url,
            headers,
            properties,
        })
    }

    fn prop<'a>(&'a self, p: &'a Prop, scope: &Scope<'a>) -> Result<Value, EndpointError> {
        Ok(match p {
            Prop::Literal(v) => v.clone(),
            Prop::Template(t) => Value::String(self.render(t, scope)?),
            Prop::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|p| self.prop(p, scope))
                    .collect::<Result<_, _>>()?,
            ),
            Prop::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, p)| Ok((k.clone(), self.prop(p, scope)?)))
                    .collect::<Result<_, EndpointError>>()?,
            ),
        })
    }

    /// Evaluates an expression that must give a string (URLs, headers, messages).
    fn string<'a>(&'a self, e: &'a Expr, scope: &Scope<'a>) -> Result<String, EndpointError> {
        match self.eval(e, scope)?.as_deref() {
            Some(Val::Str(s)) => Ok(s.to_string()),
            Some(other) => Err(type_error("a URL, header or message", other)),
            None => Err(EndpointError::RuleSet(
                "a URL, header or message is unset".into(),
            )),
        }
    }

    fn render<'a>(&'a self, t: &'a Template, scope: &Scope<'a>) -> Result<String, EndpointError> {
        let mut out = String::new();
        for part in &t.parts {
            match part {
                Part::Text(s) => out.push_str(s),
                Part::Var(slot, path) => {
                    let v = scope[*slot].as_ref();
                    let v = match (v, path.is_empty()) {
                        (Some(v), true) => Some(Cow::Borrowed(v)),
                        (Some(v), false) => get_attr(v, path).map(Cow::Owned),
                        (None, _) => None,
                    };
                    match v.as_deref() {
                        Some(Val::Str(s)) => out.push_str(s),
                        Some(Val::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                        Some(Val::Int(n)) => out.push_str(&n.to_string()),
                        Some(other) => return Err(type_error("a template", other)),
                        None => {
                            return Err(EndpointError::RuleSet(
                                "a template refers to an unset value".into(),
                            ))
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn eval<'a, 's>(
        &'a self,
        e: &'a Expr,
        scope: &'s Scope<'a>,
    ) -> Result<Option<Cow<'s, Val<'a>>>, EndpointError> {
        Ok(match e {
            Expr::Bool(b) => Some(Cow::Owned(Val::Bool(*b))),
            Expr::Int(n) => Some(Cow::Owned(Val::Int(*n))),
            Expr::Str(s) => Some(Cow::Owned(Val::Str(Cow::Borrowed(s)))),
            Expr::Template(t) => Some(Cow::Owned(Val::Str(Cow::Owned(self.render(t, scope)?)))),
            Expr::Ref(slot) => scope[*slot].as_ref().map(Cow::Borrowed),
            Expr::Call(c) => self.call(c, scope)?.map(Cow::Owned),
        })
    }

    fn call<'a, 's>(
        &'a self,
        c: &'a Call,
        scope: &'s Scope<'a>,
    ) -> Result<Option<Val<'a>>, EndpointError> {
        let str_arg =
            |e: &'a Expr, what: &str| -> Result<Option<Cow<'s, Val<'a>>>, EndpointError> {
                let v = self.eval(e, scope)?;
                match v.as_deref() {
                    None | Some(Val::Str(_)) => Ok(v),
                    Some(other) => Err(type_error(what, other)),
                }
            };
        let bool_arg = |e: &'a Expr, what: &str| -> Result<Option<bool>, EndpointError> {
            match self.eval(e, scope)?.as_deref() {
                None => Ok(None),
                Some(Val::Bool(b)) => Ok(Some(*b)),
                Some(other) => Err(type_error(what, other)),
            }
        };
        let int_arg = |e: &'a Expr| -> Result<Option<usize>, EndpointError> {
            match self.eval(e, scope)?.as_deref() {
                None => Ok(None),
                Some(Val::Int(n)) => Ok(usize::try_from(*n).ok()),
                Some(other) => Err(type_error("substring", other)),
            }
        };
        fn as_str<'v>(v: &'v Option<Cow<'_, Val<'_>>>) -> Option<&'v str> {
            match v.as_deref() {
                Some(Val::Str(s)) => Some(s),
                _ => None,
            }
        }
        Ok(match c {
            Call::IsSet(e) => Some(Val::Bool(self.eval(e, scope)?.is_some())),
            Call::Not(e) => {
                let v = self.eval(e, scope)?.map(Cow::into_owned);
                Some(Val::Bool(!truthy(&v)))
            }
            Call::BooleanEquals(a, b) => {
                match (bool_arg(a, "booleanEquals")?, bool_arg(b, "booleanEquals")?) {
                    (Some(a), Some(b)) => Some(Val::Bool(a == b)),
                    _ => None,
                }
            }
            Call::StringEquals(a, b) => {
                let (a, b) = (str_arg(a, "stringEquals")?, str_arg(b, "stringEquals")?);
                match (as_str(&a), as_str(&b)) {
                    (Some(a), Some(b)) => Some(Val::Bool(a == b)),
                    _ => None,
                }
            }
            Call::GetAttr(e, path) => match self.eval(e, scope)? {
                Some(v) => get_attr(&v, path),
                None => None,
            },
            Call::Partition(e) => {
                let v = str_arg(e, "aws.partition")?;
                as_str(&v).map(|region| Val::Partition(self.partitions.find(region)))
            }
            Call::ParseArn(e) => {
                let v = str_arg(e, "aws.parseArn")?;
                as_str(&v)
                    .and_then(functions::parse_arn)
                    .map(|a| Val::Arn(Box::new(a)))
            }
            Call::ParseUrl(e) => {
                let v = str_arg(e, "parseURL")?;
                as_str(&v)
                    .and_then(functions::parse_url)
                    .map(|u| Val::Url(Box::new(u)))
            }
            Call::UriEncode(e) => {
                let v = str_arg(e, "uriEncode")?;
                as_str(&v).map(|s| Val::Str(Cow::Owned(functions::uri_encode(s))))
            }
            Call::IsValidHostLabel(e, sub) => {
                let v = str_arg(e, "isValidHostLabel")?;
                let sub = bool_arg(sub, "isValidHostLabel")?.unwrap_or(false);
                Some(Val::Bool(
                    as_str(&v).is_some_and(|s| functions::is_valid_host_label(s, sub)),
                ))
            }
            Call::IsVirtualHostableS3Bucket(e, sub) => {
                let v = str_arg(e, "aws.isVirtualHostableS3Bucket")?;
                let sub = bool_arg(sub, "aws.isVirtualHostableS3Bucket")?.unwrap_or(false);
                Some(Val::Bool(as_str(&v).is_some_and(|s| {
                    functions::is_virtual_hostable_s3_bucket(s, sub)
                })))
            }
            Call::Substring(e, start, stop, reverse) => {
                let v = str_arg(e, "substring")?;
                let (start, stop) = (int_arg(start)?, int_arg(stop)?);
                let reverse = bool_arg(reverse, "substring")?.unwrap_or(false);
                let (Some(start), Some(stop)) = (start, stop) else {
                    return Ok(None);
                };
                // Borrow the substring when the input itself is borrowed (a parameter).
                match v.as_deref() {
                    Some(Val::Str(Cow::Borrowed(s))) => {
                        functions::substring(s, start, stop, reverse)
                            .map(|sub| Val::Str(Cow::Borrowed(sub)))
                    }
                    Some(Val::Str(Cow::Owned(s))) => functions::substring(s, start, stop, reverse)
                        .map(|sub| Val::Str(Cow::Owned(sub.to_string()))),
                    _ => None,
                }
            }
        })
    }
}

/// Follows a `getAttr` path; `None` when a field is missing or an index is out of range.
fn get_attr<'a>(v: &Val<'a>, path: &[Step]) -> Option<Val<'a>> {
    let (first, rest) = path.split_first()?;
    let next = match (v, first) {
        (Val::Partition(p), Step::Field(f)) => match p.output(f)? {
            Value::String(s) => Val::Str(Cow::Borrowed(s.as_str())),
            Value::Bool(b) => Val::Bool(*b),
            _ => return None,
        },
        (Val::Url(u), Step::Field(f)) => match f.as_str() {
            "scheme" => Val::Str(Cow::Owned(u.scheme.clone())),
            "authority" => Val::Str(Cow::Owned(u.authority.clone())),
            "path" => Val::Str(Cow::Owned(u.path.clone())),
            "normalizedPath" => Val::Str(Cow::Owned(u.normalized_path.clone())),
            "isIp" => Val::Bool(u.is_ip),
            _ => return None,
        },
        (Val::Arn(a), Step::Field(f)) => match f.as_str() {
            "partition" => Val::Str(Cow::Owned(a.partition.clone())),
            "service" => Val::Str(Cow::Owned(a.service.clone())),
            "region" => Val::Str(Cow::Owned(a.region.clone())),
            "accountId" => Val::Str(Cow::Owned(a.account_id.clone())),
            "resourceId" => match rest.split_first() {
                // The common `resourceId[N]`: take the element without copying the list.
                Some((Step::Index(i), rest)) => {
                    let item = Val::Str(Cow::Owned(a.resource_id.get(*i)?.clone()));
                    return if rest.is_empty() {
                        Some(item)
                    } else {
                        get_attr(&item, rest)
                    };
                }
                _ => Val::List(Cow::Owned(a.resource_id.clone())),
            },
            _ => return None,
        },
        (Val::List(l), Step::Index(i)) => match l {
            Cow::Borrowed(l) => Val::Str(Cow::Borrowed(l.get(*i)?.as_str())),
            Cow::Owned(l) => Val::Str(Cow::Owned(l.get(*i)?.clone())),
        },
        _ => return None,
    };
    if rest.is_empty() {
        Some(next)
    } else {
        get_attr(&next, rest)
    }
}

#[cfg(test)]
mod tests;
