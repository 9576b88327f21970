//! A service model's operations and shapes, decoded on first use.
//!
//! Loading a service keeps its model JSON and an outline of it: where each
//! operation's and shape's JSON lies, and their names. An operation or shape is
//! decoded (and its shape references resolved) the first time it is asked for, then
//! kept: a scan that calls ten operations of a service decodes those operations and
//! the shapes their calls reach, not the thousands of others. [`Operations`] and
//! [`Shapes`] answer as the `IndexMap` and `Vec` they replace did.

use std::fmt;
use std::ops::Index;
use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Location, Operation, Shape, ShapeId, ShapeRef};
use crate::Error;

/// Where a piece of the model JSON lies.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Span {
    at: u32,
    len: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span {
            at: start as u32,
            len: (end - start) as u32,
        }
    }
}

/// One service's model JSON and its outline, shared by its [`Operations`] and [`Shapes`].
pub(super) struct Source {
    service: String,
    /// Whether the model is a bundled one, which botocore adjusts on load ([`super::adjust`]).
    bundled: bool,
    raw: Box<[u8]>,
    shape_names: Vec<Span>,
    shape_values: Vec<Span>,
    /// Shape ids in name order, for lookups by name.
    shape_sorted: Vec<ShapeId>,
    pub(super) metadata: Option<Span>,
    pub(super) paginators: Option<Span>,
    pub(super) endpoint_rule_set: Option<Span>,
}

impl Source {
    fn bytes(&self, span: Span) -> &[u8] {
        &self.raw[span.at as usize..(span.at + span.len) as usize]
    }

    fn text(&self, span: Span) -> &str {
        // Spans of names lie between the quotes of a JSON string: valid UTF-8.
        std::str::from_utf8(self.bytes(span)).unwrap_or_default()
    }

    /// Decodes the JSON at `span`.
    pub(super) fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        span: Span,
        what: &str,
    ) -> Result<T, Error> {
        serde_json::from_slice(self.bytes(span))
            .map_err(|e| Error::Model(format!("service model {}: {what}: {e}", self.service)))
    }

    fn shape_name(&self, id: ShapeId) -> &str {
        self.text(self.shape_names[id as usize])
    }

    fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.shape_sorted
            .binary_search_by(|&i| self.shape_name(i).cmp(name))
            .ok()
            .map(|i| self.shape_sorted[i])
    }

    fn resolve(&self, r: &mut ShapeRef, ctx: &str) -> Result<(), Error> {
        r.target = self.resolve_name(&r.shape, ctx)?;
        Ok(())
    }

    fn resolve_name(&self, shape: &str, ctx: &str) -> Result<ShapeId, Error> {
        self.shape_id(shape).ok_or_else(|| {
            Error::Model(format!(
                "service model {}: {ctx} refers to unknown shape {shape}",
                self.service
            ))
        })
    }
}

/// A model's top level: its operations and shapes by name with their JSON left
/// undecoded, and the other parts decoded on demand.
#[derive(Deserialize)]
struct Outline<'a> {
    #[serde(borrow, default)]
    operations: IndexMap<&'a str, &'a RawValue>,
    #[serde(borrow, default)]
    shapes: IndexMap<&'a str, &'a RawValue>,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow)]
    paginators: Option<&'a RawValue>,
    #[serde(borrow, rename = "endpointRuleSet")]
    endpoint_rule_set: Option<&'a RawValue>,
}

/// A model's [`Source`], its operations' names and their spans.
pub(super) type Outlined = (Arc<Source>, Vec<String>, Vec<Span>);

