//! Result keys: which part of a call's result a scan keeps.

use std::fmt;
use std::sync::Arc;

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::native::Filter as NamedNative;
use jaq_core::{Compiler, Ctx, Error as JqError, Exn, Native, Vars};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::Value;

/// What to keep of a call's result, as aws-auto-inventory's `result_key` says.
///
/// - [`ResultKey::Key`]: a member of the (boto3-shaped) result, e.g. `Reservations`.
///   A result without that member gives `null`, which aws-auto-inventory treats as
///   "no data" (it writes no file).
/// - [`ResultKey::Jq`]: a `result_key` starting with `.` is a jq filter, run over the
///   whole result. Its outputs are always collected into a JSON array, as
///   aws-auto-inventory's `jq.compile(key).input_value(result).all()` does: one
///   output gives a one-element array, none an empty array.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ResultKey {
    Key(String),
    Jq(JqFilter),
}

impl ResultKey {
    /// Reads a `result_key` as aws-auto-inventory does: empty means none, a leading
    /// `.` means jq (compiled here, once), anything else a member name. The error
    /// says what is wrong with the filter.
    pub fn parse(text: &str) -> Result<Option<ResultKey>, String> {
        if text.is_empty() {
            Ok(None)
        } else if text.starts_with('.') {
            JqFilter::compile(text).map(|f| Some(ResultKey::Jq(f)))
        } else {
            Ok(Some(ResultKey::Key(text.to_string())))
        }
    }

    /// A result key as a plan keeps it, compiled; the error names the key.
    pub fn compile_planned(text: Option<&str>) -> Result<Option<ResultKey>, String> {
        match text {
            Some(k) => ResultKey::parse(k).map_err(|e| format!("result key {k}: {e}")),
            None => Ok(None),
        }
    }

    /// The key as written in the spec.
    pub fn as_str(&self) -> &str {
        match self {
            ResultKey::Key(k) => k,
            ResultKey::Jq(f) => f.source(),
        }
    }

    /// The part of `result` (a whole boto3-shaped result) this key keeps. Errors are
    /// jq run-time errors (`.Reservations[] | .x` on a string, `error("...")`, ...).
    pub fn apply(&self, result: &Value) -> Result<Value, String> {
        match self {
            ResultKey::Key(k) => Ok(result.get(k).cloned().unwrap_or(Value::Null)),
            ResultKey::Jq(f) => f.run(result),
        }
    }
}

impl fmt::Display for ResultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ResultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultKey::Key(k) => f.debug_tuple("Key").field(k).finish(),
            ResultKey::Jq(j) => f.debug_tuple("Jq").field(&j.source()).finish(),
        }
    }
}

type Data = JustLut<Val>;

/// A jq filter compiled once with jaq, run as often as needed, from any thread.
///
/// The filter runs with jq's standard library minus what reaches outside the result:
/// `env` (and so `$ENV`) fails rather than expose the environment, which holds
/// credentials; `debug` and `stderr` print nothing; `halt` ends the filter with an
/// error instead of the process; there are no `input`/`inputs`.
#[derive(Clone)]
pub struct JqFilter {
    source: String,
    filter: Arc<jaq_core::Filter<Data>>,
}

impl JqFilter {
    /// Parses and compiles `source`; the error names the first problem and where it is.
    pub fn compile(source: &str) -> Result<JqFilter, String> {
        Self::compile_with_vars(source, &[])
    }

