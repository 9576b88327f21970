//! A service model's operations and shapes, decoded on first use.
//!
//! Loading a service makes an outline of its model JSON: where each operation's and
//! shape's JSON lies, and their names. An operation or shape is decoded (and its shape
//! references resolved) the first time it is asked for, then kept: a scan that calls
//! ten operations of a service decodes those operations and the shapes their calls
//! reach, not the thousands of others. [`Operations`] and [`Shapes`] answer as the
//! `IndexMap` and `Vec` they replace did.
//!
//! A bundled model's JSON is not kept with its outline: it is decompressed from the
//! bundle again when a part of it is next decoded, and the JSON of the services used
//! last stays in memory a while ([`recent`]). The models of all 429 services take
//! 29 MB as JSON and 2.7 MB compressed; a scan of every service decodes a few
//! operations of each.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Index;
use std::sync::{Arc, Mutex, OnceLock};

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

    fn range(self) -> std::ops::Range<usize> {
        self.at as usize..(self.at + self.len) as usize
    }
}

/// A model's JSON, shared (boxed apart from the count, so that making it shared does
/// not copy it).
type Json = Arc<Box<[u8]>>;

/// A model's JSON.
enum Raw {
    /// A model given as JSON: kept.
    Kept(Json),
    /// A bundled model: its frame in the bundle, and the key of its JSON among the
    /// [`recent`] ones.
    Bundled { frame: super::Span, key: u64 },
}

/// The JSON of the bundled models used last, kept up to [`recent::BUDGET`] bytes (the
/// last one whatever its size), so that decoding the parts of one service one after
/// another decompresses it once.
mod recent {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Bytes of model JSON kept.
    pub(super) const BUDGET: usize = 6 << 20;

    /// The JSON kept, by key, the last used at the back.
    pub(super) static KEPT: Mutex<VecDeque<(u64, Json)>> = Mutex::new(VecDeque::new());

    /// A key for a new model.
    pub(super) fn key() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// The JSON kept under `key`, now the last used.
    pub(super) fn get(key: u64) -> Option<Json> {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        let i = kept.iter().rposition(|(k, _)| *k == key)?;
        let entry = kept.remove(i)?;
        let json = entry.1.clone();
        kept.push_back(entry);
        Some(json)
    }

    /// Keeps `json` under `key` as the last used (unless another thread did meanwhile:
    /// then that one), letting go of the least recently used beyond the budget.
    pub(super) fn keep(key: u64, json: Json) -> Json {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, there)) = kept.iter().find(|(k, _)| *k == key) {
            return there.clone();
        }
        kept.push_back((key, json.clone()));
        let mut total: usize = kept.iter().map(|(_, j)| j.len()).sum();
        while total > BUDGET && kept.len() > 1 {
            total -= kept.pop_front().map_or(0, |(_, j)| j.len());
        }
        json
    }
}

/// Lets go of the JSON of the recent models (a test's way to see it decompressed again).
#[cfg(test)]
pub(super) fn forget_recent() {
    recent::KEPT.lock().unwrap().clear();
}

/// One service's outline (and its JSON, or where to find it), shared by its
/// [`Operations`] and [`Shapes`].
pub(super) struct Source {
    service: String,
    /// Whether the model is a bundled one, which botocore adjusts on load ([`super::adjust`]).
    bundled: bool,
    raw: Raw,
    /// The shapes' names one after another; `shape_names` are spans of it.
    names: Box<str>,
    shape_names: Vec<Span>,
    /// Spans of the JSON.
    shape_values: Vec<Span>,
    /// Shape ids in name order, for lookups by name.
    shape_sorted: Vec<ShapeId>,
    pub(super) metadata: Option<Span>,
    pub(super) paginators: Option<Span>,
    pub(super) endpoint_rule_set: Option<Span>,
}

impl Source {
    /// The model JSON: kept, still in memory, or decompressed again.
    fn json(&self) -> Result<Json, Error> {
        match &self.raw {
            Raw::Kept(json) => Ok(json.clone()),
            Raw::Bundled { frame, key } => match recent::get(*key) {
                Some(json) => Ok(json),
                None => Ok(recent::keep(
                    *key,
                    Arc::new(super::frame(*frame)?.into_boxed_slice()),
                )),
            },
        }
    }

