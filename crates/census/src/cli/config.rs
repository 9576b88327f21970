//! `census config` flags: which other tool's configuration to generate (AWS CLI
//! profiles, Steampipe connections, Cartography profiles) and from which accounts.
//!
//! Not for generating it: see [`crate::configgen`].

use std::path::PathBuf;

use super::accounts::{BaseFlags, TargetFlags};

/// What `--check-conflicts` without a file stands for: the AWS config file
/// (`AWS_CONFIG_FILE`, else `~/.aws/config`).
pub(crate) const DEFAULT_CONFIG_MARK: &str = "~/.aws/config";

/// `census config` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// AWS CLI profiles, one per account: `[profile <prefix><account name>]` with
    /// role_arn, role_session_name, region and the credentials to assume it from.
    ///
    /// Modes: local (source_profile = --source-profile), imds (credential_source =
    /// Ec2InstanceMetadata), ecs (credential_source = EcsContainer). Merge the output
    /// into your AWS config yourself: census never writes over ~/.aws/config, and
    /// --check-conflicts lists the profile names a file already has. Accounts are
    /// selected as census scan selects them; with no source flag, the caller's
    /// organization (--org). role_session_name is --session-name, else census.
    AwsProfiles(ProfilesFlags),
    /// A Steampipe aws.spc: one connection per account (aws_<name>, over the profile
    /// `census config aws-profiles` writes with the same flags) and the aggregator
    /// connection `aws` over aws_*.
    ///
    /// Accounts are selected as census scan selects them; with no source flag, the
    /// caller's organization (--org).
    Steampipe(SteampipeFlags),
    /// Cartography's hub-and-spoke profile file: [default] plus one profile per account
    /// with role_arn, region, output = json and credential_source (the EC2 instance
    /// role by default).
    ///
    /// On the hub: AWS_CONFIG_FILE=<the file> cartography --aws-sync-all-profiles.
    /// Accounts are selected as census scan selects them; with no source flag, the
    /// caller's organization (--org).
    Cartography(ProfilesFlags),
}

impl ConfigCommand {
    /// The flags every `census config` command takes.
    pub fn common(&self) -> &CommonFlags {
        match self {
            ConfigCommand::AwsProfiles(f) | ConfigCommand::Cartography(f) => &f.common,
            ConfigCommand::Steampipe(f) => &f.common,
        }
    }
}

/// Flags every `census config` command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonFlags {
    #[command(flatten)]
    pub targets: TargetFlags,
    #[command(flatten)]
    pub base: BaseFlags,
    /// Put this in front of every profile name (letters, digits, _ - .).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Write here instead of to stdout (never over the AWS config or credentials file).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace --output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Where a profile's own credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `source_profile`: a profile of the machine running the tool.
    Local,
    /// `credential_source = Ec2InstanceMetadata`: the EC2 instance's role.
    Imds,
    /// `credential_source = EcsContainer`: the ECS task's role.
    Ecs,
}

/// `census config aws-profiles` and `census config cartography` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfilesFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Where the profiles' credentials come from: local, imds or ecs [default: local;
    /// imds for cartography].
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Mode local: the profile that holds the credentials to assume the roles from
    /// [default: --profile, else default].
    #[arg(long = "source-profile", value_name = "NAME")]
    pub source_profile: Option<String>,
    /// The region written into every profile [default: --region, else the base
    /// region, else the partition's main region].
    #[arg(long = "profile-region", value_name = "REGION")]
    pub profile_region: Option<String>,
    /// List the profiles of the output that FILE already has (default: the AWS
    /// config file); exit status 2 when there are any.
    #[arg(long = "check-conflicts", value_name = "FILE", num_args = 0..=1, default_missing_value = DEFAULT_CONFIG_MARK)]
    pub check_conflicts: Option<PathBuf>,
}

/// `census config steampipe` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SteampipeFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The --source-profile given to aws-profiles, if any: an account name that clashes
    /// with it gets the account id there, and so here [default: --profile, else
    /// default].
    #[arg(long = "source-profile", value_name = "NAME")]
    pub source_profile: Option<String>,
    /// The regions of every connection (space- or comma-separated; Steampipe's
    /// wildcards such as * or eu-* allowed) [default: *, every enabled region].
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
}