    /// [`JqFilter::compile`] with global variables (`$details`), whose values each run
    /// gives, in this order ([`JqFilter::outputs`]).
    pub fn compile_with_vars(source: &str, vars: &[&'static str]) -> Result<JqFilter, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: source,
                    path: (),
                },
            )
            .map_err(|errs| load_error(source, errs))?;
        let filter = Compiler::default()
            .with_funs(natives())
            .with_global_vars(vars.iter().copied())
            .compile(modules)
            .map_err(|errs| compile_error(source, errs))?;
        Ok(JqFilter {
            source: source.to_string(),
            filter: Arc::new(filter),
        })
    }

    /// The filter as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Runs the filter on `input`; every output, in order, in one array.
    pub fn run(&self, input: &Value) -> Result<Value, String> {
        self.outputs(input, &[], usize::MAX).map(Value::Array)
    }

    /// Runs the filter on `input` with the values of its global variables (as many as
    /// it was compiled with); at most `limit` outputs, in order.
    pub fn outputs(
        &self,
        input: &Value,
        vars: &[&Value],
        limit: usize,
    ) -> Result<Vec<Value>, String> {
        let input = Val::deserialize(input).map_err(|e| format!("jq input: {e}"))?;
        let vars = vars
            .iter()
            .map(|v| Val::deserialize(*v).map_err(|e| format!("jq variable: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new(vars));
        let mut out = Vec::new();
        for item in self.filter.id.run((ctx, input)).take(limit) {
            match item {
                Ok(v) => out.push(to_json(&v)?),
                Err(exn) => return Err(exn_message(exn)),
            }
        }
        Ok(out)
    }
}

impl PartialEq for JqFilter {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for JqFilter {}

impl std::hash::Hash for JqFilter {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state)
    }
}

impl fmt::Debug for JqFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JqFilter").field(&self.source).finish()
    }
}

/// Native filters: jaq's core, standard library and JSON ones, with the few that
/// reach outside the input replaced.
fn natives() -> impl Iterator<Item = NamedNative<Native<Data>>> {
    jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .map(|(name, args, native)| {
            let native = match name {
                "env" => Native::new(|_| {
                    Box::new(std::iter::once(Err(Exn::from(JqError::str(
                        "env and $ENV are not available in scan specs",
                    )))))
                }),
                "debug_empty" | "stderr_empty" => Native::new(|_| Box::new(std::iter::empty())),
                _ => native,
            };
            (name, args, native)
        })
}

fn exn_message(exn: Exn<'_, Val>) -> String {
    match exn.get_err() {
        Ok(err) => format!("jq error: {err}"),
        Err(exn) => match exn.get_halt() {
            Ok(code) => format!("the jq filter called halt (exit code {code})"),
            Err(_) => "the jq filter failed".to_string(),
        },
    }
}

/// A jaq value as JSON, through jaq's own JSON writer so that numbers and strings
/// come out exactly as jq prints them.
fn to_json(v: &Val) -> Result<Value, String> {
    let mut buf = Vec::new();
    jaq_json::write::write(&mut buf, &jaq_json::write::Pp::default(), 0, v)
        .map_err(|e| format!("jq output: {e}"))?;
    serde_json::from_slice(&buf).map_err(|e| format!("jq output is not JSON ({e}): {v}"))
}

