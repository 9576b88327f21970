//! Shards: one scan split over several processes or machines without coordination
//! (DESIGN.md, "Beyond one machine"). Every shard discovers the same accounts, keeps
//! those whose stable hash falls in its slot, and writes under the same scan id; the
//! account folders of different shards never overlap, and the files that describe a
//! whole run (accounts.json, summary.json, the journal, the database) carry the
//! shard in their names, so the shards' outputs merge by copying them into one place
//! (one S3 prefix, say).
//!
//! The shard is `--shard K/N` (K from 1 to N), or `--shard auto/N` with K taken from
//! the job scheduler: `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job) or
//! `AWS_BATCH_JOB_ARRAY_INDEX` (an AWS Batch array job), both counted from 0.

use std::fmt;

use sha2::{Digest, Sha256};

/// Environment variables that give a shard index counted from 0, in the order asked.
pub const INDEX_VARS: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// Shard `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Parses `K/N` or `auto/N`; `auto` reads the index from `var` (the
    /// [`INDEX_VARS`]).
    pub fn parse(s: &str, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let usage = "write K/N (shard K of N, K from 1 to N) or auto/N (K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)";
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a shard: {usage}"))?;
        let count: u32 = n.trim().parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
            format!("{s:?}: the shard count {n:?} is not a number from 1: {usage}")
        })?;
        let index = if k.trim() == "auto" {
            let (name, value) = INDEX_VARS
                .iter()
                .find_map(|name| var(name).map(|v| (*name, v)))
                .ok_or_else(|| {
                    format!("{s:?}: auto needs JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX in the environment; set one, or give the shard as K/N")
                })?;
            let zero_based: u32 = value.trim().parse().map_err(|_| {
                format!("{s:?}: {name}={value:?} is not a number; it counts shards from 0")
            })?;
            zero_based + 1
        } else {
            k.trim()
                .parse()
                .map_err(|_| format!("{s:?}: the shard {k:?} is not a number: {usage}"))?
        };
        if index < 1 || index > count {
            return Err(format!(
                "{s:?}: shard {index} is not between 1 and {count}: {usage}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses with the process environment for `auto`.
    pub fn parse_env(s: &str) -> Result<Shard, String> {
        Shard::parse(s, |name| std::env::var(name).ok())
    }

    /// The shard an account belongs to (from 1): the first 8 bytes of the SHA-256 of
    /// its id, big-endian, modulo the count. Stable across runs, machines and versions.
    pub fn of(account_id: &str, count: u32) -> u32 {
        let digest = Sha256::digest(account_id.as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(head) % u64::from(count.max(1))) as u32 + 1
    }

    /// Whether this shard scans the account.
    pub fn owns(&self, account_id: &str) -> bool {
        Shard::of(account_id, self.count) == self.index
    }

    /// The suffix of this shard's run-wide files: `shard-2-of-4`.
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// `name.ext` -> `name.shard-2-of-4.ext` (no extension: `name.shard-2-of-4`).
    pub fn file_name(&self, name: &str) -> String {
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{}.{ext}", self.tag()),
            _ => format!("{name}.{}", self.tag()),
        }
    }
}

/// Checks a scan id given with `--scan-id`: it names a folder and an S3 key part, so
/// 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub fn check_scan_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a scan id: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' (for example 20261124T063000Z or nightly-2026-11-24)"
        ))
    }
}

/// What a secret's value is written as in [`recorded_flags`].
pub const REDACTED: &str = "(redacted)";

/// The flags a scan was started with, as given (the arguments after `scan`), for the
/// store's `scan_shards.flags`: a JSON array of strings, with the values of
/// credential-like flags (`--external-id`, anything naming a secret, password, token
/// or key) replaced by [`REDACTED`], and the password of any URL (`--postgres
/// postgresql://user:PASSWORD@host/db`, `?password=`) too.
pub fn recorded_flags<I: IntoIterator<Item = String>>(args: I) -> serde_json::Value {
    let mut out = Vec::new();
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            hide_next = false;
            out.push(REDACTED.to_string());
            continue;
        }
        if let Some(flag) = arg.strip_prefix("--") {
            match flag.split_once('=') {
                Some((name, _)) if secret_flag(name) => {
                    out.push(format!("--{name}={REDACTED}"));
                }
                Some(_) => out.push(redact_url(&arg)),
                None => {
                    hide_next = secret_flag(flag);
                    out.push(arg);
                }
            }
        } else {
            out.push(redact_url(&arg));
        }
    }
    serde_json::Value::Array(out.into_iter().map(serde_json::Value::String).collect())
}

/// Whether a flag's value is a secret: `external-id`, or a name with `secret`,
/// `password`, `passwd`, `token` (not `--web-identity`'s token file, which is named
/// without it), `credential` or `key` (`--access-key`, `--sse-key`).
fn secret_flag(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    n == "external-id"
        || ["secret", "password", "passwd", "token", "credential", "key"]
            .iter()
            .any(|w| n.split('-').any(|part| part.starts_with(w)))
}

