//! A JSON body of a given shape written straight as printed boto3 JSON: the same walk
//! as [`super::parse_body`] (a [`DeserializeSeed`] over the shape while serde_json
//! reads), writing each value into an [`Out`] buffer instead of building a [`Value`].
//!
//! The output is byte for byte what [`super::parse_body`]'s value pretty-prints to:
//! structure members in model order (moved into it when the body has them in another
//! order; of a member given twice the last value), null members and map values left
//! out, timestamps in boto3's form, everything else as it comes. A map with a key given
//! twice is refused (the caller then takes the [`Value`] path), as is a body that is
//! not a JSON object or not UTF-8.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::Value;

use super::{member_index, Key, NullCheck};
use crate::model::{ServiceModel, Shape, ShapeId, ShapeType};
use crate::protocol::pretty::{Out, Top};
use crate::protocol::ShapeWalk;
use crate::timestamp;

/// Writes the body (a JSON object for structure `shape`) as a [`Top`]: `None` when the
/// body is not something this path handles or not valid, for the caller to parse it
/// the [`Value`] way (which gives the same output, or the error).
pub(crate) fn parse_top<'m>(
    model: &'m ServiceModel,
    shape: ShapeId,
    body: &[u8],
) -> Option<Top<'m>> {
    let s = model.shape(shape);
    if s.kind != ShapeType::Structure || s.document {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let Some(first) = text.bytes().find(|b| !b.is_ascii_whitespace()) else {
        return Some(Top {
            buf: Vec::new(),
            members: Vec::new(),
        });
    };
    if first != b'{' {
        return None;
    }
    let ctx = Ctx {
        plan: Plan::new(model, shape),
        // Printed JSON is two to three times the size of a compact body: the room
        // reserved and not written costs no memory, moving the buffer when it is too
        // small costs a copy and its pages.
        out: RefCell::new(Out::with_capacity(body.len() * 3)),
        members: RefCell::new(Vec::new()),
        keys: RefCell::new(Vec::new()),
        scratch: RefCell::new(Vec::new()),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let visitor = StructVisitor {
        ctx: &ctx,
        info: ctx.plan.structure(shape),
        top: true,
    };
    de.deserialize_map(visitor).ok()?;
    de.end().ok()?;
    let buf = ctx.out.into_inner().buf;
    // The top structure left its members on the stack, in model order: `"name": value`
    // from each start.
    let members = ctx
        .members
        .into_inner()
        .into_iter()
        .map(|(i, range)| {
            let name = s
                .members
                .get_index(i as usize)
                .expect("member index")
                .0
                .as_str();
            let value_start = range.start + quoted_len(name) + 2;
            (name, value_start..range.end)
        })
        .collect();
    Some(Top { buf, members })
}

/// The length of a member name as a JSON string (names are plain; escaped otherwise).
fn quoted_len(name: &str) -> usize {
    let mut out = Out::with_capacity(name.len() + 2);
    out.string(name);
    out.buf.len()
}

/// Per structure reachable from the answer's shape: its members' keys as printed,
/// their targets, and a table from wire name to member.
struct StructInfo<'m> {
    shape: &'m Shape,
    /// `"name": ` of each member.
    keys: Vec<Box<[u8]>>,
    targets: Vec<ShapeId>,
    /// Open-addressing table (size a power of two) from each wire name to the member
    /// [`member_index`] finds for it (a key that is no wire name names no member).
    table: Vec<Option<Slot<'m>>>,
}

#[derive(Clone, Copy)]
struct Slot<'m> {
    /// The wire name, and its first 8 bytes packed (see [`name_hash`]).
    name: &'m str,
    packed: u64,
    member: u32,
}

