//! Service models: the botocore `service-2.json` format, loaded from the bundled
//! model archive (lazily, one service at a time) or from any botocore-format JSON.
//!
//! A bundled service's operations and shapes are decoded on first use (see
//! [`Operations`] and [`Shapes`]); when decoded, every shape reference is resolved to
//! a [`ShapeId`], an index into [`ServiceModel::shapes`], so that serializers and
//! parsers walk the model without hashing shape names.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::Error;

mod lazy;
mod reference;
pub use lazy::{Operations, Shapes};
pub use reference::ShapeRef;

/// Index of a shape inside [`ServiceModel::shapes`].
pub type ShapeId = u32;

/// The wire protocols awsdyn speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Query,
    Ec2,
    Json,
    RestJson,
    RestXml,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Query => "query",
            Protocol::Ec2 => "ec2",
            Protocol::Json => "json",
            Protocol::RestJson => "rest-json",
            Protocol::RestXml => "rest-xml",
        }
    }

    fn from_name(name: &str) -> Option<Protocol> {
        Some(match name {
            "query" => Protocol::Query,
            "ec2" => Protocol::Ec2,
            "json" => Protocol::Json,
            "rest-json" => Protocol::RestJson,
            "rest-xml" => Protocol::RestXml,
            _ => return None,
        })
    }
}

/// An XML namespace: botocore writes it either as a bare URI or as `{prefix, uri}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlNamespace {
    pub prefix: Option<String>,
    pub uri: String,
}

impl<'de> Deserialize<'de> for XmlNamespace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Uri(String),
            Full {
                prefix: Option<String>,
                #[serde(default)]
                uri: String,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Uri(uri) => XmlNamespace { prefix: None, uri },
            Raw::Full { prefix, uri } => XmlNamespace { prefix, uri },
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub endpoint_prefix: String,
    #[serde(default)]
    pub json_version: Option<String>,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub service_abbreviation: Option<String>,
    #[serde(default)]
    pub service_full_name: String,
    #[serde(default)]
    pub service_id: String,
    #[serde(default)]
    pub signature_version: Option<String>,
    #[serde(default)]
    pub signing_name: Option<String>,
    #[serde(default)]
    pub target_prefix: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(default)]
    pub global_endpoint: Option<String>,
    #[serde(default)]
    pub aws_query_compatible: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Blob,
    Timestamp,
    #[serde(alias = "bigInteger")]
    Biginteger,
    #[serde(alias = "bigDecimal")]
    Bigdecimal,
    Byte,
    Short,
    Character,
}

/// Where an input/output member is bound in an HTTP message (REST protocols).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    Uri,
    Querystring,
    Header,
    Headers,
    StatusCode,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    pub code: Option<String>,
    pub http_status_code: Option<u16>,
    #[serde(default)]
    pub sender_fault: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// The shape's name; filled in when the shape or operation holding it is decoded.
    #[serde(skip)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// Structure members, in model order.
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef>,
    /// List member. (Boxed, as are `key` and `value`: most shapes have none, and a
    /// reference inline would triple the size of every shape: the ec2 model has 4,400.)
    pub member: Option<Box<ShapeRef>>,
    /// Map key and value.
    pub key: Option<Box<ShapeRef>>,
    pub value: Option<Box<ShapeRef>>,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub flattened: bool,
    pub location_name: Option<String>,
    /// A binding written on the shape rather than on its members (older models);
    /// members that name none inherit it, as botocore merges shape traits into members.
    pub location: Option<Location>,
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    /// Structure member bound to the HTTP body (REST protocols).
    pub payload: Option<String>,
    #[serde(default)]
    pub exception: bool,
    #[serde(default)]
    pub fault: bool,
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub event: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub jsonvalue: bool,
    #[serde(rename = "enum", default)]
    pub enum_values: Vec<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    #[serde(default)]
    pub wrapper: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub request_uri: String,
    pub response_code: Option<u16>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointTrait {
    pub host_prefix: Option<String>,
}

