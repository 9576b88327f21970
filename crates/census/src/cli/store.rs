//! The flags of the commands that read the scan database (`census query`, `census
//! diff`): which database, and how the rows are printed.
//!
//! Not for opening or reading the database: see `commands::query`, `commands::diff` and
//! [`crate::store`].

use std::path::PathBuf;

use crate::store::postgres::PgUrl;
use crate::util::print::Format;

/// `census query` flags.
#[derive(Debug, clap::Args)]
pub struct QueryFlags {
    /// The SQL statement (SQLite dialect, JSON1 functions; PostgreSQL's with --postgres).
    #[arg(value_name = "SQL", required_unless_present = "tables")]
    pub sql: Option<String>,
    /// List the tables and views with their row counts.
    #[arg(long, conflicts_with = "sql")]
    pub tables: bool,
    #[command(flatten)]
    pub store: StoreFlags,
    /// Stop the statement after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// `census diff` flags.
#[derive(Debug, clap::Args)]
#[command(mut_arg("postgres", |a| a.help(
    "Read the scans from this PostgreSQL database instead [default: $CENSUS_POSTGRES_URL unless --db is given]"
)))]
pub struct DiffFlags {
    /// The earlier scan id (e.g. 20261124T063000Z).
    pub scan_a: Option<String>,
    /// The later scan id.
    pub scan_b: Option<String>,
    #[command(flatten)]
    pub store: StoreFlags,
    /// Count the changes per account, region and type instead of listing them
    /// (`tags_only`: the changed resources whose only change is their tags).
    #[arg(long)]
    pub summary: bool,
    /// Compare a sharded scan that is not finished (shards missing, running or
    /// stopped) as it is, instead of refusing it.
    #[arg(long)]
    pub partial: bool,
}

/// `census scans` flags.
#[derive(Debug, clap::Args)]
pub struct ScansFlags {
    #[command(flatten)]
    pub store: StoreFlags,
}

/// The database read and how its rows are printed.
#[derive(Debug, clap::Args)]
pub struct StoreFlags {
    /// The database [default: census-out/census.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Query this PostgreSQL database instead [default: $CENSUS_POSTGRES_URL unless
    /// --db is given].
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    pub postgres: Option<PgUrl>,
    /// Output format: table, json or csv.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub output: Format,
}

impl StoreFlags {
    /// The SQLite file and the PostgreSQL database: an explicit `--db` wins over
    /// `$CENSUS_POSTGRES_URL`.
    pub fn databases(&self) -> (PathBuf, Option<PgUrl>) {
        let postgres = match &self.db {
            Some(_) => self.postgres.clone(),
            None => PgUrl::from_flag_or_env(self.postgres.clone()),
        };
        let db = self.db.clone();
        (
            db.unwrap_or_else(|| PathBuf::from("census-out/census.db")),
            postgres,
        )
    }
}