/// Splits a service model's JSON into its outline: the operations' names and spans,
/// and the [`Source`].
pub(super) fn outline(service: &str, raw: Box<[u8]>, bundled: bool) -> Result<Outlined, Error> {
    let fault = |e: String| Error::Model(format!("service model {service}: {e}"));
    if u32::try_from(raw.len()).is_err() {
        return Err(fault("larger than 4 GiB".into()));
    }
    let base = raw.as_ptr() as usize;
    let span = |s: &str| {
        Span::new(
            s.as_ptr() as usize - base,
            s.as_ptr() as usize - base + s.len(),
        )
    };
    let raw_span = |r: &RawValue| span(r.get());
    let (ops, op_spans, shape_names, shape_values, metadata, paginators, rules) = {
        let o: Outline = serde_json::from_slice(&raw).map_err(|e| fault(e.to_string()))?;
        (
            o.operations
                .keys()
                .map(|k| k.to_string())
                .collect::<Vec<_>>(),
            o.operations
                .values()
                .map(|v| raw_span(v))
                .collect::<Vec<_>>(),
            o.shapes.keys().map(|k| span(k)).collect::<Vec<_>>(),
            o.shapes.values().map(|v| raw_span(v)).collect::<Vec<_>>(),
            o.metadata.map(raw_span),
            o.paginators.map(raw_span),
            o.endpoint_rule_set.map(raw_span),
        )
    };
    let mut source = Source {
        service: service.to_string(),
        bundled,
        raw,
        shape_names,
        shape_values,
        shape_sorted: Vec::new(),
        metadata,
        paginators,
        endpoint_rule_set: rules,
    };
    let mut sorted: Vec<ShapeId> = (0..source.shape_names.len() as ShapeId).collect();
    sorted.sort_by(|&a, &b| source.shape_name(a).cmp(source.shape_name(b)));
    source.shape_sorted = sorted;
    Ok((Arc::new(source), ops, op_spans))
}

/// A service's shapes, in model order, indexed by [`ShapeId`]; each decoded on first use.
pub struct Shapes {
    src: Arc<Source>,
    cells: Box<[OnceLock<Box<Shape>>]>,
}

impl Shapes {
    pub(super) fn new(src: Arc<Source>) -> Shapes {
        let cells = (0..src.shape_names.len())
            .map(|_| OnceLock::new())
            .collect();
        Shapes { src, cells }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The shape with this index, decoded if it was not yet.
    pub fn get(&self, id: ShapeId) -> Option<&Shape> {
        let cell = self.cells.get(id as usize)?;
        Some(cell.get_or_init(|| {
            // Models given as JSON are decoded whole when built; only a bundled model
            // decodes here, and every bundled shape decodes (a test says so).
            Box::new(
                self.decode(id)
                    .unwrap_or_else(|e| panic!("the bundled model archive is damaged: {e}")),
            )
        }))
    }

    /// The name of the shape with this index, without decoding it.
    pub fn name(&self, id: ShapeId) -> &str {
        self.src.shape_name(id)
    }

    /// The index of the shape with this name, without decoding it.
    pub fn id(&self, name: &str) -> Option<ShapeId> {
        self.src.shape_id(name)
    }

    /// How many shapes have been decoded so far.
    pub fn decoded(&self) -> usize {
        self.cells.iter().filter(|c| c.get().is_some()).count()
    }

    /// Every shape, decoding each.
    pub fn iter(&self) -> impl Iterator<Item = &Shape> {
        (0..self.len() as ShapeId).filter_map(|id| self.get(id))
    }

    pub(super) fn decode(&self, id: ShapeId) -> Result<Shape, Error> {
        let name = self.name(id);
        let mut shape: Shape = self.src.decode(self.src.shape_values[id as usize], name)?;
        shape.name = name.to_string();
        self.resolve(&mut shape)?;
        Ok(shape)
    }

    /// Resolves a shape's references; members without a binding take their target
    /// shape's (older models write it on the shape), as botocore merges shape traits.
    pub(super) fn resolve(&self, shape: &mut Shape) -> Result<(), Error> {
        for m in shape.members.values_mut() {
            self.src.resolve(m, &shape.name)?;
            if m.location.is_none() {
                m.location = self.location(m.target)?;
            }
        }
        for r in [&mut shape.member, &mut shape.key, &mut shape.value]
            .into_iter()
            .flatten()
        {
            self.src.resolve(r, &shape.name)?;
        }
        Ok(())
    }

    /// A shape's own `location`, without decoding (or keeping) the shape.
    fn location(&self, id: ShapeId) -> Result<Option<Location>, Error> {
        if let Some(shape) = self.cells[id as usize].get() {
            return Ok(shape.location);
        }
        let span = self.src.shape_values[id as usize];
        if !self
            .src
            .bytes(span)
            .windows(10)
            .any(|w| w == b"\"location\"")
        {
            return Ok(None);
        }
        #[derive(Deserialize)]
        struct Bound {
            location: Option<Location>,
        }
        Ok(self.src.decode::<Bound>(span, self.name(id))?.location)
    }

    /// Stores an already decoded shape (a model given as JSON, decoded whole).
    pub(super) fn set(&self, id: ShapeId, shape: Shape) {
        let _ = self.cells[id as usize].set(Box::new(shape));
    }
}

impl fmt::Debug for Shapes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shapes({} of {} decoded)", self.decoded(), self.len())
    }
}

