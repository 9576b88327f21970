//! An XML answer written straight as printed boto3 JSON: the walk of [`parse_members`]
//! (same events, same plan, same rules), each value written into an [`Out`] buffer as
//! it is read instead of built as a [`Value`].
//!
//! The output is byte for byte what [`parse_members`]' value pretty-prints to: members
//! in the order of their elements, lists, maps and scalars as [`Parser::value`] reads
//! them. What would make the value path go back and change an entry already written is
//! refused (`Err`, and the caller takes the [`Value`] path): a member element given
//! twice, a flattened list or map whose elements are not all together, a map key given
//! twice, an entry with its value before its key, a structure with `xmlAttribute`
//! members, a union member this model does not know at the top.

use std::ops::Range;

use super::*;
use crate::protocol::pretty::{Out, Top};

/// The members of structure `shape` (as [`parse_members`] reads them) as a [`Top`];
/// `None` when this path does not handle the document or it is not valid.
pub(crate) fn parse_top<'m>(
    model: &'m ServiceModel,
    shape: ShapeId,
    body: &[u8],
    wrapper: Option<&str>,
) -> Option<Top<'m>> {
    if model.shape(shape).kind != ShapeType::Structure {
        return None;
    }
    let plan = Plan::printing(model, shape);
    let mut w = Writer {
        p: Parser::new(model, &plan, body),
        out: Out::with_capacity(body.len() + body.len() / 4),
        seen: Vec::new(),
        keys: Vec::new(),
        top: Vec::new(),
    };
    let empty = Top {
        buf: Vec::new(),
        members: Vec::new(),
    };
    let Some((root, root_empty)) = w.p.root().ok()? else {
        return Some(empty);
    };
    let (start, is_empty) = match wrapper {
        None => (root, root_empty),
        Some(_) if root_empty => return Some(empty),
        Some(wrapper) => match w.p.find_child(wrapper.as_bytes()).ok()? {
            Some(found) => found,
            None => return Some(empty),
        },
    };
    w.structure(shape, &start, is_empty, 0, true).ok()?;
    Some(Top {
        buf: w.out.buf,
        members: w.top,
    })
}

struct Writer<'a, 'm, 'p> {
    p: Parser<'a, 'm, 'p>,
    out: Out,
    /// Per structure being written, which members have been (a stack).
    seen: Vec<bool>,
    /// Keys of the maps being written (byte ranges in `out`).
    keys: Vec<Range<usize>>,
    /// The top structure's members: names and value ranges.
    top: Vec<(&'m str, Range<usize>)>,
}

/// A flattened list or map member whose elements are being written.
struct Flat {
    member: usize,
    /// Where its first item or entry would start (`[` or `{` just written).
    open_at: usize,
    /// For a map: the base of its keys on the stack.
    keys_base: usize,
}

fn refuse<T>(why: &str) -> Result<T, String> {
    Err(why.to_string())
}

