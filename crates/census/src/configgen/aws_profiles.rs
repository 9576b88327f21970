//! `census config aws-profiles` and `census config cartography`: AWS config files with
//! one profile per account.
//!
//! Written by hand, carefully: every name is sanitized ([`super::sanitize`]) and
//! every value is checked before it gets here (role ARNs, regions, session names,
//! external IDs), so no value can hold a newline, `[` or a comment character; account
//! names only appear in comment lines, with control characters removed.
//!
//! Not a parser of AWS config files (only the names of existing profiles are read, for
//! `--check-conflicts`).

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};

use super::{
    check_profile_word, count, describe, describe_org, discover_plan, report_conflicts,
    write_output, Mode, Plan, ProfilesFlags, Source,
};

/// Which file: the AWS CLI's, or Cartography's (a `[default]` section and `output =
/// json` in every profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Cli,
    Cartography,
}

/// What goes into every profile besides the account's role.
#[derive(Debug, Clone)]
pub struct Settings {
    pub style: Style,
    pub mode: Mode,
    /// Mode local: the profile holding the base credentials.
    pub source_profile: String,
    pub region: String,
    pub session_name: String,
    pub external_id: Option<String>,
    /// `duration_seconds`, when `--duration` was given.
    pub duration: Option<u64>,
}

/// The file's text.
pub fn render(plan: &Plan, s: &Settings) -> String {
    let what = format!(
        "{} in {}",
        count(plan.accounts().count(), "account"),
        count(plan.organizations.len(), "organization")
    );
    let from = match s.mode {
        Mode::Local => format!("the profile {:?}", s.source_profile),
        Mode::Imds => "the EC2 instance's role (credential_source = Ec2InstanceMetadata)".into(),
        Mode::Ecs => "the ECS task's role (credential_source = EcsContainer)".into(),
    };
    let mut out = String::new();
    let version = env!("CARGO_PKG_VERSION");
    let (title, command, hint) = match s.style {
        Style::Cli => (
            "AWS profiles",
            "aws-profiles",
            "Merge it into your AWS config by hand: `census config aws-profiles --check-conflicts` lists the names it already has.",
        ),
        Style::Cartography => (
            "Cartography hub-and-spoke profiles",
            "cartography",
            "On the hub: AWS_CONFIG_FILE=<this file> cartography --aws-sync-all-profiles",
        ),
    };
    let _ = writeln!(
        out,
        "# {title} for {what}, written by census {version} (census config {command})."
    );
    let _ = writeln!(
        out,
        "# Each profile assumes its account's role with credentials from {from}."
    );
    let _ = writeln!(out, "# {hint}");
    if matches!(s.style, Style::Cartography) {
        let _ = writeln!(out, "\n[default]\nregion = {}\noutput = json", s.region);
    }
    let mut org_shown: Option<&str> = None;
    for e in &plan.entries {
        if e.org_id.as_deref() != org_shown {
            org_shown = e.org_id.as_deref();
            match plan
                .organizations
                .iter()
                .find(|o| Some(o.id.as_str()) == org_shown)
            {
                Some(org) => {
                    let _ = writeln!(out, "\n# {}", describe_org(org));
                }
                None => {
                    let _ = writeln!(out, "\n# Accounts outside the organizations read");
                }
            }
        }
        let _ = writeln!(out, "\n# {}", describe(e));
        let _ = writeln!(out, "[profile {}]", e.name);
        let _ = writeln!(out, "role_arn = {}", e.role_arn);
        let _ = writeln!(out, "role_session_name = {}", s.session_name);
        if let Some(id) = &s.external_id {
            let _ = writeln!(out, "external_id = {id}");
        }
        if let Some(d) = s.duration {
            let _ = writeln!(out, "duration_seconds = {d}");
        }
        match (&e.source, s.mode) {
            (Source::Profile(p), _) => {
                let _ = writeln!(out, "source_profile = {p}");
            }
            (Source::Base, Mode::Local) => {
                let _ = writeln!(out, "source_profile = {}", s.source_profile);
            }
            (Source::Base, Mode::Imds) => {
                let _ = writeln!(out, "credential_source = Ec2InstanceMetadata");
            }
            (Source::Base, Mode::Ecs) => {
                let _ = writeln!(out, "credential_source = EcsContainer");
            }
        }
        let _ = writeln!(out, "region = {}", s.region);
        if s.style == Style::Cartography {
            let _ = writeln!(out, "output = json");
        }
    }
    out
}

/// Runs `census config aws-profiles` (or `cartography`); returns the exit status.
pub async fn run(f: ProfilesFlags, style: Style) -> Result<u8> {
    let mode = f.mode.unwrap_or(match style {
        Style::Cli => Mode::Local,
        Style::Cartography => Mode::Imds,
    });
    if mode != Mode::Local && f.source_profile.is_some() {
        bail!("--source-profile is for --mode local; with --mode imds or ecs the profiles take the instance's or task's role");
    }
    let source_profile = f
        .source_profile
        .clone()
        .or_else(|| f.common.base.profile.clone())
        .unwrap_or_else(|| "default".to_string());
    if mode == Mode::Local {
        check_profile_word("--source-profile", &source_profile, false)?;
    }
    if let Some(r) = &f.profile_region {
        crate::regions::check_region(r).map_err(|e| anyhow!("--profile-region: {e}"))?;
    }
    let mut reserved = vec!["default"];
    if mode == Mode::Local {
        reserved.push(&source_profile);
    }
    let found = discover_plan(&f.common, &reserved).await?;
    let settings = Settings {
        style,
        mode,
        source_profile: source_profile.clone(),
        region: f.profile_region.clone().unwrap_or(found.region),
        session_name: found
            .roles
            .session_name
            .clone()
            .unwrap_or_else(|| "census".to_string()),
        external_id: found.roles.external_id.clone(),
        duration: f.common.targets.roles.assume.duration,
    };
    let text = render(&found.plan, &settings);
    let mut conflicts = 0;
    if let Some(file) = &f.check_conflicts {
        let mut names: Vec<String> = found.plan.entries.iter().map(|e| e.name.clone()).collect();
        if style == Style::Cartography {
            names.insert(0, "default".to_string());
        }
        conflicts = report_conflicts(file, &names)?;
    }
    write_output(f.common.output.as_deref(), &text)?;
    eprintln!(
        "census: {} profiles for {} accounts",
        found.plan.entries.len(),
        found.plan.accounts().count()
    );
    Ok(if conflicts > 0 || found.problems {
        2
    } else {
        0
    })
}
