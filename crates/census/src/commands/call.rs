//! `census call`: one AWS operation, printed as boto3-shaped JSON, like the `aws` CLI.
//!
//! Not a scan: no accounts, no roles, nothing written but stdout; and not for writes
//! unless `--allow-write` says so.

use anyhow::{anyhow, Context, Result};
use awsdyn::client::{Client, Target};
use serde_json::Value;

pub use crate::cli::call::CallFlags;

fn input(args: &CallFlags) -> Result<Value> {
    let (text, from) = match (&args.param, &args.param_file) {
        (Some(_), Some(_)) => return Err(anyhow!("give either --param or --param-file, not both")),
        (Some(p), None) => (p.clone(), "--param".to_string()),
        (None, Some(f)) => (
            std::fs::read_to_string(f)
                .with_context(|| format!("--param-file {f}: cannot read it"))?,
            format!("--param-file {f}"),
        ),
        (None, None) => return Ok(Value::Object(Default::default())),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow!("{from}: not valid JSON at line {}, column {}: {e}; pass an object such as '{{\"MaxResults\": 5}}'", e.line(), e.column())
    })?;
    if !v.is_object() {
        return Err(anyhow!(
            "{from}: the parameters must be a JSON object, such as '{{\"MaxResults\": 5}}'"
        ));
    }
    Ok(v)
}

/// `census call` makes, without `--allow-write`, only what a scan file may name: an
/// operation whose name says it reads ([`crate::spec::is_read`]: Describe*, Get*,
/// List*...) and that is not on the secrets list (`presets/secrets.json`).
pub fn refuse_unless_read(service: &str, operation: &str, input: &Value) -> Result<()> {
    if !crate::spec::is_read(operation) {
        return Err(anyhow!(
            "{service} {operation} is not a read operation (Describe*, Get*, List*...): it may change your account; add --allow-write if that is what you want"
        ));
    }
    if let Some(secret) = crate::spec::secret(service, operation, input) {
        return Err(anyhow!(
            "{service} {operation} returns secrets ({}); add --allow-write if you mean to see them",
            secret.reason
        ));
    }
    Ok(())
}

pub async fn run(args: CallFlags) -> Result<Value> {
    // Check names and input before touching credentials: mistakes get caught offline.
    let (model, op_name) = Client::operation(&args.service, &args.operation)?;
    let input = input(&args)?;
    awsdyn::validate::check(&model, &model.operations[&op_name], &input)?;
    if !args.allow_write {
        refuse_unless_read(&model.name, &op_name, &input)?;
    }
    if let Some(r) = &args.region {
        crate::regions::check_region(r).map_err(|e| anyhow!("--region: {e}"))?;
    }
    let flags = crate::cli::accounts::BaseFlags {
        profile: args.profile.clone(),
        region: args.region.clone(),
    };
    let crate::session::Connection { client, base } =
        crate::session::Connection::open(&flags, None).await?;
    let region = base.region.clone().ok_or_else(|| {
        anyhow!("no region: pass --region or set AWS_REGION (or a region in your profile)")
    })?;
    crate::regions::check_region(&region)
        .map_err(|e| anyhow!("region from the environment/profile: {e}"))?;
    let target = Target::new(region, base.credentials).with_endpoints(base.endpoints.clone());
    let out = if args.no_paginate {
        client.call(&target, &model.name, &op_name, &input).await?
    } else {
        client
            .call_all(&target, &model.name, &op_name, &input)
            .await?
    };
    Ok(out)
}