/// An operation's modeled error: the shape's name as written in the model, and its
/// resolved index.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorRef {
    pub shape: String,
    #[serde(skip)]
    pub target: ShapeId,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: Http,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    /// The modeled errors: only their shapes (a full [`ShapeRef`] each cost about
    /// 2 KB an operation, the largest part of a decoded operation).
    #[serde(default)]
    pub errors: Vec<ErrorRef>,
    pub endpoint: Option<EndpointTrait>,
    #[serde(default)]
    pub http_checksum_required: bool,
    pub http_checksum: Option<Value>,
    pub static_context_params: Option<Value>,
    pub operation_context_params: Option<Value>,
    pub authtype: Option<String>,
    #[serde(default)]
    pub auth: Vec<String>,
    #[serde(default)]
    pub deprecated: bool,
    pub requestcompression: Option<Value>,
    #[serde(default)]
    pub unsigned_payload: bool,
}

#[derive(Deserialize)]
struct RawModel {
    #[serde(default)]
    operations: IndexMap<String, Operation>,
    #[serde(default)]
    shapes: IndexMap<String, Shape>,
}

/// One service: metadata, operations, shapes, paginators and endpoint rule set.
/// Operations and shapes are decoded on first use ([`Operations`], [`Shapes`]).
#[derive(Debug)]
pub struct ServiceModel {
    /// The botocore name of the service (folder name), e.g. `ec2`, `resourcegroupstaggingapi`.
    pub name: String,
    pub metadata: Metadata,
    pub operations: Operations,
    pub shapes: Shapes,
    src: Arc<lazy::Source>,
    paginators: OnceLock<Value>,
}

impl fmt::Debug for lazy::Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Source")
    }
}

impl ServiceModel {
    /// Builds a model from botocore-format JSON: `{metadata, operations, shapes}` and,
    /// optionally, `paginators` and `endpointRuleSet`. Decodes it whole, so that any
    /// fault in it is reported here.
    pub fn from_json(name: &str, json: &[u8]) -> Result<ServiceModel, Error> {
        let model = Self::outline(name, json.into(), None)?;
        let raw: RawModel = serde_json::from_slice(json)
            .map_err(|e| Error::Model(format!("service model {name}: {e}")))?;
        if raw.shapes.len() != model.shapes.len() || raw.operations.len() != model.operations.len()
        {
            return Err(Error::Model(format!(
                "service model {name}: an operation or shape is listed twice"
            )));
        }
        for (i, (_, mut shape)) in raw.shapes.into_iter().enumerate() {
            shape.name = model.shapes.name(i as ShapeId).to_string();
            model.shapes.resolve(&mut shape)?;
            model.shapes.set(i as ShapeId, shape);
        }
        for (i, (key, op)) in raw.operations.into_iter().enumerate() {
            let op = model.operations.finish(&key, op)?;
            model.operations.set(i, op);
        }
        model.paginators();
        Ok(model)
    }

    /// Same as [`ServiceModel::from_json`], from an already parsed value.
    pub fn from_value(name: &str, json: Value) -> Result<ServiceModel, Error> {
        let bytes = serde_json::to_vec(&json)
            .map_err(|e| Error::Model(format!("service model {name}: {e}")))?;
        Self::from_json(name, &bytes)
    }

    /// The model with its metadata decoded, and its operations and shapes outlined.
    fn outline(name: &str, raw: Box<[u8]>, frame: Option<Span>) -> Result<ServiceModel, Error> {
        let (src, names, spans) = lazy::outline(name, raw, frame)?;
        let metadata = match src.metadata {
            Some(span) => src.decode(span, "metadata")?,
            None => Metadata::default(),
        };
        Ok(ServiceModel {
            name: name.to_string(),
            metadata,
            operations: Operations::new(src.clone(), names, spans),
            shapes: Shapes::new(src.clone()),
            src,
            paginators: OnceLock::new(),
        })
    }