/// `s` with the password of a URL in it hidden: `scheme://user:PASSWORD@host` and
/// `password=...` / `secret=...` query parameters.
fn redact_url(s: &str) -> String {
    let mut out = s.to_string();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i) {
            if let Some(colon) = out[start..at].find(':').map(|i| start + i) {
                out.replace_range(colon + 1..at, REDACTED);
            }
        }
    }
    for key in ["password=", "passwd=", "secret=", "token="] {
        let mut from = 0;
        while let Some(i) = out[from..].to_ascii_lowercase().find(key).map(|i| from + i) {
            let value = i + key.len();
            let end = out[value..]
                .find(['&', ' ', '#'])
                .map_or(out.len(), |j| value + j);
            out.replace_range(value..end, REDACTED);
            from = value + REDACTED.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_flags_hide_secrets() {
        let args = [
            "--org",
            "--shard",
            "2/3",
            "--external-id",
            "s3cr3t-ext",
            "--postgres",
            "postgresql://census:hunter2@127.0.0.1:5432/census?sslmode=require",
            "--postgres=postgres://u:pw2@h/db?password=pw3&sslmode=disable",
            "--external-id=ext2",
            "--session-token",
            "tok",
            "--web-identity",
            "/var/run/token",
            "--scan",
            "https://user:pw4@example.com/scan.json",
            "-r",
            "us-east-1",
        ]
        .map(String::from);
        let v = recorded_flags(args);
        let text = v.to_string();
        for secret in [
            "s3cr3t-ext",
            "hunter2",
            "pw2",
            "pw3",
            "ext2",
            "\"tok\"",
            "pw4",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), 17);
        assert_eq!(a[2], "2/3");
        assert_eq!(a[4], REDACTED);
        assert_eq!(
            a[6],
            "postgresql://census:(redacted)@127.0.0.1:5432/census?sslmode=require"
        );
        assert_eq!(a[8], "--external-id=(redacted)");
        assert_eq!(a[12], "/var/run/token", "a token file's path is no secret");
        assert_eq!(a[16], "us-east-1");
    }

    #[test]
    fn parses_k_of_n_and_auto() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("2/4", none).unwrap(),
            Shard { index: 2, count: 4 }
        );
        assert_eq!(
            Shard::parse("1/1", none).unwrap(),
            Shard { index: 1, count: 1 }
        );
        let k8s = |n: &str| (n == "JOB_COMPLETION_INDEX").then(|| "3".to_string());
        assert_eq!(
            Shard::parse("auto/4", k8s).unwrap(),
            Shard { index: 4, count: 4 }
        );
        let batch = |n: &str| (n == "AWS_BATCH_JOB_ARRAY_INDEX").then(|| "0".to_string());
        assert_eq!(
            Shard::parse("auto/2", batch).unwrap(),
            Shard { index: 1, count: 2 }
        );
        for bad in ["0/4", "5/4", "2", "a/4", "2/0", "2/x", "auto/4"] {
            let e = Shard::parse(bad, none).unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        let e = Shard::parse("auto/4", k8s_bad).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
        fn k8s_bad(n: &str) -> Option<String> {
            (n == "JOB_COMPLETION_INDEX").then(|| "x".to_string())
        }
        // Index 4 of 4 counted from 0 does not exist.
        let past = |n: &str| (n == "JOB_COMPLETION_INDEX").then(|| "4".to_string());
        assert!(Shard::parse("auto/4", past).is_err());
    }

    #[test]
    fn every_account_has_exactly_one_shard_and_shards_are_balanced() {
        let ids: Vec<String> = (0..4000u64)
            .map(|i| format!("{:012}", 100_000_000_000 + i * 7919))
            .collect();
        let count = 4;
        let mut sizes = [0usize; 4];
        for id in &ids {
            let owners: Vec<u32> = (1..=count)
                .filter(|&k| Shard { index: k, count }.owns(id))
                .collect();
            assert_eq!(owners.len(), 1, "{id}: {owners:?}");
            sizes[(owners[0] - 1) as usize] += 1;
        }
        for s in sizes {
            assert!((800..1200).contains(&s), "unbalanced: {sizes:?}");
        }
        // Stable: fixed answers (Python: int.from_bytes(sha256(id)[:8], "big") % n + 1),
        // so a change of hash, which would move accounts between shards, is a visible break.
        assert_eq!(Shard::of("123456789012", 4), 3);
        assert_eq!(Shard::of("123456789012", 7), 2);
        assert_eq!(Shard::of("123456789012", 1), 1);
    }

    #[test]
    fn file_names_carry_the_shard() {
        let s = Shard { index: 2, count: 4 };
        assert_eq!(s.file_name("summary.json"), "summary.shard-2-of-4.json");
        assert_eq!(s.file_name("census.db"), "census.shard-2-of-4.db");
        assert_eq!(s.file_name("journal"), "journal.shard-2-of-4");
    }

    #[test]
    fn scan_ids() {
        assert!(check_scan_id("20261124T063000Z").is_ok());
        assert!(check_scan_id("nightly-2026.11_24").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_scan_id(bad).is_err(), "{bad}");
        }
    }
}
