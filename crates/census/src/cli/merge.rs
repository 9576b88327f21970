//! `census merge` flags: the shard folders (or S3 prefixes) of one sharded scan and
//! where their merge goes.
//!
//! Not for merging them: see [`crate::commands::merge`].

use std::path::PathBuf;

use super::accounts::BaseFlags;

/// `census merge` flags.
#[derive(Debug, clap::Args)]
pub struct MergeFlags {
    /// The shards' folders: scan folders (census-out/<scan-id>), output folders holding
    /// one scan (census-out, with its census.shard-K-of-N.db files), or S3 prefixes
    /// that `census scan --s3-upload` filled (s3://bucket/prefix). One folder may hold
    /// several shards.
    #[arg(required = true, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub sources: Vec<String>,
    /// The output folder, laid out as `census scan -o DIR` writes one: DIR/<scan-id>/
    /// (accounts.json, summary.json, the account folders) and DIR/census.db. It must
    /// not exist or be empty, unless --force.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR", required = true)]
    pub output_dir: PathBuf,
    /// Write into an output folder that is not empty: DIR/<scan-id> is replaced, and
    /// the scan is added to DIR/census.db (its earlier rows of this scan replaced; the
    /// other scans there are kept).
    #[arg(long)]
    pub force: bool,
    /// Merge the folders only: write no census.db (for shards scanned with --no-db,
    /// or whose databases were not kept).
    #[arg(long = "no-db")]
    pub no_db: bool,
    /// The S3 sources' region when S3 cannot be asked where a bucket is
    /// (GetBucketLocation) [default: the bucket's own region].
    #[arg(long = "s3-region", value_name = "REGION")]
    pub s3_region: Option<String>,
    #[command(flatten)]
    pub base: BaseFlags,
}
