//! Census: inventory every AWS resource in every account and region of one or more
//! AWS Organizations.
//!
//! Data flows one way, each stage using only those before it (checked by
//! `layout_tests`): [`discover`] finds the accounts, [`auth`] gets credentials for
//! each, [`regions`] picks the regions, [`spec`] says which calls to make, [`scan`]
//! plans and executes them through `awsdyn`, and [`sink`]s write what comes back;
//! [`store`] reads it back for `query`, `diff` and reports. A sink never calls AWS;
//! awsdyn never knows about accounts.
//!
//! # Where things live
//! | Looking for | Here |
//! |---|---|
//! | an account source (Organizations, `--role-arns` lists, the DynamoDB tenants table) | `discover/` (`organization.rs`, `input.rs`, `tenants.rs`) |
//! | the account type every stage passes along | `account.rs` |
//! | credentials: the base chain, AssumeRole, web identity, caching | `auth/` |
//! | a wire protocol (query, ec2, json, rest-json, rest-xml), signing, retries, endpoints | the `awsdyn` crate |
//! | partitions, regions and which operations are global | `regions.rs` (data from awsdyn) |
//! | which calls a scan makes: scan files, presets, result keys | `spec/` |
//! | the planner (calls x regions for one account, pure) | `scan/plan.rs` |
//! | the executor (credentials, concurrency, paging, deadlines) | `scan/execute.rs` |
//! | detail calls: syntax and checks, derivation from the models, "absent" errors | `spec/detail.rs`, `spec/derive.rs`, `spec/absent.rs` |
//! | detail calls: running them per listed item | `scan/details.rs` |
//! | the fate of a scan file entry (runs, runs as a detail, left out and why), `presets/retired.json` | `spec/fate.rs` |
//! | `census scan --plan` | `commands/plan.rs` |
//! | the writer pool and progress | `scan/writers.rs`, `scan/progress.rs` |
//! | `--resume` and plan.json | `scan/resume.rs` |
//! | `--shard` | `shard.rs` |
//! | an output: JSON tree, SQLite, PostgreSQL, S3 upload | `sink/` (`tree.rs`, `sql/`, `s3.rs`) |
//! | reading the SQL store back: items, views, diff | `store/` |
//! | the inventory: one row per resource (type, ARN, name, created, tags) from a result, derived from the models | `inventory/` (`model.rs`; data: `presets/arn_formats.json`, `presets/cfn_types.json`); written to the SQL stores' `inventory` table by `sink/sql/inventory.rs` |
//! | a report (`census report accounts`) | `report/` |
//! | other tools' configuration (AWS CLI profiles, Steampipe, Cartography, IAM templates) | `configgen/` |
//! | the command-line flags | `cli/` |
//! | a command (scan, query, diff, inventory, report tags, doctor, call) | `commands/` (`inventory/` holds the filter, reading and printing `report tags` shares; `tags.rs`) |
//! | one way into AWS per command (client, credentials, discovery) | `session.rs` |
//! | atomic writes, table/CSV/JSON printing | `util/` |
//!
//! # Modules
//! - [`account`]: the account type and its checks; not how accounts are found.
//! - [`auth`]: base credentials and per-account roles; not which accounts exist.
//! - [`cli`]: the flags, parsed and checked offline; runs nothing.
//! - [`commands`]: each subcommand's work and the dispatch; no flag definitions.
//! - [`configgen`]: configuration for other tools and IAM policies/templates; not Census's own settings.
//! - [`discover`]: account sources; never writes into [`auth`] (it returns the organization routes).
//! - [`inventory`]: resource rows (type, ARN, name, created, tags) from one result; pure, stores nothing.
//! - [`regions`]: partitions, region checks, enabled regions, global operations; no calls planned.
//! - [`report`]: reports built from live AWS data; not the scan's outputs.
//! - [`scan`]: planning and executing calls; not choosing them ([`spec`]) nor writing them ([`sink`]).
//! - [`session`]: client, credentials, access and catalog opened once per command; not a command.
//! - [`shard`]: which accounts a shard scans; nothing about where shards run.
//! - [`sink`]: writing results (tree, SQLite, PostgreSQL) and uploading them; never reads them back.
//! - [`spec`]: the calls a scan makes and their checks against the models; knows no accounts.
//! - [`store`]: reading the SQL store; never writes scan results.
//! - [`util`]: file writes and printing any stage may use; nothing AWS-specific.

// awsdyn's `Error` carries a whole service error by value; results return it once per
// call, so boxing would only add an allocation to every failure.
#![allow(clippy::result_large_err)]

pub mod account;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod configgen;
pub mod discover;
pub mod inventory;
pub mod regions;
pub mod report;
pub mod scan;
pub mod session;
pub mod shard;
pub mod sink;
pub mod spec;
pub mod store;
pub mod util;

#[cfg(test)]
mod layout_tests;