    /// `paginators-1.json`'s `pagination` object (sdk-extras merged), decoded on first use.
    pub fn paginators(&self) -> &Value {
        self.paginators.get_or_init(|| match self.src.paginators {
            Some(span) => self.src.decode(span, "paginators").unwrap_or_default(),
            None => Value::Null,
        })
    }

    /// `endpoint-rule-set-1.json`, decoded anew at each call (the endpoint module
    /// keeps the compiled rule set).
    pub fn endpoint_rule_set(&self) -> Value {
        match self.src.endpoint_rule_set {
            Some(span) => self.src.decode(span, "endpointRuleSet").unwrap_or_default(),
            None => Value::Null,
        }
    }

    /// The shape with this index.
    #[inline]
    pub fn shape(&self, id: ShapeId) -> &Shape {
        self.shapes
            .get(id)
            .unwrap_or_else(|| panic!("service model {}: no shape {id}", self.name))
    }

    /// The shape with this index without keeping it decoded ([`Shapes::peek`]).
    pub fn peek_shape(&self, id: ShapeId) -> std::borrow::Cow<'_, Shape> {
        self.shapes
            .peek(id)
            .unwrap_or_else(|| panic!("service model {}: no shape {id}", self.name))
    }

    /// The shape with this name, if the model has it.
    pub fn shape_by_name(&self, name: &str) -> Option<&Shape> {
        self.shapes.id(name).map(|i| self.shape(i))
    }

    /// The index of the shape with this name.
    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.shapes.id(name)
    }

    /// The protocol awsdyn uses for this service: the model's `protocol`, except that a
    /// service listing `smithy-rpc-v2-cbor` and `json` is spoken as `json`.
    pub fn protocol(&self) -> Result<Protocol, Error> {
        if let Some(p) = Protocol::from_name(&self.metadata.protocol) {
            return Ok(p);
        }
        for p in &self.metadata.protocols {
            if let Some(p) = Protocol::from_name(p) {
                return Ok(p);
            }
        }
        Err(Error::Model(format!(
            "service {} uses protocol {:?}, which awsdyn does not speak",
            self.name, self.metadata.protocol
        )))
    }

    /// The operation with this name: model PascalCase (`DescribeInstances`), boto3
    /// snake_case (`describe_instances`) or CLI kebab-case (`describe-instances`).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operation_key(name).map(|k| &self.operations[k])
    }

    /// The key the model lists an operation under, for any accepted name form. It can
    /// differ from the operation's wire name (CloudFront lists `ListDistributions`,
    /// whose `name` is `ListDistributions2020_05_31`); paginators use the key.
    pub fn operation_key(&self, name: &str) -> Option<&str> {
        if let Some((k, _)) = self.operations.get_key_value(name) {
            return Some(k.as_str());
        }
        let wanted = crate::names::normalize(name);
        let keys = &self.operations;
        keys.keys()
            .find(|k| crate::names::normalize(k) == wanted)
            .or_else(|| {
                // The wire names: decodes the operations, so only once the keys failed.
                keys.iter()
                    .find(|(_, op)| crate::names::normalize(&op.name) == wanted)
                    .map(|(k, _)| k)
            })
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------------------
// The bundle.

/// The bundled models, as written by `cargo xtask models`.
static BUNDLE: &[u8] = include_bytes!("../models/models.bin");

const MAGIC: &[u8; 8] = b"AWSDYN01";

#[derive(Debug, Deserialize)]
struct BundleIndex {
    botocore: String,
    services: Vec<BundleEntry>,
    partitions: Span,
    endpoints: Span,
    dictionary: Span,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BundleEntry {
    /// botocore name (folder name).
    pub name: String,
    /// `metadata.serviceId`.
    pub service_id: String,
    pub endpoint_prefix: String,
    pub protocol: String,
    pub api_version: String,
    span: Span,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct Span {
    offset: usize,
    len: usize,
    /// Decompressed size.
    raw_len: usize,
}

struct Bundle {
    index: BundleIndex,
    by_name: HashMap<String, usize>,
    loaded: Mutex<HashMap<String, Arc<ServiceModel>>>,
}

fn bundle() -> &'static Bundle {
    static B: OnceLock<Bundle> = OnceLock::new();
    B.get_or_init(|| {
        let index = read_index(BUNDLE).expect("the bundled model archive is damaged");
        let by_name = index
            .services
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Bundle {
            index,
            by_name,
            loaded: Mutex::new(HashMap::new()),
        }
    })
}

fn read_index(data: &[u8]) -> Result<BundleIndex, Error> {
    if data.len() < 12 || &data[..8] != MAGIC {
        return Err(Error::Model("model bundle: bad magic".into()));
    }
    let len = u32::from_le_bytes(data[8..12].try_into().unwrap()) as usize;
    let raw = zstd::stream::decode_all(&data[12..12 + len])
        .map_err(|e| Error::Model(format!("model bundle index: {e}")))?;
    let mut index: BundleIndex = serde_json::from_slice(&raw)
        .map_err(|e| Error::Model(format!("model bundle index: {e}")))?;
    let base = 12 + len;
    for s in &mut index.services {
        s.span.offset += base;
    }
    index.partitions.offset += base;
    index.endpoints.offset += base;
    index.dictionary.offset += base;
    Ok(index)
}

/// Decodes one frame of the bundle (one service, or partitions.json) with the bundle's
/// shared dictionary.
fn frame(span: Span) -> Result<Vec<u8>, Error> {
    let dict = bundle().index.dictionary;
    let mut d =
        zstd::bulk::Decompressor::with_dictionary(&BUNDLE[dict.offset..dict.offset + dict.len])
            .map_err(|e| Error::Model(format!("model bundle dictionary: {e}")))?;
    d.decompress(&BUNDLE[span.offset..span.offset + span.len], span.raw_len)
        .map_err(|e| Error::Model(format!("model bundle: {e}")))
}

/// The botocore version the bundle was built from.
pub fn botocore_version() -> &'static str {
    &bundle().index.botocore
}

/// Every service in the bundle, in name order. Does not decode any service model.
pub fn services() -> &'static [BundleEntry] {
    &bundle().index.services
}

