//! `census config steampipe`: a Steampipe `aws.spc` with one connection per account,
//! `aws_<name>`, over the profile `census config aws-profiles` writes for it with the
//! same flags, and the aggregator connection `aws` over `aws_*`.

use std::fmt::Write as _;

use anyhow::{bail, Result};

use super::{count, describe, describe_org, discover_plan, write_output, Plan, SteampipeFlags};

/// An HCL quoted string: `"` and `\` escaped, and `${` / `%{` doubled so that no
/// template sequence starts.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Checks one `--regions` value: a region, or a Steampipe wildcard pattern.
fn check_region_pattern(r: &str) -> Result<()> {
    if r.contains('*') {
        if r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '*')
        {
            return Ok(());
        }
        bail!("--regions: {r:?} is not a region pattern (such as *, eu-* or us-east-1)");
    }
    crate::regions::check_region(r).map_err(|e| anyhow::anyhow!("--regions: {e}"))?;
    Ok(())
}

/// The file's text.
pub fn render(plan: &Plan, regions: &[String]) -> String {
    let regions = regions
        .iter()
        .map(|r| hcl_string(r))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Steampipe AWS connections for {} in {}, written by census {} (census config steampipe).",
        count(plan.accounts().count(), "account"),
        count(plan.organizations.len(), "organization"),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "# Each connection uses the AWS profile that `census config aws-profiles` writes with the same flags."
    );
    let _ = writeln!(out, "# Install it as ~/.steampipe/config/aws.spc.");
    let mut org_shown: Option<&str> = None;
    for (e, _) in plan.accounts() {
        if e.org_id.as_deref() != org_shown {
            org_shown = e.org_id.as_deref();
            if let Some(org) = plan
                .organizations
                .iter()
                .find(|o| Some(o.id.as_str()) == org_shown)
            {
                let _ = writeln!(out, "\n# {}", describe_org(org));
            }
        }
        let _ = writeln!(out, "\n# {}", describe(e));
        let _ = writeln!(out, "connection {} {{", hcl_string(&e.connection));
        let _ = writeln!(out, "  plugin  = \"aws\"");
        let _ = writeln!(out, "  profile = {}", hcl_string(&e.name));
        let _ = writeln!(out, "  regions = [{regions}]");
        let _ = writeln!(out, "}}");
    }
    let _ = writeln!(
        out,
        "\n# Every account at once: select ... from aws.aws_account\nconnection \"aws\" {{\n  plugin      = \"aws\"\n  type        = \"aggregator\"\n  connections = [\"aws_*\"]\n}}"
    );
    out
}

/// Runs `census config steampipe`; returns the exit status.
pub async fn run(f: SteampipeFlags) -> Result<u8> {
    for r in &f.regions {
        check_region_pattern(r)?;
    }
    let regions = if f.regions.is_empty() {
        vec!["*".to_string()]
    } else {
        crate::cli::dedup(f.regions.clone())
    };
    // The same names as aws-profiles writes in its default mode.
    let source = f
        .source_profile
        .clone()
        .or_else(|| f.common.base.profile.clone())
        .unwrap_or_else(|| "default".to_string());
    let found = discover_plan(&f.common, &["default", &source]).await?;
    write_output(f.common.output.as_deref(), &render(&found.plan, &regions))?;
    eprintln!(
        "census: {} connections and the aggregator aws",
        found.plan.accounts().count()
    );
    Ok(if found.problems { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(hcl_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(hcl_string("${x} %{y} $z"), r#""$${x} %%{y} $z""#);
        assert_eq!(hcl_string("a\nb"), r#""a\nb""#);
    }

    #[test]
    fn region_patterns() {
        assert!(check_region_pattern("*").is_ok());
        assert!(check_region_pattern("eu-*").is_ok());
        assert!(check_region_pattern("us-east-1").is_ok());
        assert!(check_region_pattern("EU*").is_err());
        assert!(check_region_pattern("moon-base-1").is_err());
    }
}
