//! Project tasks. `cargo xtask models [--wheel PATH]` regenerates awsdyn's model bundle
//! (crates/awsdyn/models/models.bin) from the pinned botocore wheel.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

/// The botocore release the bundle and the test vectors are pinned to.
const BOTOCORE_VERSION: &str = "1.43.67";
const MAGIC: &[u8; 8] = b"AWSDYN01";
const LEVEL: i32 = 19;
const DICT_SIZE: usize = 256 * 1024;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("models") => {
            let wheel = match args.iter().position(|a| a == "--wheel") {
                Some(i) => PathBuf::from(args.get(i + 1).context("--wheel needs a path")?),
                None => download_wheel()?,
            };
            build_models(&wheel)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask models [--wheel botocore-{BOTOCORE_VERSION}-py3-none-any.whl]"
            );
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn download_wheel() -> Result<PathBuf> {
    let dir = root().join("target/xtask");
    std::fs::create_dir_all(&dir)?;
    let wheel = dir.join(format!("botocore-{BOTOCORE_VERSION}-py3-none-any.whl"));
    if !wheel.exists() {
        eprintln!("downloading botocore {BOTOCORE_VERSION} with pip");
        let status = Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--quiet"])
            .arg(format!("botocore=={BOTOCORE_VERSION}"))
            .arg("-d")
            .arg(&dir)
            .status()
            .context("running python3 -m pip (is Python 3 with pip installed?)")?;
        if !status.success() || !wheel.exists() {
            bail!("pip download of botocore=={BOTOCORE_VERSION} failed; pass --wheel PATH to use a wheel you have");
        }
    }
    Ok(wheel)
}

struct Wheel {
    files: BTreeMap<String, Vec<u8>>,
}

impl Wheel {
    fn open(path: &Path) -> Result<Wheel> {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut zip = zip::ZipArchive::new(f)
            .with_context(|| format!("{} is not a wheel", path.display()))?;
        let mut files = BTreeMap::new();
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i)?;
            let name = entry.name().to_string();
            if name.starts_with("botocore/data/")
                || name.ends_with("NOTICE")
                || name.ends_with("LICENSE.txt")
            {
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf)?;
                files.insert(name, buf);
            }
        }
        Ok(Wheel { files })
    }

    fn json(&self, name: &str) -> Result<Option<Value>> {
        let Some(raw) = self.files.get(name) else {
            return Ok(None);
        };
        let text = if name.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out)?;
            out
        } else {
            raw.clone()
        };
        Ok(Some(
            serde_json::from_slice(&text).with_context(|| format!("parsing {name}"))?,
        ))
    }
}