    /// Whether the model JSON is in memory now.
    #[cfg(test)]
    pub(super) fn json_in_memory(&self) -> bool {
        match &self.raw {
            Raw::Kept(_) => true,
            Raw::Bundled { key, .. } => recent::KEPT.lock().unwrap().iter().any(|(k, _)| k == key),
        }
    }

    /// Decodes the JSON at `span`.
    pub(super) fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        span: Span,
        what: &str,
    ) -> Result<T, Error> {
        let json = self.json()?;
        serde_json::from_slice(&json[span.range()])
            .map_err(|e| Error::Model(format!("service model {}: {what}: {e}", self.service)))
    }

    fn shape_name(&self, id: ShapeId) -> &str {
        &self.names[self.shape_names[id as usize].range()]
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
/// and the [`Source`]. `frame`: where a bundled model's JSON lies in the bundle (its
/// JSON is then let go and decompressed again when needed); `None` keeps `raw`.
pub(super) fn outline(
    service: &str,
    raw: Box<[u8]>,
    frame: Option<super::Span>,
) -> Result<Outlined, Error> {
    let fault = |e: String| Error::Model(format!("service model {service}: {e}"));
    if u32::try_from(raw.len()).is_err() {
        return Err(fault("larger than 4 GiB".into()));
    }
    let raw: Json = Arc::new(raw);
    let base = raw.as_ptr() as usize;
    let span = |s: &str| {
        Span::new(
            s.as_ptr() as usize - base,
            s.as_ptr() as usize - base + s.len(),
        )
    };
    let raw_span = |r: &RawValue| span(r.get());
    let o: Outline = serde_json::from_slice(&raw).map_err(|e| fault(e.to_string()))?;
    let ops = o.operations.keys().map(|k| k.to_string()).collect();
    let op_spans = o.operations.values().map(|v| raw_span(v)).collect();
    let mut names = String::with_capacity(o.shapes.keys().map(|k| k.len()).sum());
    let mut shape_names = Vec::with_capacity(o.shapes.len());
    for k in o.shapes.keys() {
        shape_names.push(Span::new(names.len(), names.len() + k.len()));
        names.push_str(k);
    }
    let shape_values = o.shapes.values().map(|v| raw_span(v)).collect();
    let (metadata, paginators, rules) = (
        o.metadata.map(raw_span),
        o.paginators.map(raw_span),
        o.endpoint_rule_set.map(raw_span),
    );
    drop(o);
    let raw = match frame {
        None => Raw::Kept(raw),
        Some(frame) => {
            // The first parts are decoded soon after loading: among the recent ones.
            let key = recent::key();
            recent::keep(key, raw);
            Raw::Bundled { frame, key }
        }
    };
    let mut source = Source {
        service: service.to_string(),
        bundled: frame.is_some(),
        raw,
        names: names.into_boxed_str(),
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

    /// The shape with this index: the kept one if it was decoded, else decoded for
    /// this caller alone and not kept (for a look at many shapes of which few will be
    /// used, such as choosing the operations of a preset).
    pub fn peek(&self, id: ShapeId) -> Option<Cow<'_, Shape>> {
        let cell = self.cells.get(id as usize)?;
        Some(match cell.get() {
            Some(shape) => Cow::Borrowed(&**shape),
            None => Cow::Owned(
                self.decode(id)
                    .unwrap_or_else(|e| panic!("the bundled model archive is damaged: {e}")),
            ),
        })
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
        let json = self.src.json()?;
        if !json[span.range()].windows(10).any(|w| w == b"\"location\"") {
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

    /// The operation listed under `name`: the kept one if it was decoded, else decoded
    /// for this caller alone and not kept (see [`Shapes::peek`]).
    pub fn peek<Q: AsRef<str> + ?Sized>(&self, name: &Q) -> Option<Cow<'_, Operation>> {
        let i = self.index_of(name)?;
        Some(match self.cells[i].get() {
            Some(op) => Cow::Borrowed(&**op),
            None => Cow::Owned(
                self.decode(i)
                    .unwrap_or_else(|e| panic!("the bundled model archive is damaged: {e}")),
            ),
        })
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
