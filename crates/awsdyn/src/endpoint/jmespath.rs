//! The part of JMESPath that `operationContextParams` use: identifiers, dotted
//! sub-expressions, `[N]` indexes, `[*]` projections, `[]` flattening, multi-select
//! lists `[a, b]` and the `keys(...)` function, with JMESPath's projection rules
//! (a projection drops `null` results; `[]` ends a `[*]` projection).
//!
//! Paths used by the bundled models: `TableCreationParameters.TableName`,
//! `TransactItems[*].Get.TableName`, `keys(RequestItems)` and
//! `TransactItems[*].[ConditionCheck.TableName, Put.TableName, ...][]`.

use serde_json::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Identity,
    Field(String),
    Index(i64),
    /// Evaluate the left side, then the right side on its result.
    Sub(Box<Expr>, Box<Expr>),
    /// Evaluate the left side; if a list, the right side on each element, nulls dropped.
    Project(Box<Expr>, Box<Expr>),
    /// Evaluate the inner expression; if a list, splice its list elements one level.
    Flatten(Box<Expr>),
    MultiList(Vec<Expr>),
    Keys(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(i64),
    Dot,
    Comma,
    LBracket,
    RBracket,
    /// `[*]`
    Star,
    /// `[]`
    Flatten,
    LParen,
    RParen,
    End,
}

impl Token {
    /// JMESPath's binding powers for the tokens this subset knows.
    fn binding_power(&self) -> u8 {
        match self {
            Token::Flatten => 9,
            Token::Star => 20,
            Token::Dot => 40,
            Token::LBracket => 55,
            Token::LParen => 60,
            _ => 0,
        }
    }
}

/// Below this binding power a token ends a projection's right-hand side.
const PROJECTION_STOP: u8 = 10;

fn lex(src: &str) -> Result<Vec<Token>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let single = match c {
            b'.' => Some(Token::Dot),
            b',' => Some(Token::Comma),
            b'(' => Some(Token::LParen),
            b')' => Some(Token::RParen),
            b']' => Some(Token::RBracket),
            _ => None,
        };
        if let Some(token) = single {
            out.push(token);
            i += 1;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\n' => i += 1,
            b'[' if b.get(i + 1) == Some(&b']') => {
                out.push(Token::Flatten);
                i += 2;
            }
            b'[' if b.get(i + 1) == Some(&b'*') && b.get(i + 2) == Some(&b']') => {
                out.push(Token::Star);
                i += 3;
            }
            b'[' => {
                out.push(Token::LBracket);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(Token::Number(
                    src[start..i]
                        .parse()
                        .map_err(|_| format!("bad number in {src:?}"))?,
                ));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Token::Ident(src[start..i].to_string()));
            }
            _ => return Err(format!("unsupported character {:?} in {src:?}", c as char)),
        }
    }
    out.push(Token::End);
    Ok(out)
}

/// Parses an expression of the supported subset.
pub(crate) fn parse(src: &str) -> Result<Expr, String> {
    let mut p = Parser {
        tokens: lex(src)?,
        pos: 0,
    };
    let e = p.expression(0)?;
    match p.peek() {
        Token::End => Ok(e),
        t => Err(format!("unexpected {t:?} in {src:?}")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t != Token::End {
            self.pos += 1;
        }
        t
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.next() {
            t if t == want => Ok(()),
            t => Err(format!("expected {want:?}, found {t:?}")),
        }
    }

    fn expression(&mut self, rbp: u8) -> Result<Expr, String> {
        let mut left = self.nud()?;
        while self.peek().binding_power() > rbp {
            left = self.led(left)?;
        }
        Ok(left)
    }

    fn nud(&mut self) -> Result<Expr, String> {
        match self.next() {
            Token::Ident(name) if *self.peek() == Token::LParen => {
                self.next();
                let arg = self.expression(0)?;
                self.expect(Token::RParen)?;
                match name.as_str() {
                    "keys" => Ok(Expr::Keys(Box::new(arg))),
                    other => Err(format!("unsupported function {other}()")),
                }
            }
            Token::Ident(name) => Ok(Expr::Field(name)),
            Token::Star => {
                let rhs = self.projection_rhs(Token::Star.binding_power())?;
                Ok(Expr::Project(Box::new(Expr::Identity), Box::new(rhs)))
            }
            Token::Flatten => {
                let rhs = self.projection_rhs(Token::Flatten.binding_power())?;
                Ok(Expr::Project(
                    Box::new(Expr::Flatten(Box::new(Expr::Identity))),
                    Box::new(rhs),
                ))
            }
            Token::LBracket => match self.peek().clone() {
                Token::Number(n) => {
                    self.next();
                    self.expect(Token::RBracket)?;
                    Ok(Expr::Index(n))
                }
                _ => self.multi_list(),
            },
            t => Err(format!("unexpected {t:?}")),
        }
    }

    fn led(&mut self, left: Expr) -> Result<Expr, String> {
        match self.next() {
            Token::Dot => {
                let right = self.dot_rhs()?;
                Ok(Expr::Sub(Box::new(left), Box::new(right)))
            }
            Token::Star => {
                let rhs = self.projection_rhs(Token::Star.binding_power())?;
                Ok(Expr::Project(Box::new(left), Box::new(rhs)))
            }
            Token::Flatten => {
                let rhs = self.projection_rhs(Token::Flatten.binding_power())?;
                Ok(Expr::Project(
                    Box::new(Expr::Flatten(Box::new(left))),
                    Box::new(rhs),
                ))
            }
            Token::LBracket => match self.next() {
                Token::Number(n) => {
                    self.expect(Token::RBracket)?;
                    Ok(Expr::Sub(Box::new(left), Box::new(Expr::Index(n))))
                }
                t => Err(format!("unsupported bracket expression at {t:?}")),
            },
            t => Err(format!("unexpected {t:?}")),
        }
    }

    /// After a `.`: an identifier, a function call or a multi-select list.
    fn dot_rhs(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Token::Ident(_) => self.nud(),
            Token::LBracket => {
                self.next();
                self.multi_list()
            }
            t => Err(format!("unexpected {t:?} after `.`")),
        }
    }

    fn projection_rhs(&mut self, bp: u8) -> Result<Expr, String> {
        let t = self.peek().clone();
        if t.binding_power() < PROJECTION_STOP {
            return Ok(Expr::Identity);
        }
        match t {
            Token::Dot => {
                self.next();
                let mut right = self.dot_rhs()?;
                while self.peek().binding_power() > bp {
                    right = self.led(right)?;
                }
                Ok(right)
            }
            Token::LBracket | Token::Star => self.expression(bp),
            t => Err(format!("unexpected {t:?} after a projection")),
        }
    }

    /// `[a, b, ...]`, the `[` already read.
    fn multi_list(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.expression(0)?];
        loop {
            match self.next() {
                Token::Comma => items.push(self.expression(0)?),
                Token::RBracket => return Ok(Expr::MultiList(items)),
                t => Err(format!("unexpected {t:?} in a multi-select list"))?,
            }
        }
    }
}