/// Finds a service by botocore name (`ec2`), CLI name, or serviceId (`Resource Groups Tagging API`,
/// `resource-groups-tagging-api`), case-insensitively.
pub fn find_service(name: &str) -> Option<&'static BundleEntry> {
    let b = bundle();
    if let Some(&i) = b.by_name.get(name) {
        return Some(&b.index.services[i]);
    }
    let wanted = crate::names::normalize(name);
    b.index.services.iter().find(|e| {
        crate::names::normalize(&e.name) == wanted
            || crate::names::normalize(&e.service_id) == wanted
    })
}

/// Loads (once, then from cache) the model of one service. Decodes only that service.
pub fn load(name: &str) -> Result<Arc<ServiceModel>, Error> {
    let entry = find_service(name).ok_or_else(|| {
        let names: Vec<&str> = services().iter().map(|e| e.name.as_str()).collect();
        let close = crate::names::closest(name, names.iter().copied(), 3);
        Error::UnknownService {
            name: name.to_string(),
            suggestions: close,
        }
    })?;
    let b = bundle();
    if let Some(m) = b.loaded.lock().unwrap().get(&entry.name) {
        return Ok(m.clone());
    }
    let raw = frame(entry.span)?;
    let model = Arc::new(ServiceModel::outline(
        &entry.name,
        raw.into_boxed_slice(),
        Some(entry.span),
    )?);
    let mut loaded = b.loaded.lock().unwrap();
    Ok(loaded.entry(entry.name.clone()).or_insert(model).clone())
}

