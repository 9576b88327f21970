//! `census export` flags: which database, which scan, which rows and which file
//! format the inventory graph is written in.
//!
//! Not for building or writing the graph: see `commands::export`.

use std::path::PathBuf;

use crate::cli::store::StoreFlags;
use crate::store::postgres::PgUrl;
use crate::util::print::Format;

/// `census export` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// The inventory as a graph: resources, accounts, OUs and the organization as
    /// nodes; links and containment as edges.
    ///
    /// Nodes: one per inventory row (id: its ARN, else
    /// census:<account>:<region>:<source>:<resource_id>; rows sharing an ARN are one
    /// node), one per account (id: the account id), OU (ou-...), organization root
    /// (r-...) and organization (o-...). Edges: `contains` from the organization down
    /// to each resource, and one per link whose target is a node of the export (kind:
    /// the member path, such as SubnetId); links to nothing in the scan are kept on
    /// their resource as `unresolved` ([{kind, raw}]).
    Graph(GraphFlags),
}

/// A graph file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// GraphML (Gephi, yEd, networkx, igraph).
    Graphml,
    /// Graphviz DOT, one cluster per account.
    Dot,
    /// Cytoscape.js elements JSON.
    Json,
    /// A Cypher script of MERGE statements for Neo4j.
    Cypher,
}

/// `census export graph` flags.
#[derive(Debug, clap::Args)]
pub struct GraphFlags {
    /// The file format.
    #[arg(long, value_enum, default_value = "graphml", value_name = "FORMAT")]
    pub format: GraphFormat,
    /// Write to this file (`-` or none: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The database [default: census-out/census.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Read this PostgreSQL database instead [default: $CENSUS_POSTGRES_URL unless
    /// --db is given].
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    pub postgres: Option<PgUrl>,
    /// Export this scan [default: each list call's latest scan, as inventory_latest].
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// With --scan: export a sharded scan that is not finished (shards missing,
    /// running or stopped) as it is, instead of refusing it.
    #[arg(long)]
    pub partial: bool,
    /// Only these accounts (ids or names; repeat or separate with commas).
    #[arg(long, value_name = "ID|NAME", value_delimiter = ',')]
    pub account: Vec<String>,
    /// Only resources of these types, as census inventory takes them: ec2:Instance,
    /// AWS::EC2::Instance, a service (ec2, ec2:*, AWS::EC2::*), any case; repeat or
    /// separate with commas. Accounts and OUs stay.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,
}

impl GraphFlags {
    /// The SQLite file and the PostgreSQL database, as for `census query`: an explicit
    /// `--db` wins over `$CENSUS_POSTGRES_URL`.
    pub fn databases(&self) -> (PathBuf, Option<PgUrl>) {
        StoreFlags {
            db: self.db.clone(),
            postgres: self.postgres.clone(),
            output: Format::Table,
        }
        .databases()
    }
}
