//! Helpers any stage may use, knowing nothing of AWS, accounts or scans: safe file
//! writes ([`fs`]) and rows printed as a table, CSV or JSON ([`mod@print`]). Not for
//! anything with a stage of its own.

pub mod fs;
pub mod print;