impl StructInfo<'_> {
    /// The member the key names, as [`member_index`] answers.
    #[inline]
    fn find(&self, key: &str) -> Option<usize> {
        let (hash, packed) = name_hash(key.as_bytes());
        let mask = self.table.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            match self.table[slot] {
                None => return None,
                // Names of up to 8 bytes are equal when their packed forms are.
                Some(e)
                    if e.packed == packed
                        && e.name.len() == key.len()
                        && (key.len() <= 8 || e.name == key) =>
                {
                    return Some(e.member as usize)
                }
                Some(_) => slot = (slot + 1) & mask,
            }
        }
    }
}

/// FNV-1a (keys are short), and the first 8 bytes packed in a number.
#[inline]
fn name_hash(name: &[u8]) -> (u32, u64) {
    let mut h: u32 = 0x811c_9dc5;
    let mut packed = 0u64;
    for (i, &b) in name.iter().enumerate() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        if i < 8 {
            packed |= u64::from(b) << (8 * i);
        }
    }
    (h, packed)
}

/// How a value of a shape is read.
#[derive(Clone, Copy)]
enum How {
    /// As it comes.
    Raw,
    /// A structure: its index in [`Plan::structs`].
    Struct(u32),
    /// A list of this item shape.
    List(ShapeId),
    /// A map of this value shape.
    Map(ShapeId),
    Timestamp,
}

/// The structures reachable from the answer's shape, compiled.
struct Plan<'m> {
    /// By shape: how its values are read (shapes not reachable: as they come).
    how: Vec<How>,
    structs: Vec<StructInfo<'m>>,
}

impl<'m> Plan<'m> {
    fn new(model: &'m ServiceModel, root: ShapeId) -> Plan<'m> {
        let mut how = vec![How::Raw; model.shapes.len()];
        let mut structs = Vec::new();
        let mut walk = ShapeWalk::new(model, root);
        while let Some(id) = walk.next() {
            let shape = model.shape(id);
            match shape.kind {
                ShapeType::Structure if !shape.document => {
                    let size = (shape.members.len() * 2).next_power_of_two().max(4);
                    let mut info = StructInfo {
                        shape,
                        keys: Vec::with_capacity(shape.members.len()),
                        targets: Vec::with_capacity(shape.members.len()),
                        table: vec![None; size],
                    };
                    for (name, m) in &shape.members {
                        info.keys.push(Out::key_bytes(name));
                        info.targets.push(m.target);
                        walk.push(m.target);
                        let wire = m.location_name.as_deref().unwrap_or(name);
                        let Some(i) = member_index(shape, wire) else {
                            continue;
                        };
                        let (hash, packed) = name_hash(wire.as_bytes());
                        let mut slot = hash as usize & (size - 1);
                        loop {
                            match info.table[slot] {
                                None => {
                                    info.table[slot] = Some(Slot {
                                        name: wire,
                                        packed,
                                        member: i as u32,
                                    });
                                    break;
                                }
                                Some(e) if e.name == wire => break,
                                Some(_) => slot = (slot + 1) & (size - 1),
                            }
                        }
                    }
                    how[id as usize] = How::Struct(structs.len() as u32);
                    structs.push(info);
                }
                ShapeType::List => {
                    if let Some(m) = &shape.member {
                        how[id as usize] = How::List(m.target);
                        walk.push(m.target);
                    }
                }
                ShapeType::Map => {
                    if let Some(v) = &shape.value {
                        how[id as usize] = How::Map(v.target);
                        walk.push(v.target);
                    }
                }
                ShapeType::Timestamp => how[id as usize] = How::Timestamp,
                _ => {}
            }
        }
        Plan { how, structs }
    }

    #[inline]
    fn structure(&self, id: ShapeId) -> &StructInfo<'m> {
        match self.how[id as usize] {
            How::Struct(i) => &self.structs[i as usize],
            _ => unreachable!("every structure reachable from the root is planned"),
        }
    }
}