/// A service's operations, in model order, by the name the model lists them under;
/// each decoded on first use. Asking whether an operation exists, or for the names,
/// decodes nothing.
pub struct Operations {
    src: Arc<Source>,
    names: Vec<String>,
    spans: Vec<Span>,
    /// Indexes in name order.
    sorted: Vec<u32>,
    cells: Box<[OnceLock<Box<Operation>>]>,
}

impl Operations {
    pub(super) fn new(src: Arc<Source>, names: Vec<String>, spans: Vec<Span>) -> Operations {
        let mut sorted: Vec<u32> = (0..names.len() as u32).collect();
        sorted.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
        let cells = (0..names.len()).map(|_| OnceLock::new()).collect();
        Operations {
            src,
            names,
            spans,
            sorted,
            cells,
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The position of the operation listed under `name`.
    pub fn index_of<Q: AsRef<str> + ?Sized>(&self, name: &Q) -> Option<usize> {
        let name = name.as_ref();
        self.sorted
            .binary_search_by(|&i| self.names[i as usize].as_str().cmp(name))
            .ok()
            .map(|i| self.sorted[i] as usize)
    }

    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, name: &Q) -> bool {
        self.index_of(name).is_some()
    }

    pub fn get<Q: AsRef<str> + ?Sized>(&self, name: &Q) -> Option<&Operation> {
        self.index_of(name).map(|i| self.at(i))
    }

    pub fn get_key_value<Q: AsRef<str> + ?Sized>(&self, name: &Q) -> Option<(&String, &Operation)> {
        self.index_of(name).map(|i| (&self.names[i], self.at(i)))
    }

    /// The names the model lists the operations under, in model order. Decodes nothing.
    pub fn keys(&self) -> std::slice::Iter<'_, String> {
        self.names.iter()
    }

    /// Every operation, decoding each as it comes.
    pub fn values(&self) -> impl Iterator<Item = &Operation> {
        (0..self.len()).map(|i| self.at(i))
    }

    /// Every (name, operation), decoding each operation as it comes.
    pub fn iter(&self) -> Iter<'_> {
        Iter { ops: self, i: 0 }
    }

    /// How many operations have been decoded so far.
    pub fn decoded(&self) -> usize {
        self.cells.iter().filter(|c| c.get().is_some()).count()
    }

    /// The operation at this position, decoded if it was not yet.
    pub fn at(&self, i: usize) -> &Operation {
        self.cells[i].get_or_init(|| {
            Box::new(
                self.decode(i)
                    .unwrap_or_else(|e| panic!("the bundled model archive is damaged: {e}")),
            )
        })
    }

    pub(super) fn decode(&self, i: usize) -> Result<Operation, Error> {
        let key = &self.names[i];
        let op: Operation = self.src.decode(self.spans[i], key)?;
        self.finish(key, op)
    }

    /// Names and resolves a decoded operation, and adjusts it as botocore does.
    pub(super) fn finish(&self, key: &str, mut op: Operation) -> Result<Operation, Error> {
        if op.name.is_empty() {
            op.name = key.to_string();
        }
        for r in [&mut op.input, &mut op.output].into_iter().flatten() {
            self.src.resolve(r, key)?;
        }
        for r in &mut op.errors {
            r.target = self.src.resolve_name(&r.shape, key)?;
        }
        if self.src.bundled {
            super::adjust(&self.src.service, &mut op);
        }
        Ok(op)
    }

    /// Stores an already decoded operation (a model given as JSON, decoded whole).
    pub(super) fn set(&self, i: usize, op: Operation) {
        let _ = self.cells[i].set(Box::new(op));
    }
}

impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

impl<Q: AsRef<str> + ?Sized> Index<&Q> for Operations {
    type Output = Operation;

    fn index(&self, name: &Q) -> &Operation {
        self.get(name)
            .unwrap_or_else(|| panic!("no operation {:?}", name.as_ref()))
    }
}

/// The iterator of [`Operations::iter`].
pub struct Iter<'a> {
    ops: &'a Operations,
    i: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a Operation);

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.i;
        let name = self.ops.names.get(i)?;
        self.i += 1;
        Some((name, self.ops.at(i)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.ops.len() - self.i;
        (n, Some(n))
    }
}

impl<'a> IntoIterator for &'a Operations {
    type Item = (&'a String, &'a Operation);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
