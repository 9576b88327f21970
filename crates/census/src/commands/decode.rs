//! `census decode`: one raw AWS answer (status, headers, body) parsed with the bundled
//! model and printed exactly as `census call` prints the same answer: the boto3-shaped
//! JSON, merged the way `census call` merges pages, or the modeled error.
//!
//! Parsing is awsdyn's: [`awsdyn::client::decode_printed`] writes a success answer it
//! handles straight as the printed JSON (no value tree), anything else goes through
//! [`awsdyn::client::decode`], the client's own code path, and is printed from the
//! value; the bytes are the same either way. Nothing here reads a wire format.

use std::io::{BufWriter, Read, Write};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use awsdyn::model::ServiceModel;
use awsdyn::paginate::{FullResult, Paginator};
use awsdyn::{Error, ServiceError};
use serde_json::{Map, Value};

pub use crate::cli::decode::DecodeFlags;

/// Decodes the answer and writes the result to `out`. An error answer is written to
/// `out` in boto3's form (`{"Error": {"Code", "Message"}, ...modeled members}`) and
/// returned as the error `census call` fails with.
pub fn run(args: &DecodeFlags, out: impl Write) -> Result<()> {
    let (model, op_name) = model_and_operation(args)?;
    let body = read_body(&args.file)?;
    let op = &model.operations[&op_name];
    let resp = awsdyn::Response {
        status: args.status,
        headers: &args.headers,
        body: &body,
    };
    // `census call` without --param: its customizations see an empty input.
    let input = Value::Object(Map::new());
    let mut out = BufWriter::with_capacity(1 << 16, out);
    if let Some(printed) =
        awsdyn::client::decode_printed(&model, &op_name, op, &resp, !args.no_paginate)
    {
        if let Some(tokens) = &printed.next_tokens {
            warn_next_page(tokens);
        }
        printed.write_to(&mut out)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    match awsdyn::client::decode(&model, op, &input, &resp) {
        Ok(page) => {
            drop(body);
            let value = if args.no_paginate {
                page
            } else {
                merged(&model, &op_name, page)?
            };
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
            out.flush()?;
            Ok(())
        }
        Err(Error::Service(e)) => {
            serde_json::to_writer_pretty(&mut out, &error_document(&e))?;
            writeln!(out)?;
            out.flush()?;
            Err(Error::Service(e).into())
        }
        Err(e @ Error::Parse { .. }) => Err(anyhow!(
            "{}: {e}; give the body exactly as {} sent it (not decompressed or re-encoded), with the answer's --status and --header values",
            place(&args.file),
            model.name
        )),
        Err(e) => Err(e.into()),
    }
}

/// The model (bundled, or `--model`'s) and the operation's key in it.
fn model_and_operation(args: &DecodeFlags) -> Result<(Arc<ServiceModel>, String)> {
    let Some(path) = &args.model else {
        return Ok(awsdyn::client::Client::operation(
            &args.service,
            &args.operation,
        )?);
    };
    let json = std::fs::read(path).map_err(|e| {
        anyhow!("--model {path}: cannot read it ({e}); give a botocore service-2.json")
    })?;
    let model = ServiceModel::from_json(&args.service, &json).map_err(|e| {
        anyhow!("--model {path}: not a botocore service model ({e}); give a service-2.json")
    })?;
    model
        .protocol()
        .map_err(|e| anyhow!("--model {path}: {e}"))?;
    let key = awsdyn::client::operation_key(&model, &args.operation)?;
    Ok((Arc::new(model), key))
}

/// A body: a file mapped read-only, or the bytes read.
enum Body {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Body::Mapped(m) => m,
            Body::Read(v) => v,
        }
    }
}

/// A regular file mapped read-only, its pages read in at once (straight from the page
/// cache: no copy, no fresh pages to fault in, which is most of the system time of a
/// large body); `None` when it cannot be mapped (empty, not a regular file): it is read.
fn map(file: &std::fs::File) -> Option<memmap2::Mmap> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() == 0 {
        return None;
    }
    // SAFETY: a private read-only mapping of an open file. As with any mapped file, a
    // file truncated or rewritten by another process while census reads it is not
    // supported (the bytes could change under the parser, or a read fault).
    unsafe { memmap2::MmapOptions::new().populate().map(file) }.ok()
}

/// The body, from the file (mapped when it can be) or (`-`) standard input.
fn read_body(file: &str) -> Result<Body> {
    let mut body = Vec::new();
    let read = if file == "-" {
        std::io::stdin().lock().read_to_end(&mut body).map(|_| ())
    } else {
        match std::fs::File::open(file) {
            Ok(f) => match map(&f) {
                Some(m) => return Ok(Body::Mapped(m)),
                None => (&f).read_to_end(&mut body).map(|_| ()),
            },
            Err(e) => Err(e),
        }
    };
    read.map_err(|e| {
        anyhow!(
            "{}: cannot read it ({e}); give the file holding the response body, or - for standard input",
            place(file)
        )
    })?;
    Ok(Body::Read(body))
}

fn place(file: &str) -> String {
    if file == "-" {
        "standard input".to_string()
    } else {
        file.to_string()
    }
}

/// What `census call` prints for a one-page answer: the page merged as boto3's
/// `build_full_result` merges pages, for an operation with a paginator.
fn merged(model: &ServiceModel, op_name: &str, page: Value) -> Result<Value> {
    let Some(paginator) = Paginator::for_operation(model, op_name)? else {
        return Ok(page);
    };
    if let Some(tokens) = paginator.next_tokens(&page) {
        warn_next_page(&tokens);
    }
    let mut full = FullResult::new(&paginator);
    full.add_page(page);
    Ok(full.finish())
}

fn warn_next_page(tokens: &[(String, Value)]) {
    let names: Vec<&str> = tokens.iter().map(|(k, _)| k.as_str()).collect();
    eprintln!(
        "census: warning: the answer has a next-page token ({}): census call would fetch the next pages; this is the first page's part of the merged result (--no-paginate prints the page whole)",
        names.join(", ")
    );
}

/// An error answer as boto3's `ClientError.response` holds it (without
/// `ResponseMetadata`): `Error` with `Code` and `Message`, and the modeled members of
/// the error shape beside it.
fn error_document(e: &ServiceError) -> Value {
    let mut error = Map::new();
    error.insert("Code".into(), Value::String(e.code.clone()));
    error.insert("Message".into(), Value::String(e.message.clone()));
    let mut doc = Map::new();
    doc.insert("Error".into(), Value::Object(error));
    for (k, v) in &e.fields {
        doc.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(doc)
}