struct Ctx<'m> {
    plan: Plan<'m>,
    out: RefCell<Out>,
    /// Members of the structures being written: (member index, the byte range of
    /// `"name": value`).
    members: RefCell<Vec<(u32, Range<usize>)>>,
    /// Keys of the maps being written (hashes and byte ranges, to find a key given
    /// twice).
    keys: RefCell<Vec<(u32, Range<usize>)>>,
    /// Room for moving members into model order.
    scratch: RefCell<Vec<u8>>,
}

#[derive(Clone, Copy)]
struct Seed<'a, 'm> {
    ctx: &'a Ctx<'m>,
    id: ShapeId,
}

/// A value written: `true`, or `false` for a null (nothing written).
type Wrote = bool;

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Wrote;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Wrote, D::Error> {
        let ctx = self.ctx;
        match ctx.plan.how[self.id as usize] {
            How::Struct(i) => {
                let info = &ctx.plan.structs[i as usize];
                d.deserialize_any(StructVisitor {
                    ctx,
                    info,
                    top: false,
                })
            }
            How::List(id) => d.deserialize_any(ListVisitor {
                ctx,
                item: Seed { ctx, id },
            }),
            How::Map(id) => d.deserialize_any(MapVisitor {
                ctx,
                value: Seed { ctx, id },
            }),
            How::Timestamp => d.deserialize_any(TimestampVisitor { ctx }),
            How::Raw => d.deserialize_any(Raw { ctx }),
        }
    }
}

/// Visitor methods for values written as they come (also those of an unexpected JSON
/// type, which botocore passes through).
macro_rules! as_they_come {
    (scalars) => {
        fn visit_bool<E>(self, v: bool) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().bool(v);
            Ok(true)
        }
        fn visit_i64<E>(self, v: i64) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().scalar(&v);
            Ok(true)
        }
        fn visit_u64<E>(self, v: u64) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().scalar(&v);
            Ok(true)
        }
        fn visit_f64<E>(self, v: f64) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().scalar(&Value::from(v));
            Ok(true)
        }
        fn visit_str<E>(self, v: &str) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().string(v);
            Ok(true)
        }
        // serde_json lends a string straight from the body only when it has no escape:
        // no `"`, `\\` or control character (the last are refused in JSON strings).
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Wrote, E> {
            self.ctx.out.borrow_mut().plain_string(v.as_bytes());
            Ok(true)
        }
        fn visit_unit<E>(self) -> Result<Wrote, E> {
            Ok(false)
        }
        fn visit_none<E>(self) -> Result<Wrote, E> {
            Ok(false)
        }
    };
    (seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Wrote, A::Error> {
            let v = Value::deserialize(SeqAccessDeserializer::new(seq))?;
            self.ctx.out.borrow_mut().value(&v);
            Ok(true)
        }
    };
    (map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Wrote, A::Error> {
            let v = Value::deserialize(MapAccessDeserializer::new(map))?;
            self.ctx.out.borrow_mut().value(&v);
            Ok(true)
        }
    };
}

/// Any value as it comes (scalars, blobs, documents, shapes without a member type).
struct Raw<'a, 'm> {
    ctx: &'a Ctx<'m>,
}

impl<'de> Visitor<'de> for Raw<'_, '_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    as_they_come!(scalars);
    as_they_come!(seq);
    as_they_come!(map);
}

struct StructVisitor<'a, 'm> {
    ctx: &'a Ctx<'m>,
    info: &'a StructInfo<'m>,
    /// The answer's own structure: its members are left on the stack for the caller.
    top: bool,
}