/// Line and column (1-based, in characters) of `part`, a slice of `source`.
fn position(source: &str, part: &str) -> String {
    let offset = (part.as_ptr() as usize)
        .checked_sub(source.as_ptr() as usize)
        .filter(|&o| o <= source.len())
        .unwrap_or(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    if line == 1 {
        format!("at column {column}")
    } else {
        format!("at line {line}, column {column}")
    }
}

/// What was found at a position: the next token, or the end of the filter.
fn found(part: &str) -> String {
    let token: String = part
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    if token.is_empty() {
        "the end of the filter".to_string()
    } else {
        format!("{token:?}")
    }
}

fn load_error(source: &str, errs: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let mut out = Vec::new();
    for (_, err) in errs {
        match err {
            Error::Io(errs) => out.extend(errs.into_iter().map(|(path, e)| format!("{path}: {e}"))),
            Error::Lex(errs) => out.extend(errs.into_iter().map(|(expect, rest)| {
                format!(
                    "expected {} {}, found {}",
                    expect.as_str(),
                    position(source, rest),
                    found(rest)
                )
            })),
            Error::Parse(errs) => out.extend(errs.into_iter().map(|(expect, rest)| match expect {
                jaq_core::load::parse::Expect::Nothing => {
                    format!("unexpected {} {}", found(rest), position(source, rest))
                }
                expect => format!(
                    "expected {} {}, found {}",
                    expect.as_str(),
                    position(source, rest),
                    found(rest)
                ),
            })),
        }
    }
    syntax_message(out)
}

fn compile_error(source: &str, errs: jaq_core::compile::Errors<&str, ()>) -> String {
    let out = errs
        .into_iter()
        .flat_map(|(_, errs)| errs)
        .map(|(name, undefined)| {
            format!(
                "undefined {} {name} {}",
                undefined.as_str(),
                position(source, name)
            )
        })
        .collect();
    syntax_message(out)
}

fn syntax_message(problems: Vec<String>) -> String {
    if problems.is_empty() {
        "invalid jq filter".to_string()
    } else {
        format!("invalid jq filter: {}", problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jq(src: &str, input: Value) -> Result<Value, String> {
        ResultKey::parse(src).unwrap().unwrap().apply(&input)
    }

    #[test]
    fn keys_and_filters() {
        let r = json!({"Buckets": [{"Name": "a"}, {"Name": "b"}], "Owner": {"ID": "x"}});
        assert_eq!(ResultKey::parse("").unwrap(), None);
        let key = ResultKey::parse("Buckets").unwrap().unwrap();
        assert_eq!(key.apply(&r).unwrap(), r["Buckets"]);
        let missing = ResultKey::parse("Nope").unwrap().unwrap();
        assert_eq!(missing.apply(&r).unwrap(), Value::Null);
        assert_eq!(
            jq(".Buckets[]|.Name", r.clone()).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(jq(".Owner.ID", r.clone()).unwrap(), json!(["x"]));
        assert_eq!(
            jq(".Buckets[] | select(.Name == \"z\")", r.clone()).unwrap(),
            json!([])
        );
        assert_eq!(jq(".Buckets | length", r.clone()).unwrap(), json!([2]));
        assert_eq!(
            jq(".Buckets | map(.Name) | sort_by(.) | reverse", r).unwrap(),
            json!([["b", "a"]])
        );
    }

    #[test]
    fn numbers_and_order_survive() {
        let r = json!({"b": 1, "a": 2.5, "big": 12345678901234_i64});
        assert_eq!(jq(".", r.clone()).unwrap(), json!([r]));
        let keys: Vec<String> = jq(".", r).unwrap()[0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["b", "a", "big"]);
    }

    #[test]
    fn compile_errors_say_where() {
        let e = ResultKey::parse(".Reservations[").unwrap_err();
        assert!(e.starts_with("invalid jq filter: expected"), "{e}");
        let e = ResultKey::parse(".a | nosuchfn").unwrap_err();
        assert_eq!(
            e,
            "invalid jq filter: undefined filter nosuchfn at column 6"
        );
        let e = ResultKey::parse(".a ||| .b").unwrap_err();
        assert_eq!(e, "invalid jq filter: unexpected \"|||\" at column 4");
        let e = ResultKey::parse(".a |\n $x").unwrap_err();
        assert_eq!(
            e,
            "invalid jq filter: undefined variable $x at line 2, column 2"
        );
    }

    #[test]
    fn runtime_errors_are_values() {
        let e = jq(".a[]", json!({"a": 1})).unwrap_err();
        assert!(e.starts_with("jq error: "), "{e}");
        let e = jq(".a | error(\"boom\")", json!({})).unwrap_err();
        assert!(e.contains("boom"), "{e}");
        let e = jq(".a | halt", json!({})).unwrap_err();
        assert!(e.contains("halt"), "{e}");
    }

    #[test]
    fn no_way_out_of_the_result() {
        let e = jq(".x = env", json!({})).unwrap_err();
        assert!(e.contains("env"), "{e}");
        assert!(ResultKey::parse(".x = $ENV").is_err());
        assert_eq!(
            jq(". | debug | stderr | .a", json!({"a": 1})).unwrap(),
            json!([1])
        );
        assert!(ResultKey::parse(". | input").is_err());
    }

    #[test]
    fn filters_are_shareable() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ResultKey>();
    }
}
