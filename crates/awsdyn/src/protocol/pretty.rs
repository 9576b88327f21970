//! Pretty JSON written straight into a byte buffer, byte for byte as
//! `serde_json::to_writer_pretty` writes the equivalent [`Value`]: two-space indents,
//! `": "` after keys, `{}`/`[]` for empty containers, strings escaped as serde_json
//! escapes them, numbers formatted by serde_json itself.
//!
//! The streaming parsers ([`super::json::stream`], [`super::xml::stream`]) write their
//! output with it, so that an answer becomes printed JSON without a [`Value`] tree.

use serde_json::Value;

/// Spaces for indents, sliced by depth (deeper levels are written in several slices).
const SPACES: &[u8; 128] = &[b' '; 128];

/// A line break and the indents of the first 15 depths.
const BREAK: &[u8; 32] = b"\n                               ";

/// The output buffer and the depth of the container being written.
pub(crate) struct Out {
    pub buf: Vec<u8>,
    pub depth: usize,
}

impl Out {
    pub fn with_capacity(capacity: usize) -> Out {
        let buf = Vec::with_capacity(capacity);
        advise_huge_pages(&buf);
        Out { buf, depth: 0 }
    }

    /// A line break and the indent of the current depth.
    #[inline]
    pub fn newline(&mut self) {
        let n = 1 + self.depth * 2;
        if n <= BREAK.len() {
            // A copy of fixed length (no call), cut to the indent.
            let len = self.buf.len();
            self.buf.extend_from_slice(BREAK);
            self.buf.truncate(len + n);
            return;
        }
        self.buf.push(b'\n');
        let mut n = n - 1;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.buf.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    /// The separator before an entry of an object or array: `,` unless it is the
    /// first, then the line break and indent.
    #[inline]
    pub fn separator(&mut self, first: bool) {
        if !first {
            self.buf.push(b',');
        }
        self.newline();
    }

    /// `"name": ` (the separator written before).
    #[inline]
    pub fn key(&mut self, name: &str) {
        self.string(name);
        self.buf.extend_from_slice(b": ");
    }

    /// The bytes [`Out::key`] writes for `name`, to copy where a member is written.
    pub fn key_bytes(name: &str) -> Box<[u8]> {
        let mut key = Out::with_capacity(name.len() + 4);
        key.key(name);
        key.buf.into_boxed_slice()
    }

    /// Opens an object (`{`) or an array (`[`).
    #[inline]
    pub fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
    }

    /// Closes an object or array that has `any` entries.
    #[inline]
    pub fn close(&mut self, bracket: u8, any: bool) {
        self.depth -= 1;
        if any {
            self.newline();
        }
        self.buf.push(bracket);
    }

    /// A JSON string, escaped as serde_json escapes it.
    #[inline]
    pub fn string(&mut self, s: &str) {
        if needs_escape(s.as_bytes()) {
            serde_json::to_writer(&mut self.buf, s).expect("writing to a Vec");
            return;
        }
        self.plain_string(s.as_bytes());
    }

    /// A JSON string known to need no escape (no `"`, `\\` or control character).
    #[inline]
    pub fn plain_string(&mut self, s: &[u8]) {
        self.buf.reserve(s.len() + 2);
        self.buf.push(b'"');
        self.buf.extend_from_slice(s);
        self.buf.push(b'"');
    }

    /// Bytes already written elsewhere as JSON (a key written once as `"name": `).
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
    }

    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// A number (or any serializable scalar), formatted by serde_json.
    #[inline]
    pub fn scalar<T: serde::Serialize + ?Sized>(&mut self, v: &T) {
        serde_json::to_writer(&mut self.buf, v).expect("writing a scalar to a Vec");
    }

    /// A whole value at the current depth.
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Array(a) if !a.is_empty() => {}
            Value::Object(o) if !o.is_empty() => {}
            Value::String(s) => return self.string(s),
            _ => return self.scalar(v),
        }
        let text = serde_json::to_vec_pretty(v).expect("writing a value to a Vec");
        // Line breaks in serde_json's output are all structural (strings escape
        // theirs): each takes the current indent in front of its own.
        let mut rest = &text[..];
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.buf.extend_from_slice(&rest[..i]);
            self.newline();
            rest = &rest[i + 1..];
        }
        self.buf.extend_from_slice(rest);
    }
}

/// Asks the kernel for transparent huge pages under a large output buffer (its whole
/// 2 MiB pages): one page fault per 2 MiB instead of per 4 KiB as the buffer fills,
/// where THP is on `madvise` (census's allocator asks for none for its own memory). A
/// hint, which changes nothing where THP is off.
fn advise_huge_pages(buf: &Vec<u8>) {
    const HUGE: usize = 2 << 20;
    if buf.capacity() < 2 * HUGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let start = (buf.as_ptr() as usize).next_multiple_of(HUGE);
        let end = (buf.as_ptr() as usize + buf.capacity()) / HUGE * HUGE;
        if end > start {
            // SAFETY: madvise(MADV_HUGEPAGE) on whole pages inside the buffer's own
            // allocation: advice on how to back them, which changes no byte.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
}

/// Whether serde_json escapes something in the string: `"`, `\\` or a control
/// character. In blocks of 16 bytes without an early exit, which the compiler turns
/// into vector compares.
#[inline]
fn needs_escape(s: &[u8]) -> bool {
    let special = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    let mut blocks = s.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | special(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| special(b))
}

/// The top-level structure of an answer as the streaming parsers leave it: the
/// members' values written (at depth 1) in `buf`, and their names and byte ranges in
/// the order of the page. The printer composes the object from them, in this order or
/// in the order of a merged result.
pub(crate) struct Top<'m> {
    pub buf: Vec<u8>,
    pub members: Vec<(&'m str, std::ops::Range<usize>)>,
}

impl Top<'_> {
    /// The bytes of a member's value.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.members
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| &self.buf[r.clone()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_as_serde_json_writes_them() {
        let v =
            json!({"a": [1, 2.5, "x\n\"y\u{1}"], "b": {}, "c": [], "d": {"e": null, "f": true}});
        for depth in [0, 1, 3] {
            let mut out = Out::with_capacity(0);
            out.depth = depth;
            out.value(&v);
            let want = serde_json::to_string_pretty(&v)
                .unwrap()
                .replace('\n', &format!("\n{}", "  ".repeat(depth)));
            assert_eq!(String::from_utf8(out.buf).unwrap(), want);
        }
    }
}