/// Removes documentation and other text the client never needs.
fn strip(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in [
                "documentation",
                "documentationUrl",
                "deprecatedMessage",
                "deprecatedSince",
                "examples",
            ] {
                o.remove(k);
            }
            for (_, x) in o.iter_mut() {
                strip(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

/// botocore's sdk-extras merge: objects merge recursively, anything else replaces.
fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

fn build_models(wheel_path: &Path) -> Result<()> {
    let wheel = Wheel::open(wheel_path)?;
    // service -> newest api version
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for name in wheel.files.keys() {
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() == 5 && parts[4] == "service-2.json.gz" {
            let e = latest.entry(parts[2].to_string()).or_default();
            if parts[3] > e.as_str() {
                *e = parts[3].to_string();
            }
        }
    }
    if latest.is_empty() {
        bail!(
            "{} holds no botocore/data service models",
            wheel_path.display()
        );
    }
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut services = Vec::new();
    let mut raw_total = 0usize;
    for (service, version) in &latest {
        let dir = format!("botocore/data/{service}/{version}");
        let mut model = wheel.json(&format!("{dir}/service-2.json.gz"))?.unwrap();
        if let Some(extras) = wheel.json(&format!("{dir}/service-2.sdk-extras.json"))? {
            merge(&mut model, &extras["merge"]);
        }
        let mut paginators = wheel
            .json(&format!("{dir}/paginators-1.json"))?
            .map(|p| p["pagination"].clone())
            .unwrap_or_else(|| json!({}));
        if let Some(extras) = wheel.json(&format!("{dir}/paginators-1.sdk-extras.json"))? {
            merge(&mut paginators, &extras["merge"]["pagination"]);
        }
        let rules = wheel
            .json(&format!("{dir}/endpoint-rule-set-1.json.gz"))?
            .unwrap_or(Value::Null);
        let mut out = Map::new();
        for k in ["metadata", "operations", "shapes"] {
            out.insert(k.to_string(), model[k].clone());
        }
        out.insert("paginators".into(), paginators);
        out.insert("endpointRuleSet".into(), rules);
        let mut out = Value::Object(out);
        strip(&mut out);
        let raw = serde_json::to_vec(&out)?;
        raw_total += raw.len();
        let meta = &out["metadata"];
        services.push(json!({
            "name": service,
            "service_id": meta["serviceId"].as_str().unwrap_or(service),
            "endpoint_prefix": meta["endpointPrefix"].as_str().unwrap_or(service),
            "protocol": meta["protocol"].as_str().unwrap_or(""),
            "api_version": version,
        }));
        raws.push(raw);
    }
    // One dictionary trained over all services captures what they share (endpoint rule
    // sets, common shapes), so that each service can stay its own frame, decoded alone.
    let samples: Vec<&[u8]> = raws.iter().flat_map(|r| r.chunks(16 * 1024)).collect();
    let dict =
        zstd::dict::from_samples(&samples, DICT_SIZE).context("training the zstd dictionary")?;
    let mut compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, &dict)?;
    let mut frames: Vec<u8> = dict.clone();
    let dict_span = json!({"offset": 0, "len": dict.len(), "raw_len": 0});
    for (entry, raw) in services.iter_mut().zip(&raws) {
        let packed = compressor.compress(raw)?;
        entry["span"] = json!({"offset": frames.len(), "len": packed.len(), "raw_len": raw.len()});
        frames.extend_from_slice(&packed);
    }
    let partitions = wheel
        .json("botocore/data/partitions.json")?
        .context("wheel has no partitions.json")?;
    let raw = serde_json::to_vec(&partitions)?;
    let packed = compressor.compress(&raw)?;
    let partitions_span =
        json!({"offset": frames.len(), "len": packed.len(), "raw_len": raw.len()});
    frames.extend_from_slice(&packed);
    // endpoints.json: which regions each service is offered in, and which services
    // are global (one partition endpoint).
    let mut endpoints = wheel
        .json("botocore/data/endpoints.json")?
        .context("wheel has no endpoints.json")?;
    strip(&mut endpoints);
    let raw = serde_json::to_vec(&endpoints)?;
    let packed = compressor.compress(&raw)?;
    let endpoints_span = json!({"offset": frames.len(), "len": packed.len(), "raw_len": raw.len()});
    frames.extend_from_slice(&packed);
    let index = json!({
        "botocore": BOTOCORE_VERSION,
        "services": services,
        "partitions": partitions_span,
        "endpoints": endpoints_span,
        "dictionary": dict_span,
    });
    let index = zstd::stream::encode_all(&serde_json::to_vec(&index)?[..], LEVEL)?;
    let mut bundle = Vec::with_capacity(12 + index.len() + frames.len());
    bundle.extend_from_slice(MAGIC);
    bundle.extend_from_slice(&(index.len() as u32).to_le_bytes());
    bundle.extend_from_slice(&index);
    bundle.extend_from_slice(&frames);

    let out_dir = root().join("crates/awsdyn/models");
    std::fs::create_dir_all(&out_dir)?;
    write_atomic(&out_dir.join("models.bin"), &bundle)?;
    let notice = wheel
        .files
        .iter()
        .find(|(k, _)| k.ends_with(".dist-info/NOTICE"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let license = wheel
        .files
        .iter()
        .find(|(k, _)| k.ends_with(".dist-info/LICENSE.txt"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut n = format!(
        "The model bundle models.bin holds data from botocore {BOTOCORE_VERSION} (service models,\n\
         paginators, endpoint rule sets and partitions.json), documentation stripped.\n\
         botocore is licensed under the Apache License 2.0 (LICENSE.txt beside this file).\n\n\
         botocore's NOTICE:\n\n"
    )
    .into_bytes();
    n.extend_from_slice(&notice);
    write_atomic(&out_dir.join("NOTICE"), &n)?;
    write_atomic(&out_dir.join("LICENSE.txt"), &license)?;
    eprintln!(
        "wrote {} services, {:.1} MB of JSON -> {:.2} MB bundle",
        latest.len(),
        raw_total as f64 / 1e6,
        bundle.len() as f64 / 1e6
    );
    Ok(())
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
