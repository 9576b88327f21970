//! The PostgreSQL store (`--postgres URL`): the same tables and views as SQLite (see
//! [`crate::store`]), for teams and for several scanners writing to one database.
//! Here: the URL and connections ([`PgUrl`]), read-only opening and the reads the
//! commands need, and printing any column ([`AnyCell`]). Not for writing or creating
//! the schema (the PostgreSQL sink's, `sink::sql::postgres`).
//!
//! Differences from SQLite:
//! - `resources.item`, `accounts.tags` and `accounts.regions` are `jsonb`; integer
//!   columns are `bigint`; `scans.seq` is an identity column (scanners running at once
//!   each get their own); times stay ISO 8601 text, as in SQLite (`started::timestamptz`
//!   converts them).
//! - View member columns are `text` (`item ->> 'VpcId'`): cast numbers and booleans
//!   (`"IsDefault"::boolean`, `"Size"::bigint`), and read nested members from `item`
//!   (`item -> 'State' ->> 'Name'`, which SQLite understands too).
//! - View and column names are case-sensitive: quote mixed-case columns (`"VpcId"`).
//! - The schema version is in the table `census_schema`.
//!
//! Schema creation, new view columns and view changes take a transaction-level
//! advisory lock (the sink's), so scanners starting together never trip over each
//! other.
//!
//! Connections: `sslmode=disable` connects in plain text; `prefer` (the default) and
//! `require` use TLS (rustls) when the server offers it, verifying the server's
//! certificate against the system's CA store. The password of a URL is never shown:
//! [`PgUrl`] prints the URL rebuilt without it (the user info's password and any
//! `password` parameter taken out of the parsed URL or key/value string), and errors
//! are made only of that, the server's messages and the client's own texts, which do
//! not hold it (a configuration error's "got `c`" character is left out).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::types::{FromSql, Type};
use postgres::{Client, Config, NoTls};

use super::sqlite::ScanRow;
use crate::util::print::Cell;

pub use super::SCHEMA_VERSION;

/// The environment variable that gives the URL when `--postgres` does not.
pub const ENV_URL: &str = "CENSUS_POSTGRES_URL";

/// A store error: one line, never holding the URL's password.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PgError(pub String);

/// A PostgreSQL URL (`postgresql://user:password@host:port/database?sslmode=disable`)
/// or key/value string (`host=... dbname=...`) as given. Displayed and debugged
/// without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    raw: String,
}

