//! The flags of `census report html`: which store and scan, and where the page goes.
//!
//! Not for building the page: see `report::html`.

use std::path::PathBuf;

use crate::store::postgres::PgUrl;

/// `census report html` flags.
#[derive(Debug, clap::Args)]
pub struct ReportHtmlFlags {
    /// The scan to report on (e.g. 20261124T063000Z) [default: the latest finished scan].
    #[arg(value_name = "SCAN_ID")]
    pub scan_id: Option<String>,
    /// The database [default: census-out/census.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Read the scan from this PostgreSQL database instead [default: $CENSUS_POSTGRES_URL
    /// unless --db is given].
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    pub postgres: Option<PgUrl>,
    /// The scan to compare with [default: the finished scan before SCAN_ID].
    #[arg(long, value_name = "SCAN_ID")]
    pub against: Option<String>,
    /// The HTML file to write (one self-contained page: no request leaves it).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Report on a sharded scan that is not finished (shards missing, running or
    /// stopped) as it is, instead of refusing it.
    #[arg(long)]
    pub partial: bool,
}

impl ReportHtmlFlags {
    /// The SQLite file and the PostgreSQL database: an explicit `--db` wins over
    /// `$CENSUS_POSTGRES_URL`.
    pub fn databases(&self) -> (PathBuf, Option<PgUrl>) {
        let postgres = match &self.db {
            Some(_) => self.postgres.clone(),
            None => PgUrl::from_flag_or_env(self.postgres.clone()),
        };
        (
            self.db
                .clone()
                .unwrap_or_else(|| PathBuf::from("census-out/census.db")),
            postgres,
        )
    }
}
