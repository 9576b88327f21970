//! `census config cartography`: the profile file of Cartography's hub-and-spoke set-up.
//!
//! Cartography (with `--aws-sync-all-profiles`) syncs every profile of the AWS config
//! it is given. On the hub (an EC2 instance by default) that file is a `[default]`
//! section with the region and `output = json`, then one profile per spoke account:
//! `role_arn` (the read-only role in that account), `region`, `output = json` and
//! `credential_source = Ec2InstanceMetadata` (`--mode ecs` for a task role, `--mode
//! local` for a local profile). The profiles are those of [`super::aws_profiles`], in
//! its Cartography style.

use anyhow::Result;

use super::aws_profiles::{self, Style};
use super::ProfilesFlags;

/// Runs `census config cartography`; returns the exit status.
pub async fn run(f: ProfilesFlags) -> Result<u8> {
    aws_profiles::run(f, Style::Cartography).await
}