impl<'de> Visitor<'de> for StructVisitor<'_, '_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON object for structure {}", self.info.shape.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wrote, A::Error> {
        let (ctx, info) = (self.ctx, self.info);
        let shape = info.shape;
        let base = ctx.members.borrow().len();
        let open_at = {
            let mut out = ctx.out.borrow_mut();
            out.open(b'{');
            out.buf.len()
        };
        let mut in_order = true;
        let mut last = None;
        let mut unknown_tag: Option<String> = None;
        while let Some(key) = map.next_key_seed(MemberKey {
            info,
            want_unknown: shape.union && unknown_tag.is_none(),
        })? {
            match key {
                Key::Member(i) => {
                    let (mark, start) = {
                        let mut out = ctx.out.borrow_mut();
                        let mark = out.buf.len();
                        out.separator(mark == open_at);
                        let start = out.buf.len();
                        out.raw(&info.keys[i]);
                        (mark, start)
                    };
                    let id = info.targets[i];
                    if map.next_value_seed(Seed { ctx, id })? {
                        let end = ctx.out.borrow().buf.len();
                        ctx.members.borrow_mut().push((i as u32, start..end));
                        in_order &= last.is_none_or(|l| l < i);
                        last = Some(i);
                    } else {
                        ctx.out.borrow_mut().buf.truncate(mark);
                    }
                }
                Key::Unknown(name) => {
                    if !map.next_value_seed(NullCheck)? {
                        unknown_tag = Some(name);
                    }
                }
                Key::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut members = ctx.members.borrow_mut();
        let mut out = ctx.out.borrow_mut();
        if members.len() == base {
            if let Some(tag) = unknown_tag {
                if self.top {
                    return Err(A::Error::custom("an unknown union member at the top"));
                }
                // botocore's answer to a union member this model does not know.
                out.separator(true);
                out.key("SDK_UNKNOWN_MEMBER");
                out.open(b'{');
                out.separator(true);
                out.key("name");
                out.string(&tag);
                out.close(b'}', true);
                out.close(b'}', true);
                return Ok(true);
            }
        }
        if !in_order {
            let entries = &mut members[base..];
            entries.sort_by_key(|e| e.0);
            // Of a member given twice, the last value (in the first's place).
            let mut kept: Vec<(u32, Range<usize>)> = Vec::with_capacity(entries.len());
            for e in entries.iter() {
                match kept.last_mut() {
                    Some(k) if k.0 == e.0 => *k = e.clone(),
                    _ => kept.push(e.clone()),
                }
            }
            if !self.top {
                let mut scratch = ctx.scratch.borrow_mut();
                scratch.clear();
                let mut placed = Vec::with_capacity(kept.len());
                for (_, r) in &kept {
                    let s = scratch.len();
                    scratch.extend_from_slice(&out.buf[r.clone()]);
                    placed.push(s..scratch.len());
                }
                out.buf.truncate(open_at);
                for (n, r) in placed.into_iter().enumerate() {
                    out.separator(n == 0);
                    out.buf.extend_from_slice(&scratch[r]);
                }
            }
            members.truncate(base);
            members.extend(kept);
        }
        let any = members.len() > base;
        if !self.top {
            members.truncate(base);
        }
        out.close(b'}', any);
        Ok(true)
    }

    as_they_come!(scalars);
    as_they_come!(seq);
}

/// A structure key: the member it names, or something to skip.
struct MemberKey<'a, 'm> {
    info: &'a StructInfo<'m>,
    want_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for MemberKey<'_, '_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberKey<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        if let Some(i) = self.info.find(key) {
            return Ok(Key::Member(i));
        }
        if self.want_unknown && key != "__type" {
            return Ok(Key::Unknown(key.to_string()));
        }
        Ok(Key::Skip)
    }
}

struct ListVisitor<'a, 'm> {
    ctx: &'a Ctx<'m>,
    item: Seed<'a, 'm>,
}

impl<'de> Visitor<'de> for ListVisitor<'_, '_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wrote, A::Error> {
        let out = &self.item.ctx.out;
        out.borrow_mut().open(b'[');
        let mut n = 0usize;
        loop {
            let mark = {
                let mut o = out.borrow_mut();
                let mark = o.buf.len();
                o.separator(n == 0);
                mark
            };
            match seq.next_element_seed(self.item)? {
                None => {
                    out.borrow_mut().buf.truncate(mark);
                    break;
                }
                // Lists are sparse when parsing: null items stay, as in botocore.
                Some(false) => out.borrow_mut().null(),
                Some(true) => {}
            }
            n += 1;
        }
        out.borrow_mut().close(b']', n > 0);
        Ok(true)
    }

    as_they_come!(scalars);
    as_they_come!(map);
}

