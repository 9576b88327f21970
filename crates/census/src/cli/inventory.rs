//! The flags of `census inventory` and `census report tags`: which resources of the
//! store's `inventory` table (account, region, type, tags, scan), which database, and
//! how the rows are printed.
//!
//! Not for checking what the values mean (a type without its service, a tag filter
//! without its key) nor for reading the store: see `commands::inventory`, which turns
//! these flags into one checked filter.

use std::path::PathBuf;

use super::store::StoreFlags;

/// The resources a command reads, as typed: lists are repeatable and comma-separated.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterFlags {
    /// Only these accounts: an account id or an account name (any case); repeatable,
    /// comma-separated.
    #[arg(long = "account", value_delimiter = ',', value_name = "ID|NAME")]
    pub accounts: Vec<String>,
    /// Only these regions (`global` for global resources); repeatable, comma-separated.
    #[arg(long = "region", value_delimiter = ',', value_name = "REGION")]
    pub regions: Vec<String>,
    /// Only these types, any case: `ec2:Instance`, the CloudFormation type
    /// `AWS::EC2::Instance`, or every type of a service: `ec2`, `ec2:*`,
    /// `AWS::EC2::*`; repeatable, comma-separated.
    #[arg(long = "type", value_delimiter = ',', value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only resources with this tag: `KEY=VALUE`, or `KEY` for any value; repeatable,
    /// all must hold. Keys match exactly, else ignoring case (as the account report
    /// reads account tags).
    #[arg(long = "tag", value_name = "KEY[=VALUE]")]
    pub tags: Vec<String>,
    /// The scan to read [default: each list call's latest scan, as the view
    /// inventory_latest shows it].
    #[arg(long = "scan", value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// With --scan: read a sharded scan that is not finished (shards missing,
    /// running or stopped) as it is, instead of refusing it.
    #[arg(long)]
    pub partial: bool,
}

/// `census inventory` flags.
#[derive(Debug, clap::Args)]
pub struct InventoryFlags {
    #[command(flatten)]
    pub filter: FilterFlags,
    /// Only resources without this tag, or with it empty; repeatable, all must hold.
    /// `A|B` names alternates: missing when none of them has a value.
    #[arg(long = "missing-tag", value_name = "KEY[|KEY...]")]
    pub missing_tags: Vec<String>,
    /// Print at most this many rows.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub store: StoreFlags,
}

/// `census report tags` flags.
#[derive(Debug, clap::Args)]
pub struct ReportTagsFlags {
    /// The tags every resource must have with a non-empty value, comma-separated;
    /// `A|B|C` names alternates, any of which satisfies the requirement [default: the
    /// account report's conventions, Environment,Aide_ID|AideId|AIDE_ID].
    #[arg(long = "require", value_delimiter = ',', value_name = "KEY[|KEY...]")]
    pub require: Vec<String>,
    /// List each resource that misses a required tag instead of the counts per account
    /// and type.
    #[arg(long)]
    pub resources: bool,
    /// Write the rows as CSV to this file instead of printing them.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterFlags,
    #[command(flatten)]
    pub store: StoreFlags,
}
