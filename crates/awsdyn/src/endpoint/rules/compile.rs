//! Compilation of a rule set's JSON into slots, expressions and templates.

use super::*;

// ---------------------------------------------------------------------------
// Compilation.

impl RuleSet {
    /// Compiles a rule set (`{version, parameters, rules}`) against the bundled
    /// partitions.
    pub fn from_json(json: &Value) -> Result<RuleSet, EndpointError> {
        RuleSet::with_partitions(json, Partitions::bundled())
    }

    /// Compiles a rule set against the given partitions.
    pub fn with_partitions(
        json: &Value,
        partitions: Arc<Partitions>,
    ) -> Result<RuleSet, EndpointError> {
        let bad = |m: String| EndpointError::RuleSet(m);
        let mut parameters = Vec::new();
        if let Some(params) = json.get("parameters") {
            let params = params
                .as_object()
                .ok_or_else(|| bad("`parameters` is not an object".into()))?;
            for (name, spec) in params {
                parameters.push(parse_parameter(name, spec)?);
            }
        }
        let mut c = Compiler {
            params: parameters
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.clone(), i))
                .collect(),
            assigned: HashMap::new(),
            scope: Vec::new(),
            slots: parameters.len(),
        };
        let rules = json
            .get("rules")
            .ok_or_else(|| bad("no `rules`".into()))
            .and_then(|r| c.rules(r))?;
        Ok(RuleSet {
            parameters,
            rules,
            slots: c.slots,
            partitions,
        })
    }

    /// The parameters the rule set declares, in its order.
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    /// The partitions `aws.partition` consults.
    pub fn partitions(&self) -> &Partitions {
        &self.partitions
    }
}