struct MapVisitor<'a, 'm> {
    ctx: &'a Ctx<'m>,
    value: Seed<'a, 'm>,
}

/// A map key, written where it stands.
struct MapKey<'a, 'm> {
    ctx: &'a Ctx<'m>,
}

impl<'de> DeserializeSeed<'de> for MapKey<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MapKey<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }

    fn visit_str<E>(self, key: &str) -> Result<(), E> {
        self.ctx.out.borrow_mut().key(key);
        Ok(())
    }

    // Without an escape (see `as_they_come`).
    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<(), E> {
        let mut out = self.ctx.out.borrow_mut();
        out.plain_string(key.as_bytes());
        out.raw(b": ");
        Ok(())
    }
}

impl<'de> Visitor<'de> for MapVisitor<'_, '_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wrote, A::Error> {
        let ctx = self.value.ctx;
        let base = ctx.keys.borrow().len();
        let open_at = {
            let mut out = ctx.out.borrow_mut();
            out.open(b'{');
            out.buf.len()
        };
        loop {
            let (mark, key_start) = {
                let mut out = ctx.out.borrow_mut();
                let mark = out.buf.len();
                out.separator(mark == open_at);
                (mark, out.buf.len())
            };
            if map.next_key_seed(MapKey { ctx })?.is_none() {
                ctx.out.borrow_mut().buf.truncate(mark);
                break;
            }
            // The key as written, without `": "`.
            let key = key_start..ctx.out.borrow().buf.len() - 2;
            // Dense maps skip null values.
            if !map.next_value_seed(self.value)? {
                ctx.out.borrow_mut().buf.truncate(mark);
                continue;
            }
            let mut keys = ctx.keys.borrow_mut();
            let out = ctx.out.borrow();
            let this = &out.buf[key.clone()];
            let hash = name_hash(this).0;
            if keys[base..]
                .iter()
                .any(|(h, k)| *h == hash && &out.buf[k.clone()] == this)
            {
                return Err(A::Error::custom("a map key given twice"));
            }
            keys.push((hash, key));
        }
        let any = ctx.keys.borrow().len() > base;
        ctx.keys.borrow_mut().truncate(base);
        ctx.out.borrow_mut().close(b'}', any);
        Ok(true)
    }

    as_they_come!(scalars);
    as_they_come!(seq);
}

struct TimestampVisitor<'a, 'm> {
    ctx: &'a Ctx<'m>,
}

impl TimestampVisitor<'_, '_> {
    fn epoch(&self, secs: f64, original: Value) -> Wrote {
        let mut out = self.ctx.out.borrow_mut();
        match timestamp::from_epoch(secs) {
            Some(t) => out.string(&timestamp::to_boto3(&t)),
            None => out.scalar(&original),
        }
        true
    }
}

impl<'de> Visitor<'de> for TimestampVisitor<'_, '_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a timestamp")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Wrote, E> {
        Ok(self.epoch(v as f64, Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Wrote, E> {
        Ok(self.epoch(v as f64, Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Wrote, E> {
        Ok(self.epoch(v, Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Wrote, E> {
        let mut out = self.ctx.out.borrow_mut();
        match timestamp::parse(v) {
            Some(t) => out.string(&timestamp::to_boto3(&t)),
            None => out.string(v),
        }
        Ok(true)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Wrote, E> {
        self.ctx.out.borrow_mut().bool(v);
        Ok(true)
    }
    fn visit_unit<E>(self) -> Result<Wrote, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> Result<Wrote, E> {
        Ok(false)
    }

    as_they_come!(seq);
    as_they_come!(map);
}