impl FromStr for PgUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<PgUrl, Self::Err> {
        Ok(PgUrl::new(s))
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.shown())
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl PgUrl {
    pub fn new(raw: &str) -> PgUrl {
        PgUrl {
            raw: raw.trim().to_string(),
        }
    }

    /// `--postgres` if given, else `$CENSUS_POSTGRES_URL` if set and not empty.
    pub fn from_flag_or_env(flag: Option<PgUrl>) -> Option<PgUrl> {
        flag.or_else(|| {
            std::env::var(ENV_URL)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| PgUrl::new(&v))
        })
    }

    /// The URL without its password (`postgresql://user@host:5432/db?sslmode=disable`).
    pub fn shown(&self) -> String {
        let raw = &self.raw;
        if let Some(at) = raw.find("://") {
            let (scheme, rest) = raw.split_at(at + 3);
            let end = rest.find(['/', '?']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let authority = match authority.rfind('@') {
                Some(i) => {
                    let user = authority[..i].split(':').next().unwrap_or("");
                    format!("{user}@{}", &authority[i + 1..])
                }
                None => authority.to_string(),
            };
            let tail = match tail.split_once('?') {
                Some((path, query)) => {
                    let kept: Vec<&str> = query
                        .split('&')
                        .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                        .collect();
                    if kept.is_empty() {
                        path.to_string()
                    } else {
                        format!("{path}?{}", kept.join("&"))
                    }
                }
                None => tail.to_string(),
            };
            format!("{scheme}{authority}{tail}")
        } else {
            // key=value form, values possibly 'quoted' (with \' and \\ inside).
            kv_pairs(raw)
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
                .map(|(k, v)| {
                    if v.is_empty() || v.contains([' ', '\'', '\\']) {
                        format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    /// A one-line error about this database: `PostgreSQL at URL: what; fix`.
    pub fn error(&self, what: &str) -> PgError {
        PgError(format!("PostgreSQL at {}: {what}", self.shown()).replace('\n', " "))
    }

    fn config(&self) -> Result<Config, PgError> {
        Config::from_str(&self.raw).map_err(|e| {
            // "unexpected character at byte 12: expected `=` but got `x`": the
            // character could be the password's; the rest is the client's own text.
            let text = error_text(&e);
            let text = match text.find(" but got") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            PgError(format!(
                "--postgres / {ENV_URL} {}: not a PostgreSQL URL ({text}); write postgresql://USER:PASSWORD@HOST:PORT/DATABASE (sslmode=disable, prefer or require)",
                self.shown(),
            ))
        })
    }

    /// Connects, with a 15 s connect timeout unless the URL sets one.
    pub fn connect(&self) -> Result<Client, PgError> {
        let mut config = self.config()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(15));
        }
        if config.get_application_name().is_none() {
            config.application_name("census");
        }
        let result = match config.get_ssl_mode() {
            SslMode::Disable => config.connect(NoTls),
            _ => config.connect(tls()),
        };
        result.map_err(|e| self.connect_error(&config, &e))
    }

    fn connect_error(&self, config: &Config, e: &postgres::Error) -> PgError {
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let fix = if *code == SqlState::INVALID_CATALOG_NAME {
                let name = config.get_dbname().unwrap_or("");
                format!("; create it (createdb {name}) or name an existing database in the URL")
            } else if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                "; check the user and password in the URL".to_string()
            } else {
                String::new()
            };
            return self.error(&format!("{}{fix}", db.message()));
        }
        let text = error_text(e);
        let fix = if text.contains("does not support TLS") {
            "; use sslmode=disable on a trusted network, or turn on ssl in the server"
        } else if text.contains("certificate") {
            "; the server's certificate is not trusted by the system's CA store: add its CA there, or use sslmode=disable on a trusted network"
        } else {
            "; check that PostgreSQL runs and listens there, and the host and port in --postgres (or CENSUS_POSTGRES_URL)"
        };
        self.error(&format!("cannot connect ({text}){fix}"))
    }

    /// Connects read-only (every statement runs in a read-only transaction) to a
    /// database that has the census schema.
    pub fn open_read_only(&self) -> Result<Client, PgError> {
        let mut client = self.connect()?;
        let version = (|| -> Result<Option<i64>, postgres::Error> {
            client.batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
            let exists: bool = client
                .query_one("SELECT to_regclass('census_schema') IS NOT NULL", &[])?
                .get(0);
            if !exists {
                return Ok(None);
            }
            Ok(client
                .query_one("SELECT MAX(version) FROM census_schema", &[])?
                .get(0))
        })()
        .map_err(|e| self.error(&error_text(&e)))?;
        match version {
            None => Err(self.error(
                "no census tables there; run `census scan --postgres URL` first, or name the database census wrote to",
            )),
            Some(v) if v > SCHEMA_VERSION => Err(self.newer(v)),
            Some(_) => Ok(client),
        }
    }

    pub(crate) fn newer(&self, found: i64) -> PgError {
        self.error(&format!(
            "made by a newer census (schema version {found}, this census knows {SCHEMA_VERSION}); upgrade census"
        ))
    }
}

fn skip_spaces(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while it.next_if(|c| c.is_whitespace()).is_some() {}
}

/// The `key=value` pairs of a key/value connection string, values unquoted (as
/// libpq reads them: `key = 'va\'lue'`); what does not parse ends the list.
fn kv_pairs(raw: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = raw.chars().peekable();
    loop {
        skip_spaces(&mut it);
        let key: String =
            std::iter::from_fn(|| it.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        skip_spaces(&mut it);
        if it.next() != Some('=') {
            break;
        }
        skip_spaces(&mut it);
        let mut value = String::new();
        if it.peek() == Some(&'\'') {
            it.next();
            while let Some(c) = it.next() {
                match c {
                    '\\' => value.extend(it.next()),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = it.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(it.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
    out
}

#[cfg(test)]
/// `%XX` escapes decoded (as in a URL's user info).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An error's text with its causes, on one line.
pub fn error_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().replace('\n', " ");
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s = s.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = s_source(source);
    }
    text.replace('\n', " ")
}

fn s_source<'a>(
    e: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    e.and_then(|e| e.source())
}

/// TLS through rustls, trusting the system's CA store.
fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

/// Every scan, oldest first.
pub fn scans(client: &mut Client) -> Result<Vec<ScanRow>, postgres::Error> {
    Ok(client
        .query(
            "SELECT scan_id, seq, started, finished FROM scans ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| ScanRow {
            scan_id: r.get(0),
            seq: r.get(1),
            started: r.get(2),
            finished: r.get(3),
        })
        .collect())
}

/// The name of an account in a scan, if it has one.
pub fn account_name(
    client: &mut Client,
    scan_id: &str,
    account_id: &str,
) -> Result<Option<String>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT name FROM accounts WHERE scan_id = $1 AND account_id = $2",
            &[&scan_id, &account_id],
        )?
        .and_then(|r| r.get(0)))
}

