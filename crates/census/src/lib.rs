//! Census: inventory every AWS resource in every account and region of one or more
//! AWS Organizations.
//!
//! Data flows one way: [`discover`] finds the accounts, [`auth`] gets credentials
//! for each, [`regions`] picks the regions, [`spec`] says which calls to make, [`scan`]
//! plans and executes them through `awsdyn`, and [`sink`]s write what comes back. A
//! sink never calls AWS; awsdyn never knows about accounts.

// awsdyn's `Error` carries a whole service error by value; results return it once per
// call, so boxing would only add an allocation to every failure.
#![allow(clippy::result_large_err)]

pub mod account;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod configgen;
pub mod discover;
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
