//! The shared kit of Census's integration tests.
//!
//! Integration tests run against real things: moto's server (the AWS emulator from
//! PyPI, pinned in `python/requirements.txt`), seeded with boto3 the way a real
//! client would seed it. Where moto cannot produce a case (throttling, access denied
//! on AssumeRole, 5xx, dropped connections, slow answers), a loopback proxy of our
//! own sits in front of moto and injects the fault by rule. Nothing here ever talks
//! to real AWS: every address is on 127.0.0.1, and the Python helpers run with fake
//! credentials and every inherited `AWS_*` variable removed.
//!
//! What is in it:
//! - [`Moto`]: a `moto_server` on a free loopback port, reset on demand, killed on drop;
//!   [`Moto::shared`] is one per test process.
//! - [`python`] / [`Moto::python`]: run a script of `crates/testkit/python` with boto3
//!   pointed at an endpoint, get its stdout as JSON.
//! - [`boto3_call`] / [`try_boto3_call`]: one boto3 call (optionally paginated, optionally
//!   as a member account through AssumeRole), printed in awsdyn's output convention
//!   (boto3-shaped JSON, `isoformat()` dates, base64 blobs, no `ResponseMetadata`).
//! - [`seed_demo_org`]: an AWS Organization with nested OUs, member accounts and
//!   resources across regions, described by a [`Manifest`] that tests assert against;
//!   [`shared_demo_org`] seeds one per test process for tests that only read.
//! - [`seed_inventory`]: the resources of the inventory's acceptance tests, described
//!   by an [`InventoryManifest`] (every resource's ARN, tags, links).
//! - [`FaultProxy`]: the fault-injecting reverse proxy, with rules that tests change
//!   while it runs and a record of every request it saw.
//!
//! - [`Postgres`]: a real PostgreSQL server (Debian's packages) on a free loopback port in
//!   a temporary folder, stopped on drop; [`Postgres::shared`] is one per test process.
//! - [`cli_command`] / [`TempDir`]: a workspace binary run with a clean environment and
//!   fake credentials against a loopback endpoint; a temp folder removed on drop.
//!
//! Modules (private; the items above are re-exported): `moto` (the emulator process),
//! `python` (running the kit's scripts), `boto3` (one call through boto3), `seed` (the
//! demo organization), `inventory` (the inventory's resources), `proxy` (the fault
//! proxy: `matching` rules, `reply` builders, `request` parsing), `postgres` (the
//! PostgreSQL server), `cli` (running a binary; temp folders). None of them knows Census's own types.
//!
//! What it is not: a mock of AWS. Hand-written responses exist only in
//! [`Reply`]'s builders, for the faults moto never produces.
//!
//! Set-up: `scripts/setup-python.sh` creates `<repo>/.venv` with the pinned packages
//! (`scripts/test.sh` calls it). `CENSUS_PYTHON` overrides the interpreter.

mod boto3;
mod cli;
mod inventory;
mod moto;
mod postgres;
mod proxy;
mod python;
mod seed;

pub use boto3::{boto3_call, try_boto3_call, Boto3Error, Boto3Output, Caller};
pub use cli::{
    cli_command, kill_scan_when_journaled, read_json, scan_root, succeeded, wait_for_journal,
    TempDir, FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY,
};
pub use inventory::{
    seed_inventory, ExpectedLink, InventoryManifest, InventorySeed, SeededAccount, SeededResource,
};
pub use moto::Moto;
pub use postgres::Postgres;
pub use proxy::{
    Action, FaultProxy, Match, Protocol, Reply, Rule, RuleId, SeenRequest, FAULT_REQUEST_ID,
};
pub use python::{python, python_path, python_script, repo_root, try_python};
pub use seed::{seed_demo_org, shared_demo_org, Account, DemoOrg, Manifest, Ou};

/// The account moto treats as the caller's own when no role is assumed: the
/// organization's management account in [`seed_demo_org`].
pub const MANAGEMENT_ACCOUNT_ID: &str = "123456789012";

/// The role that `CreateAccount` makes in every member account (moto does too).
pub const MEMBER_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// Anything that has an AWS endpoint URL a client can be pointed at: a [`Moto`], a
/// [`FaultProxy`] in front of one, or a plain URL string.
pub trait AwsEndpoint {
    /// The base URL, such as `http://127.0.0.1:41234` (no trailing slash).
    fn endpoint_url(&self) -> String;
}

impl AwsEndpoint for str {
    fn endpoint_url(&self) -> String {
        self.trim_end_matches('/').to_string()
    }
}

impl AwsEndpoint for String {
    fn endpoint_url(&self) -> String {
        self.as_str().endpoint_url()
    }
}

impl<T: AwsEndpoint + ?Sized> AwsEndpoint for &T {
    fn endpoint_url(&self) -> String {
        (**self).endpoint_url()
    }
}