pub(super) fn parse_parameter(name: &str, spec: &Value) -> Result<Parameter, EndpointError> {
    let bad = |m: &str| EndpointError::RuleSet(format!("parameter {name}: {m}"));
    let kind = match spec
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("string") => ParamKind::String,
        Some("boolean") => ParamKind::Boolean,
        Some("stringarray") => ParamKind::StringArray,
        Some(other) => return Err(bad(&format!("unknown type {other}"))),
        None => return Err(bad("no type")),
    };
    let default = match spec.get("default") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let d = ParamValue::from_json(v).filter(|d| kind.accepts(d));
            Some(d.ok_or_else(|| bad("default does not match the type"))?)
        }
    };
    Ok(Parameter {
        name: name.to_string(),
        kind,
        built_in: spec
            .get("builtIn")
            .and_then(Value::as_str)
            .map(str::to_string),
        default,
        required: spec
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        documentation: spec
            .get("documentation")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

pub(super) struct Compiler {
    params: HashMap<String, Slot>,
    /// Slot of each name that some condition assigns.
    assigned: HashMap<String, Slot>,
    /// Names assigned on the rule path being compiled.
    scope: Vec<String>,
    slots: usize,
}

impl Compiler {
    pub(super) fn rules(&mut self, json: &Value) -> Result<Vec<Rule>, EndpointError> {
        let list = json
            .as_array()
            .ok_or_else(|| EndpointError::RuleSet("`rules` is not a list".into()))?;
        list.iter().map(|r| self.rule(r)).collect()
    }

    pub(super) fn rule(&mut self, json: &Value) -> Result<Rule, EndpointError> {
        let mark = self.scope.len();
        let result = self.rule_in_scope(json);
        self.scope.truncate(mark);
        result
    }

    pub(super) fn rule_in_scope(&mut self, json: &Value) -> Result<Rule, EndpointError> {
        let bad = |m: String| EndpointError::RuleSet(m);
        let mut conditions = Vec::new();
        for c in json
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let call = self.call(c)?;
            let assign = match c.get("assign").and_then(Value::as_str) {
                Some(name) => {
                    if self.params.contains_key(name) || self.scope.iter().any(|n| n == name) {
                        return Err(bad(format!("`{name}` is assigned twice on one rule path")));
                    }
                    let next = self.slots;
                    let slot = *self.assigned.entry(name.to_string()).or_insert(next);
                    if slot == next {
                        self.slots += 1;
                    }
                    self.scope.push(name.to_string());
                    Some(slot)
                }
                None => None,
            };
            conditions.push(Condition { call, assign });
        }
        let kind = match json.get("type").and_then(Value::as_str) {
            Some("endpoint") => {
                let e = json
                    .get("endpoint")
                    .ok_or_else(|| bad("endpoint rule without `endpoint`".into()))?;
                let url = self.expr(
                    e.get("url")
                        .ok_or_else(|| bad("endpoint without `url`".into()))?,
                )?;
                let mut headers = Vec::new();
                for (name, values) in e
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let values = values
                        .as_array()
                        .ok_or_else(|| bad(format!("header {name} is not a list")))?
                        .iter()
                        .map(|v| self.expr(v))
                        .collect::<Result<_, _>>()?;
                    headers.push((name.clone(), values));
                }
                let mut properties = Vec::new();
                for (name, v) in e
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    properties.push((name.clone(), self.prop(v)?));
                }
                RuleKind::Endpoint(Box::new(EndpointTemplate {
                    url,
                    headers,
                    properties,
                }))
            }
            Some("error") => RuleKind::Error(
                self.expr(
                    json.get("error")
                        .ok_or_else(|| bad("error rule without `error`".into()))?,
                )?,
            ),
            Some("tree") => RuleKind::Tree(
                self.rules(
                    json.get("rules")
                        .ok_or_else(|| bad("tree rule without `rules`".into()))?,
                )?,
            ),
            other => return Err(bad(format!("unknown rule type {other:?}"))),
        };
        Ok(Rule { conditions, kind })
    }

    pub(super) fn lookup(&self, name: &str) -> Result<Slot, EndpointError> {
        if let Some(&slot) = self.params.get(name) {
            return Ok(slot);
        }
        if self.scope.iter().any(|n| n == name) {
            return Ok(self.assigned[name]);
        }
        Err(EndpointError::RuleSet(format!(
            "reference to unknown or out-of-scope name `{name}`"
        )))
    }

    pub(super) fn expr(&mut self, json: &Value) -> Result<Expr, EndpointError> {
        Ok(match json {
            Value::Bool(b) => Expr::Bool(*b),
            Value::Number(n) => Expr::Int(
                n.as_i64()
                    .ok_or_else(|| EndpointError::RuleSet(format!("unsupported number {n}")))?,
            ),
            Value::String(s) if s.contains('{') || s.contains('}') => {
                Expr::Template(self.template(s)?)
            }
            Value::String(s) => Expr::Str(s.clone()),
            Value::Object(o) if o.contains_key("ref") => {
                let name = o["ref"]
                    .as_str()
                    .ok_or_else(|| EndpointError::RuleSet("`ref` is not a string".into()))?;
                Expr::Ref(self.lookup(name)?)
            }
            Value::Object(o) if o.contains_key("fn") => Expr::Call(Box::new(self.call(json)?)),
            other => {
                return Err(EndpointError::RuleSet(format!(
                    "unsupported expression {other}"
                )))
            }
        })
    }

    pub(super) fn call(&mut self, json: &Value) -> Result<Call, EndpointError> {
        let bad = |m: String| EndpointError::RuleSet(m);
        let name = json
            .get("fn")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("condition without `fn`: {json}")))?;
        let argv = json
            .get("argv")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let arity = |n: usize| {
            if argv.len() == n {
                Ok(())
            } else {
                Err(bad(format!(
                    "{name} takes {n} arguments, not {}",
                    argv.len()
                )))
            }
        };
        Ok(match name {
            "booleanEquals"
            | "stringEquals"
            | "isValidHostLabel"
            | "aws.isVirtualHostableS3Bucket" => {
                arity(2)?;
                let (a, b) = (self.expr(&argv[0])?, self.expr(&argv[1])?);
                match name {
                    "booleanEquals" => Call::BooleanEquals(a, b),
                    "stringEquals" => Call::StringEquals(a, b),
                    "isValidHostLabel" => Call::IsValidHostLabel(a, b),
                    _ => Call::IsVirtualHostableS3Bucket(a, b),
                }
            }
            "isSet" | "not" | "aws.partition" | "aws.parseArn" | "parseURL" | "uriEncode" => {
                arity(1)?;
                let a = self.expr(&argv[0])?;
                match name {
                    "isSet" => Call::IsSet(a),
                    "not" => Call::Not(a),
                    "aws.partition" => Call::Partition(a),
                    "aws.parseArn" => Call::ParseArn(a),
                    "parseURL" => Call::ParseUrl(a),
                    _ => Call::UriEncode(a),
                }
            }
            "getAttr" => {
                arity(2)?;
                let path = argv[1]
                    .as_str()
                    .ok_or_else(|| bad("getAttr's path must be a string literal".into()))?;
                Call::GetAttr(self.expr(&argv[0])?, parse_path(path)?)
            }
            "substring" => {
                arity(4)?;
                Call::Substring(
                    self.expr(&argv[0])?,
                    self.expr(&argv[1])?,
                    self.expr(&argv[2])?,
                    self.expr(&argv[3])?,
                )
            }
            other => return Err(bad(format!("unknown function {other}"))),
        })
    }

    /// `{name}` and `{name#path}` holes; `{{` and `}}` stand for braces.
    pub(super) fn template(&mut self, s: &str) -> Result<Template, EndpointError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(['{', '}']) {
            text.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                text.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            let close = match (tail.starts_with('{'), tail.find('}')) {
                (true, Some(close)) => close,
                _ => {
                    // A lone brace is just text.
                    text.push_str(&tail[..1]);
                    rest = &tail[1..];
                    continue;
                }
            };
            let var = &tail[1..close];
            let (name, path) = match var.split_once('#') {
                Some((name, path)) => (name, parse_path(&path.replace('#', "."))?),
                None => (var, Vec::new()),
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(self.lookup(name)?, path));
            rest = &tail[close + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    pub(super) fn prop(&mut self, json: &Value) -> Result<Prop, EndpointError> {
        if !has_template(json) {
            return Ok(Prop::Literal(json.clone()));
        }
        Ok(match json {
            Value::String(s) => Prop::Template(self.template(s)?),
            Value::Array(items) => Prop::Array(
                items
                    .iter()
                    .map(|v| self.prop(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Prop::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), self.prop(v)?)))
                    .collect::<Result<_, EndpointError>>()?,
            ),
            _ => unreachable!("only strings hold templates"),
        })
    }
}

pub(super) fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('{') || s.contains('}'),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(o) => o.values().any(has_template),
        _ => false,
    }
}

/// A `getAttr` path: `name`, `a.b`, `name[2]`, `[0]`.
pub(super) fn parse_path(path: &str) -> Result<Vec<Step>, EndpointError> {
    let bad = || EndpointError::RuleSet(format!("bad getAttr path {path:?}"));
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            steps.push(Step::Field(name.to_string()));
        } else if indexes.is_empty() {
            return Err(bad());
        }
        while !indexes.is_empty() {
            let close = indexes.find(']').ok_or_else(bad)?;
            let n = indexes[1..close].parse().map_err(|_| bad())?;
            steps.push(Step::Index(n));
            indexes = &indexes[close + 1..];
            if !indexes.is_empty() && !indexes.starts_with('[') {
                return Err(bad());
            }
        }
    }
    Ok(steps)
}