/// Evaluates an expression against a JSON value.
pub(crate) fn search(e: &Expr, v: &Value) -> Value {
    match e {
        Expr::Identity => v.clone(),
        Expr::Field(name) => v.get(name).cloned().unwrap_or(Value::Null),
        Expr::Index(i) => match v.as_array() {
            Some(items) => {
                let i = if *i < 0 { items.len() as i64 + i } else { *i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .unwrap_or(Value::Null)
            }
            None => Value::Null,
        },
        Expr::Sub(left, right) => match search(left, v) {
            Value::Null => Value::Null,
            l => search(right, &l),
        },
        Expr::Project(left, right) => match search(left, v) {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| search(right, item))
                    .filter(|r| !r.is_null())
                    .collect(),
            ),
            _ => Value::Null,
        },
        Expr::Flatten(inner) => match search(inner, v) {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Array(sub) => out.extend(sub),
                        other => out.push(other),
                    }
                }
                Value::Array(out)
            }
            _ => Value::Null,
        },
        Expr::MultiList(items) => {
            if v.is_null() {
                Value::Null
            } else {
                Value::Array(items.iter().map(|e| search(e, v)).collect())
            }
        }
        Expr::Keys(inner) => match search(inner, v) {
            Value::Object(o) => Value::Array(o.keys().map(|k| Value::String(k.clone())).collect()),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(path: &str, v: &Value) -> Value {
        search(&parse(path).unwrap_or_else(|e| panic!("{path}: {e}")), v)
    }

    #[test]
    fn paths_used_by_the_models() {
        let input = json!({
            "TableCreationParameters": {"TableName": "t0"},
            "RequestItems": {"a": [], "b": []},
            "TransactItems": [
                {"Get": {"TableName": "t1"}},
                {"Put": {"TableName": "t2"}},
                {"Update": {"TableName": "t3"}, "ConditionCheck": {"TableName": "t4"}}
            ]
        });
        assert_eq!(
            eval("TableCreationParameters.TableName", &input),
            json!("t0")
        );
        assert_eq!(eval("keys(RequestItems)", &input), json!(["a", "b"]));
        assert_eq!(
            eval("TransactItems[*].Get.TableName", &input),
            json!(["t1"])
        );
        assert_eq!(
            eval(
                "TransactItems[*].[ConditionCheck.TableName, Put.TableName, Delete.TableName, Update.TableName][]",
                &input
            ),
            json!(["t2", "t4", "t3"])
        );
        assert_eq!(eval("Missing[*].Get.TableName", &input), Value::Null);
        assert_eq!(eval("TransactItems[0].Get.TableName", &input), json!("t1"));
        assert_eq!(
            eval("TransactItems[-1].Update.TableName", &input),
            json!("t3")
        );
    }

    #[test]
    fn parse_shapes() {
        assert_eq!(
            parse("a[*].b").unwrap(),
            Expr::Project(
                Box::new(Expr::Field("a".into())),
                Box::new(Expr::Field("b".into()))
            )
        );
        assert!(parse("a | b").is_err());
        assert!(parse("length(a)").is_err());
    }
}