impl<'a, 'm, 'p> Writer<'a, 'm, 'p> {
    /// The element just started (`start`) as a value of shape `id`.
    fn value(
        &mut self,
        id: ShapeId,
        kind: Option<ShapeType>,
        start: &BytesStart<'a>,
        empty: bool,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return refuse("XML nested too deeply");
        }
        let kind = kind.unwrap_or_else(|| self.p.model.shape(id).kind);
        match kind {
            ShapeType::Structure => self.structure(id, start, empty, depth, false),
            ShapeType::List => {
                self.out.open(b'[');
                let mut any = false;
                if !empty {
                    let member = self.p.model.shape(id).member.as_ref().map(|m| m.target);
                    any = self.list_items(member, depth)?;
                }
                self.out.close(b']', any);
                Ok(())
            }
            ShapeType::Map => {
                self.out.open(b'{');
                let mut any = false;
                if !empty {
                    any = self.map_entries(id, depth)?;
                }
                self.out.close(b'}', any);
                Ok(())
            }
            _ if empty => {
                self.scalar(kind, "");
                Ok(())
            }
            _ => {
                let text = self.p.text()?;
                self.scalar(kind, &text);
                Ok(())
            }
        }
    }

    /// A scalar of type `kind` from its text, as [`scalar`] gives it: the common
    /// types written straight, the others through their value.
    #[inline]
    fn scalar(&mut self, kind: ShapeType, text: &str) {
        match kind {
            ShapeType::String | ShapeType::Character => self.out.string(text),
            ShapeType::Boolean => self.out.bool(text == "true"),
            ShapeType::Integer | ShapeType::Long | ShapeType::Byte | ShapeType::Short => {
                match text.trim().parse::<i64>() {
                    Ok(i) => self.out.scalar(&i),
                    Err(_) => self.out.value(&scalar(kind, text)),
                }
            }
            ShapeType::Timestamp => match fast_utc_iso8601(text) {
                Some(s) => self.out.string(&s),
                None => self.out.value(&scalar(kind, text)),
            },
            _ => self.out.value(&scalar(kind, text)),
        }
    }

    /// The members of structure `id` from the element just started, as an object; at
    /// the top, their names and value ranges also go to `self.top`.
    fn structure(
        &mut self,
        id: ShapeId,
        start: &BytesStart<'a>,
        empty: bool,
        depth: usize,
        top: bool,
    ) -> Result<(), String> {
        let plans: &'p Plan<'m> = self.p.plan;
        let plan: &'p StructPlan<'m> = plans.structure(id);
        if plan.has_attributes {
            return refuse("xmlAttribute members");
        }
        let _ = start;
        self.out.open(b'{');
        let open_at = self.out.buf.len();
        if empty {
            self.out.close(b'}', false);
            return Ok(());
        }
        let seen_base = self.seen.len();
        self.seen.resize(seen_base + plan.members.len(), false);
        let mut predicted = plan.first.get();
        let mut last = NONE;
        let mut unknown: Option<BytesStart<'a>> = None;
        let mut others = false;
        let mut flat: Option<Flat> = None;
        loop {
            let (e, child_empty) = match self.p.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => break,
                Event::Eof => return refuse("invalid XML: unexpected end of document"),
                _ => continue,
            };
            let qname = e.name();
            let name = local(qname.as_ref());
            let found = plan.find(predicted, name);
            let Some(i) = found else {
                if plan.union {
                    match &unknown {
                        None => unknown = Some(e.clone()),
                        Some(u) => others |= local(u.name().as_ref()) != name,
                    }
                }
                if !child_empty {
                    self.p.skip(&e)?;
                }
                continue;
            };
            match plan.members.get(usize::from(last)) {
                Some(prev) => prev.next.set(i as u16),
                None => plan.first.set(i as u16),
            }
            last = i as u16;
            let m = &plan.members[i];
            predicted = m.next.get();
            let flattened = m.flattened && matches!(m.kind, ShapeType::List | ShapeType::Map);
            if flat.as_ref().is_some_and(|f| f.member == i) {
                let f = flat.as_ref().expect("open flattened member");
                self.flattened_item(m, &e, child_empty, f, depth)?;
                continue;
            }
            if let Some(f) = flat.take() {
                self.close_flat(f, plan, top);
            }
            if std::mem::replace(&mut self.seen[seen_base + i], true) {
                return refuse("a member given twice");
            }
            if flattened
                && m.kind == ShapeType::List
                && self.p.model.shape(m.target).member.is_none()
            {
                return refuse("a flattened list without a member type");
            }
            self.out.separator(self.out.buf.len() == open_at);
            self.out.raw(&m.key);
            let value_start = self.out.buf.len();
            if flattened {
                self.out.open(if m.kind == ShapeType::List {
                    b'['
                } else {
                    b'{'
                });
                let f = Flat {
                    member: i,
                    open_at: self.out.buf.len(),
                    keys_base: self.keys.len(),
                };
                if top {
                    self.top.push((m.name, value_start..value_start));
                }
                self.flattened_item(m, &e, child_empty, &f, depth)?;
                flat = Some(f);
            } else {
                self.value(m.target, Some(m.kind), &e, child_empty, depth + 1)?;
                if top {
                    self.top.push((m.name, value_start..self.out.buf.len()));
                }
            }
        }
        if let Some(f) = flat.take() {
            self.close_flat(f, plan, top);
        }
        self.seen.truncate(seen_base);
        let mut any = self.out.buf.len() > open_at;
        if let (Some(u), false, false) = (&unknown, others, any) {
            if top {
                return refuse("a union member this model does not know, at the top");
            }
            // botocore's answer to a union member this model does not know.
            let tag = String::from_utf8_lossy(local(u.name().as_ref())).into_owned();
            self.out.separator(true);
            self.out.key("SDK_UNKNOWN_MEMBER");
            self.out.open(b'{');
            self.out.separator(true);
            self.out.key("name");
            self.out.string(&tag);
            self.out.close(b'}', true);
            any = true;
        }
        self.out.close(b'}', any);
        Ok(())
    }

    /// Closes the list or map of a flattened member.
    fn close_flat(&mut self, f: Flat, plan: &StructPlan<'m>, top: bool) {
        let m = &plan.members[f.member];
        let any = self.out.buf.len() > f.open_at;
        self.keys.truncate(f.keys_base);
        self.out.close(
            if m.kind == ShapeType::List {
                b']'
            } else {
                b'}'
            },
            any,
        );
        if top {
            if let Some(last) = self.top.last_mut() {
                last.1.end = self.out.buf.len();
            }
        }
    }

    /// One element of a flattened list or map member: an item, or a key/value pair.
    fn flattened_item(
        &mut self,
        m: &MemberPlan<'m>,
        e: &BytesStart<'a>,
        empty: bool,
        f: &Flat,
        depth: usize,
    ) -> Result<(), String> {
        if m.kind == ShapeType::List {
            let member = self
                .p
                .model
                .shape(m.target)
                .member
                .as_ref()
                .map(|r| r.target);
            let t = member.expect("checked when the list was opened");
            self.out.separator(self.out.buf.len() == f.open_at);
            self.value(t, None, e, empty, depth + 1)
        } else {
            if empty {
                return Ok(());
            }
            self.map_entry(m.target, depth + 1, f.open_at, f.keys_base)
        }
    }

    /// The items of a wrapped list: every child element, whatever its name. Whether
    /// there was one.
    fn list_items(&mut self, member: Option<ShapeId>, depth: usize) -> Result<bool, String> {
        let member_kind = member.map(|t| self.p.model.shape(t).kind);
        let mut any = false;
        loop {
            let (e, empty) = match self.p.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => return Ok(any),
                Event::Eof => return refuse("invalid XML: unexpected end of document"),
                _ => continue,
            };
            match member {
                Some(t) => {
                    self.out.separator(!any);
                    any = true;
                    self.value(t, member_kind, &e, empty, depth + 1)?;
                }
                None if !empty => self.p.skip(&e)?,
                None => {}
            }
        }
    }

    /// The entries of a wrapped map (`<entry>` elements). Whether there was one.
    fn map_entries(&mut self, id: ShapeId, depth: usize) -> Result<bool, String> {
        let open_at = self.out.buf.len();
        let keys_base = self.keys.len();
        loop {
            match self.p.next()? {
                Event::Start(_) => self.map_entry(id, depth + 1, open_at, keys_base)?,
                Event::End(_) => break,
                Event::Eof => return refuse("invalid XML: unexpected end of document"),
                _ => {}
            }
        }
        self.keys.truncate(keys_base);
        Ok(self.out.buf.len() > open_at)
    }

    /// The key and value inside the entry element just started, up to its end, written
    /// as an entry of the map opened at `open_at` (nothing if either is missing).
    fn map_entry(
        &mut self,
        id: ShapeId,
        depth: usize,
        open_at: usize,
        keys_base: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return refuse("XML nested too deeply");
        }
        let Some(mp) = map_plan(self.p.model, id) else {
            return self.p.skip_rest();
        };
        let mark = self.out.buf.len();
        let mut key: Option<Range<usize>> = None;
        let mut value = false;
        loop {
            let (e, empty) = match self.p.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => break,
                Event::Eof => return refuse("invalid XML: unexpected end of document"),
                _ => continue,
            };
            let qname = e.name();
            let name = local(qname.as_ref());
            if name == mp.key_name.as_bytes() {
                if key.is_some() || value {
                    return refuse("a map key after another key or after the value");
                }
                self.out.separator(mark == open_at);
                let start = self.out.buf.len();
                if empty {
                    self.out.string("");
                } else {
                    let text = self.p.text()?;
                    self.out.string(&text);
                }
                key = Some(start..self.out.buf.len());
                self.out.buf.extend_from_slice(b": ");
            } else if name == mp.value_name.as_bytes() {
                if key.is_none() || value {
                    return refuse("a map value before its key or after another value");
                }
                self.value(mp.value, None, &e, empty, depth + 1)?;
                value = true;
            } else if !empty {
                self.p.skip(&e)?;
            }
        }
        match key {
            Some(k) if value => {
                let this = &self.out.buf[k.clone()];
                if self.keys[keys_base..]
                    .iter()
                    .any(|r| &self.out.buf[r.clone()] == this)
                {
                    return refuse("a map key given twice");
                }
                self.keys.push(k);
            }
            _ => self.out.buf.truncate(mark),
        }
        Ok(())
    }
}