/// The changes botocore makes to an operation when it loads its model, per the
/// service's [`crate::facts`]: s3 drops `/{Bucket}` from request URIs and s3control
/// the `{AccountId}.` host prefix (the endpoint rule set puts them in the URL).
fn adjust(service: &str, op: &mut Operation) {
    let facts = crate::facts::service_facts(service);
    if facts.drop_bucket_from_uri {
        if let Some(rest) = op.http.request_uri.strip_prefix("/{Bucket}") {
            op.http.request_uri = if rest.is_empty() || rest.starts_with('?') {
                format!("/{rest}")
            } else {
                rest.to_string()
            };
        }
    }
    if facts.drop_account_host_prefix {
        let requires_account = op
            .static_context_params
            .as_ref()
            .and_then(|p| p.get("RequiresAccountId"))
            .and_then(|p| p.get("value"))
            .and_then(Value::as_bool)
            == Some(true);
        if requires_account
            && op.endpoint.as_ref().and_then(|e| e.host_prefix.as_deref()) == Some("{AccountId}.")
        {
            op.endpoint = None;
        }
    }
}

/// Number of service models decoded so far in this process.
pub fn loaded_count() -> usize {
    bundle().loaded.lock().unwrap().len()
}

/// botocore's `endpoints.json`: per partition, the regions each service (by endpoint
/// prefix) is offered in, and the global services' partition endpoints.
pub fn endpoints() -> Result<Value, Error> {
    let raw = frame(bundle().index.endpoints)?;
    serde_json::from_slice(&raw).map_err(|e| Error::Model(format!("endpoints.json: {e}")))
}

/// botocore's `endpoints.json` as bytes, for a reader that keeps only what it needs
/// (the parsed [`endpoints`] value takes about ten times the memory).
pub fn endpoints_json() -> Result<Vec<u8>, Error> {
    frame(bundle().index.endpoints)
}