/// A value of any column a query returns, as a [`Cell`]. Types census cannot print
/// give an error that says to cast the column to text.
pub struct AnyCell(pub Cell);

impl<'a> FromSql<'a> for AnyCell {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<AnyCell, Box<dyn std::error::Error + Sync + Send>> {
        let cell = match *ty {
            Type::BOOL => Cell::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::INT2 => Cell::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::INT4 => Cell::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::OID => Cell::Int(i64::from(u32::from_sql(ty, raw)?)),
            Type::FLOAT4 => Cell::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::FLOAT8 => Cell::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric(raw)?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Cell::Text(String::from_sql(ty, raw)?)
            }
            Type::CHAR => Cell::Text(char::from(i8::from_sql(ty, raw)? as u8).to_string()),
            Type::JSON | Type::JSONB => {
                Cell::Text(serde_json::Value::from_sql(ty, raw)?.to_string())
            }
            Type::BYTEA => Cell::Blob(raw.to_vec()),
            Type::TIMESTAMPTZ => Cell::Text(
                chrono::DateTime::<chrono::Utc>::from_sql(ty, raw)?
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ),
            Type::TIMESTAMP => Cell::Text(chrono::NaiveDateTime::from_sql(ty, raw)?.to_string()),
            Type::DATE => Cell::Text(chrono::NaiveDate::from_sql(ty, raw)?.to_string()),
            Type::TIME => Cell::Text(chrono::NaiveTime::from_sql(ty, raw)?.to_string()),
            Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::NAME_ARRAY => {
                let items: Vec<Option<String>> = Vec::from_sql(ty, raw)?;
                Cell::List(items.into_iter().map(Option::unwrap_or_default).collect())
            }
            Type::INT8_ARRAY | Type::INT4_ARRAY => {
                let items: Vec<Option<i64>> = match *ty {
                    Type::INT8_ARRAY => Vec::from_sql(ty, raw)?,
                    _ => Vec::<Option<i32>>::from_sql(ty, raw)?
                        .into_iter()
                        .map(|v| v.map(i64::from))
                        .collect(),
                };
                Cell::List(
                    items
                        .into_iter()
                        .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
                        .collect(),
                )
            }
            _ => return Err(format!("unprintable type {ty}").into()),
        };
        Ok(AnyCell(cell))
    }

    fn from_sql_null(_: &Type) -> Result<AnyCell, Box<dyn std::error::Error + Sync + Send>> {
        Ok(AnyCell(Cell::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Whether [`AnyCell`] can print a column of this type.
pub fn printable(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::BOOL
            | Type::INT2
            | Type::INT4
            | Type::INT8
            | Type::OID
            | Type::FLOAT4
            | Type::FLOAT8
            | Type::NUMERIC
            | Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
            | Type::UNKNOWN
            | Type::CHAR
            | Type::JSON
            | Type::JSONB
            | Type::BYTEA
            | Type::TIMESTAMPTZ
            | Type::TIMESTAMP
            | Type::DATE
            | Type::TIME
            | Type::TEXT_ARRAY
            | Type::VARCHAR_ARRAY
            | Type::NAME_ARRAY
            | Type::INT8_ARRAY
            | Type::INT4_ARRAY
    )
}

/// `numeric` in binary form (digits in base 10 000): an integer when it has no
/// fraction and fits, else a float, else text.
fn numeric(raw: &[u8]) -> Result<Cell, Box<dyn std::error::Error + Sync + Send>> {
    if raw.len() < 8 {
        return Err("short numeric".into());
    }
    let word = |i: usize| i16::from_be_bytes([raw[i], raw[i + 1]]);
    let ndigits = word(0).max(0) as usize;
    let weight = i32::from(word(2));
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let dscale = word(6).max(0) as usize;
    if raw.len() < 8 + 2 * ndigits {
        return Err("short numeric".into());
    }
    match sign {
        0xC000 => return Ok(Cell::Text("NaN".into())),
        0xD000 => return Ok(Cell::Text("Infinity".into())),
        0xF000 => return Ok(Cell::Text("-Infinity".into())),
        _ => {}
    }
    let digits: Vec<i16> = (0..ndigits).map(|i| word(8 + 2 * i)).collect();
    // The integer part: digit groups with weight >= 0.
    let mut int = String::new();
    for w in (0..=weight.max(0)).rev() {
        let idx = weight - w;
        let d = if idx >= 0 && (idx as usize) < digits.len() && weight >= 0 {
            digits[idx as usize]
        } else {
            0
        };
        if int.is_empty() {
            int = d.to_string();
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if weight < 0 {
        int = "0".into();
    }
    let mut frac = String::new();
    let mut idx = weight + 1;
    while frac.len() < dscale {
        let d = if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        };
        frac.push_str(&format!("{d:04}"));
        idx += 1;
    }
    frac.truncate(dscale);
    let neg = sign == 0x4000;
    let text = format!(
        "{}{int}{}{frac}",
        if neg { "-" } else { "" },
        if frac.is_empty() { "" } else { "." }
    );
    if frac.is_empty() {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Cell::Int(i));
        }
    }
    Ok(text
        .parse::<f64>()
        .map(Cell::Real)
        .unwrap_or(Cell::Text(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_passwords() {
        let u = PgUrl::new(
            "postgresql://census:s3cr%40t@db.example:5433/inv?sslmode=require&password=other",
        );
        assert_eq!(
            u.shown(),
            "postgresql://census@db.example:5433/inv?sslmode=require"
        );
        assert!(!format!("{u:?}").contains("s3cr"));
        assert_eq!(percent_decode("s3cr%40t"), "s3cr@t");
        let kv = PgUrl::new("host=db user=census password=hunter2 dbname=inv");
        assert_eq!(kv.shown(), "host=db user=census dbname=inv");
        let quoted = PgUrl::new("host=db password = 'a b\\' c' user=census");
        assert_eq!(quoted.shown(), "host=db user=census");
        // Structural, not find-and-replace: a one-letter password garbles nothing.
        let short = PgUrl::new("postgresql://postgres:s@localhost:5432/census?sslmode=disable");
        assert_eq!(
            short.error("cannot connect (connection refused)").0,
            "PostgreSQL at postgresql://postgres@localhost:5432/census?sslmode=disable: cannot connect (connection refused)"
        );
        let e = PgUrl::new("host=db password=x'y")
            .connect()
            .err()
            .unwrap()
            .0;
        assert!(!e.contains("`y`") && !e.contains("x'y"), "{e}");
        let bad = PgUrl::new("postgresql://u:pw@h:notaport/db");
        let e = bad.connect().err().unwrap().0;
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
        assert!(!e.contains("pw"), "{e}");
    }

    #[test]
    fn numerics() {
        // 12345678901 = [123, 4567, 8901] weight 2; 1.5 = [1, 5000] weight 0 dscale 1.
        let enc = |digits: &[i16], weight: i16, sign: u16, dscale: i16| {
            let mut v = Vec::new();
            v.extend((digits.len() as i16).to_be_bytes());
            v.extend(weight.to_be_bytes());
            v.extend(sign.to_be_bytes());
            v.extend(dscale.to_be_bytes());
            for d in digits {
                v.extend(d.to_be_bytes());
            }
            v
        };
        assert_eq!(
            numeric(&enc(&[123, 4567, 8901], 2, 0, 0)).unwrap(),
            Cell::Int(12345678901)
        );
        assert_eq!(numeric(&enc(&[1, 5000], 0, 0, 1)).unwrap(), Cell::Real(1.5));
        assert_eq!(numeric(&enc(&[42], 0, 0x4000, 0)).unwrap(), Cell::Int(-42));
        assert_eq!(numeric(&enc(&[], 0, 0, 0)).unwrap(), Cell::Int(0));
        assert_eq!(numeric(&enc(&[25], -1, 0, 4)).unwrap(), Cell::Real(0.0025));
        assert_eq!(numeric(&enc(&[1], 1, 0, 0)).unwrap(), Cell::Int(10000));
    }
}
