//! Rows printed as an aligned table, a JSON array of objects, or CSV: what `census
//! query`, `census diff` and `census doctor` print, and [`escape`] for any text shown
//! on a terminal. Not for files other tools read (those are written by their sinks).
//!
//! JSON and CSV are written row by row as they come; a table needs every row to align
//! its columns, so it holds them. In a table, NULL is empty and line breaks in values
//! (and every other control character) are shown escaped (`\n`, `\x1b`, see [`escape`]); in JSON, NULL is `null` and numbers are numbers; in CSV, NULL is
//! an empty field. Blobs are base64 everywhere; lists are JSON arrays, else joined
//! with `, `.

use std::io::{self, Write};
use std::str::FromStr;

use base64::Engine;
use serde_json::Value;

/// `s` as it may be shown on a terminal: control characters (ESC, BEL, CR, LF, C1...)
/// and the bidirectional-text overrides written as escapes (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`), so that data from AWS cannot move the cursor, retitle the window or
/// fake lines. Other text is unchanged. For tables and messages, not for JSON or CSV
/// (which keep the data exact, quoted by their format).
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && unsafe_char(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    /// A list of strings: a JSON array, else joined with `, `.
    List(Vec<String>),
    /// A JSON value: itself in JSON, else its compact text.
    Json(Value),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Blob(b) => base64::engine::general_purpose::STANDARD.encode(b),
            Cell::List(l) => l.join(", "),
            Cell::Json(v) => v.to_string(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::from(*i),
            Cell::Real(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Cell::Text(_) | Cell::Blob(_) => Value::String(self.text()),
            Cell::List(l) => Value::from(l.clone()),
            Cell::Json(v) => v.clone(),
        }
    }

    fn numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Real(_))
    }
}

impl From<rusqlite::types::ValueRef<'_>> for Cell {
    fn from(v: rusqlite::types::ValueRef<'_>) -> Cell {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(format!(
                "unknown output format {s:?}: use table, json or csv"
            )),
        }
    }
}

/// Writes rows in a [`Format`]: [`RowWriter::row`] for each, then [`RowWriter::finish`].
pub struct RowWriter<W: Write> {
    format: Format,
    columns: Vec<String>,
    out: Out<W>,
    /// Table rows, held to align them.
    held: Vec<Vec<Cell>>,
    rows: u64,
}

enum Out<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

impl<W: Write> RowWriter<W> {
    /// A writer with these column names.
    pub fn with_columns(format: Format, columns: &[&str], out: W) -> io::Result<RowWriter<W>> {
        RowWriter::new(format, columns.iter().map(|c| c.to_string()).collect(), out)
    }

    /// A writer with these column names.
    pub fn new(format: Format, columns: Vec<String>, out: W) -> io::Result<RowWriter<W>> {
        let out = match format {
            Format::Csv => {
                let mut c = csv::Writer::from_writer(out);
                c.write_record(&columns)?;
                Out::Csv(Box::new(c))
            }
            Format::Json => {
                let mut out = out;
                out.write_all(b"[")?;
                Out::Plain(out)
            }
            Format::Table => Out::Plain(out),
        };
        Ok(RowWriter {
            format,
            columns,
            out,
            held: Vec::new(),
            rows: 0,
        })
    }

    /// One row, with as many cells as there are columns.
    pub fn row(&mut self, cells: Vec<Cell>) -> io::Result<()> {
        match (&mut self.out, self.format) {
            (Out::Csv(c), _) => c.write_record(cells.iter().map(Cell::text))?,
            (Out::Plain(out), Format::Json) => {
                let mut o = serde_json::Map::with_capacity(cells.len());
                for (name, cell) in self.columns.iter().zip(&cells) {
                    o.insert(name.clone(), cell.json());
                }
                out.write_all(if self.rows == 0 { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut *out, &Value::Object(o))?;
            }
            (Out::Plain(_), _) => self.held.push(cells),
        }
        self.rows += 1;
        Ok(())
    }

    /// Ends the output; returns the number of rows.
    pub fn finish(self) -> io::Result<u64> {
        let rows = self.rows;
        match self.out {
            Out::Csv(mut c) => c.flush()?,
            Out::Plain(mut out) => {
                if self.format == Format::Json {
                    out.write_all(if rows == 0 { b"]\n" } else { b"\n]\n" })?;
                } else {
                    write_table(&mut out, &self.columns, &self.held)?;
                }
                out.flush()?;
            }
        }
        Ok(rows)
    }
}

fn write_table(out: &mut impl Write, columns: &[String], rows: &[Vec<Cell>]) -> io::Result<()> {
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape(&c.text()).into_owned()).collect())
        .collect();
    let columns: Vec<String> = columns.iter().map(|c| escape(c).into_owned()).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in &shown {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String], numeric: &[bool]| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = " ".repeat(w.saturating_sub(c.chars().count()));
            if numeric.get(i).copied().unwrap_or(false) {
                s.push_str(&pad);
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&pad);
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    out.write_all(line(&columns, &[]).as_bytes())?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.write_all(line(&rule, &[]).as_bytes())?;
    for (cells, shown) in rows.iter().zip(&shown) {
        let numeric: Vec<bool> = cells.iter().map(Cell::numeric).collect();
        out.write_all(line(shown, &numeric).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut buf = Vec::new();
        let mut w = RowWriter::new(format, vec!["name".into(), "n".into()], &mut buf).unwrap();
        w.row(vec![Cell::Text("a,b".into()), Cell::Int(10)])
            .unwrap();
        w.row(vec![Cell::Text("long name".into()), Cell::Null])
            .unwrap();
        w.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn control_characters_escaped_in_tables_only() {
        let hostile = "a\x1b]0;owned\x07b\r\nc\u{202e}d\u{9b}";
        assert_eq!(
            escape(hostile),
            "a\\x1b]0;owned\\x07b\\r\\nc\\u{202e}d\\x9b"
        );
        assert_eq!(escape("plain é"), "plain é");
        let render = |format| {
            let mut buf = Vec::new();
            let mut w = RowWriter::new(format, vec!["v\x1b".into()], &mut buf).unwrap();
            w.row(vec![Cell::Text(hostile.into())]).unwrap();
            w.finish().unwrap();
            String::from_utf8(buf).unwrap()
        };
        let table = render(Format::Table);
        assert!(
            !table.chars().any(|c| c.is_control() && c != '\n'),
            "{table:?}"
        );
        assert!(table.contains("a\\x1b]0;owned"), "{table}");
        let json: Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(json[0]["v\x1b"], hostile);
        let text = render(Format::Csv);
        let mut csv = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(&csv.records().next().unwrap().unwrap()[0], hostile);
    }

    #[test]
    fn formats() {
        assert_eq!(
            render(Format::Table),
            "name       n\n---------  --\na,b        10\nlong name\n"
        );
        assert_eq!(render(Format::Csv), "name,n\n\"a,b\",10\nlong name,\n");
        let json: Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"name": "a,b", "n": 10}, {"name": "long name", "n": null}])
        );
    }
}