/// botocore's `partitions.json`.
pub fn partitions() -> Result<Value, Error> {
    let raw = frame(bundle().index.partitions)?;
    serde_json::from_slice(&raw).map_err(|e| Error::Model(format!("partitions.json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_loads_lazily() {
        assert_eq!(botocore_version(), "1.43.67");
        assert!(services().len() > 400, "{} services", services().len());
        let ec2 = load("ec2").unwrap();
        assert_eq!(ec2.protocol().unwrap(), Protocol::Ec2);
        assert!(ec2.operation("describe_instances").is_some());
        assert!(ec2.operation("describe-instances").is_some());
        let sts = load("STS").unwrap();
        assert_eq!(sts.metadata.service_id, "STS");
        assert!(partitions().unwrap()["partitions"].is_array());
    }

    #[test]
    fn every_service_model_decodes() {
        for e in services() {
            let raw = frame(e.span).unwrap();
            let whole = ServiceModel::from_json(&e.name, &raw)
                .unwrap_or_else(|err| panic!("{}: {err}", e.name));
            // Decoded one by one, a bundled model's shapes and operations are the ones
            // decoded whole (less botocore's adjustments to s3 and s3control operations).
            let lazy = load(&e.name).unwrap();
            assert_eq!(lazy.shapes.len(), whole.shapes.len(), "{}", e.name);
            for id in 0..lazy.shapes.len() as ShapeId {
                let one = lazy.shapes.decode(id).unwrap_or_else(|err| panic!("{err}"));
                assert_eq!(format!("{one:?}"), format!("{:?}", whole.shape(id)));
            }
            let facts = crate::facts::service_facts(&e.name);
            let adjusted = facts.drop_bucket_from_uri || facts.drop_account_host_prefix;
            assert_eq!(lazy.operations.len(), whole.operations.len());
            for (i, (key, op)) in whole.operations.iter().enumerate() {
                let one = lazy
                    .operations
                    .decode(i)
                    .unwrap_or_else(|err| panic!("{err}"));
                assert!(adjusted || format!("{one:?}") == format!("{op:?}"), "{key}");
            }
            assert_eq!(lazy.paginators(), whole.paginators(), "{}", e.name);
            assert_eq!(lazy.metadata.service_id, whole.metadata.service_id);
        }
    }

    /// A loaded service decodes only the operations and shapes asked for, and a
    /// shape once.
    #[test]
    fn decodes_what_is_asked_for() {
        // A model of its own, not the cached one other tests decode from.
        let entry = find_service("ec2").unwrap();
        let raw = frame(entry.span).unwrap().into_boxed_slice();
        let ec2 = ServiceModel::outline("ec2", raw, Some(entry.span)).unwrap();
        let before = (ec2.operations.decoded(), ec2.shapes.decoded());
        assert_eq!(before, (0, 0));
        assert!(ec2.operations.contains_key("DescribeVpcs"));
        assert!(!ec2.operations.contains_key("DescribeNothing"));
        let id = ec2.shape_id("DescribeVpcsRequest").unwrap();
        assert_eq!(ec2.shapes.name(id), "DescribeVpcsRequest");
        assert_eq!((ec2.operations.decoded(), ec2.shapes.decoded()), before);
        // A peek decodes for the caller alone.
        let peeked = ec2.operations.peek("DescribeVpcs").unwrap();
        assert!(matches!(peeked, std::borrow::Cow::Owned(_)));
        assert_eq!(ec2.peek_shape(id).name, "DescribeVpcsRequest");
        assert_eq!((ec2.operations.decoded(), ec2.shapes.decoded()), before);
        let op = &ec2.operations["DescribeVpcs"];
        assert_eq!(format!("{op:?}"), format!("{:?}", *peeked));
        assert_eq!(op.input.as_ref().unwrap().target, id);
        assert_eq!(ec2.operations.decoded(), 1);
        let input = ec2.shape(id);
        assert_eq!(input.name, "DescribeVpcsRequest");
        assert!(input.members.contains_key("VpcIds"));
        assert_eq!(ec2.shapes.decoded(), 1);
        assert!(std::ptr::eq(input, ec2.shape(id)));
        // Once kept, a peek borrows the kept one.
        assert!(std::ptr::eq(input, &*ec2.peek_shape(id)));
        assert!(std::ptr::eq(
            op,
            &*ec2.operations.peek("DescribeVpcs").unwrap()
        ));
        let vpc_ids = input.members["VpcIds"].target;
        assert_eq!(ec2.shape(vpc_ids).kind, ShapeType::List);
        assert_eq!(ec2.shapes.decoded(), 2);
        assert!(ec2.shapes.len() > 4000);
    }

    /// A bundled model's JSON is let go once other services' JSON has taken its place
    /// among the recent ones, and decompressed again for the next part decoded.
    #[test]
    fn json_let_go_and_decompressed_again() {
        let entry = find_service("ec2").unwrap();
        let raw = frame(entry.span).unwrap().into_boxed_slice();
        let ec2 = ServiceModel::outline("ec2", raw, Some(entry.span)).unwrap();
        let vpcs = &ec2.operations["DescribeVpcs"];
        // Only this test uses this outline: nothing else can bring its JSON back.
        lazy::forget_recent();
        assert!(!ec2.src.json_in_memory());
        // Names answer from the outline, without the JSON.
        let id = vpcs.output.as_ref().unwrap().target;
        assert_eq!(ec2.shapes.name(id), "DescribeVpcsResult");
        assert!(!ec2.src.json_in_memory());
        let output = ec2.shape(id);
        assert!(output.members.contains_key("Vpcs"));
        let whole = ServiceModel::from_json("ec2", &frame(entry.span).unwrap()).unwrap();
        assert_eq!(format!("{output:?}"), format!("{:?}", whole.shape(id)));
        assert_eq!(ec2.paginators(), whole.paginators());
    }

    #[test]
    fn unknown_service_suggests() {
        let err = load("ec3").unwrap_err().to_string();
        assert!(err.contains("did you mean") && err.contains("ec2"), "{err}");
    }
}
