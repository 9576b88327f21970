//! Rows in PostgreSQL's binary `COPY` format, written straight from the rows' text:
//! no per-column arrays, no copies of the strings, and `jsonb` sent as the JSON text
//! the sink already has (the binary `jsonb` form is a version byte and that text).
//! Not for sending them (the writer's `copy_in`) nor for deciding which rows may be
//! copied rather than upserted ([`super::Writer`]).

use super::{pg_json, pg_text};

/// The binary `COPY` header: signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The `jsonb` binary format's version.
const JSONB_VERSION: u8 = 1;

/// A batch of rows of `fields` columns each, in the binary `COPY` format.
pub struct CopyRows {
    buf: Vec<u8>,
    fields: i16,
}

impl CopyRows {
    /// An empty batch of rows of `fields` columns.
    pub fn new(fields: i16) -> CopyRows {
        let mut buf = Vec::with_capacity(64 * 1024);
        buf.extend_from_slice(HEADER);
        CopyRows { buf, fields }
    }

    /// Starts a row: its `fields` values follow.
    pub fn row(&mut self) -> &mut CopyRows {
        self.buf.extend_from_slice(&self.fields.to_be_bytes());
        self
    }

    fn bytes(&mut self, prefix: Option<u8>, bytes: &[u8]) {
        let len = bytes.len() + usize::from(prefix.is_some());
        // PostgreSQL takes at most 1 GB in a field: a longer one is refused by the
        // server, whatever length is sent.
        let len = i32::try_from(len).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend(prefix);
        self.buf.extend_from_slice(bytes);
    }

    /// A `text` value (NUL characters become U+FFFD, as [`pg_text`] says).
    pub fn text(&mut self, s: &str) -> &mut CopyRows {
        self.bytes(None, pg_text(s).as_bytes());
        self
    }

    /// A `text` value or NULL.
    pub fn opt(&mut self, s: Option<&str>) -> &mut CopyRows {
        match s {
            Some(s) => self.text(s),
            None => {
                self.buf.extend_from_slice(&(-1i32).to_be_bytes());
                self
            }
        }
    }

    /// A `jsonb` value from JSON text (`\u0000` in strings becomes U+FFFD, as
    /// [`pg_json`] says).
    pub fn jsonb(&mut self, json: &str) -> &mut CopyRows {
        self.bytes(Some(JSONB_VERSION), pg_json(json).as_bytes());
        self
    }

    /// The bytes to send, trailer included.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_encoded_as_postgres_reads_them() {
        let mut c = CopyRows::new(3);
        c.row().text("a\0b").opt(None).jsonb(r#"{"k":"\u0000"}"#);
        let bytes = c.finish();
        let mut want = HEADER.to_vec();
        want.extend_from_slice(&3i16.to_be_bytes());
        want.extend_from_slice(&5i32.to_be_bytes());
        want.extend_from_slice("a\u{fffd}b".as_bytes());
        want.extend_from_slice(&(-1i32).to_be_bytes());
        let json = "{\"k\":\"\u{fffd}\"}";
        want.extend_from_slice(&(json.len() as i32 + 1).to_be_bytes());
        want.push(1);
        want.extend_from_slice(json.as_bytes());
        want.extend_from_slice(&(-1i16).to_be_bytes());
        assert_eq!(bytes, want);
    }
}
