//! Reading back what `census scan --s3-upload s3://bucket/prefix` wrote, for `census
//! merge`: the scan folder `<prefix>/<scan-id>/...` and the databases beside it
//! (`<prefix>/census.shard-K-of-N.db`), downloaded with S3 ListObjectsV2 and GetObject
//! through awsdyn into a local folder laid out as the scan's output folder, so that
//! the merge reads it as it reads a local one.
//!
//! The URL may name the upload's prefix (which must then hold one scan) or the scan
//! folder itself (`s3://bucket/prefix/<scan-id>`, the databases then one level up).
//! Object keys become local paths only when every part is a plain name: nothing is
//! written outside the download folder, whatever the bucket holds.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use awsdyn::client::{Client, Target};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use crate::session::Connection;
use crate::sink::s3::{bucket_target, S3Url};
use crate::util::fs::{create_private_dir_all, write_atomic};

/// Objects downloaded at once.
const CONCURRENCY: usize = 8;

/// A bucket to read, in its region.
struct Reader {
    client: Client,
    target: Target,
    url: S3Url,
}

impl Reader {
    /// Finds the bucket's region as `census scan --s3-upload` does; a bucket that does
    /// not exist, or an S3 that cannot be reached, is the error.
    async fn open(conn: &Connection, url: &S3Url, region: Option<&str>) -> Result<Reader> {
        let target = bucket_target(&conn.client, &conn.base, &url.bucket, region, "merge-s3")
            .await
            .map_err(|e| anyhow!("{url}: cannot read it: {e}; {}", fix_for(&e)))?;
        Ok(Reader {
            client: conn.client.clone(),
            target,
            url: url.clone(),
        })
    }

    /// The keys under `prefix` (all of them, or with `flat` only those not in a
    /// deeper "folder").
    async fn list(&self, prefix: &str, flat: bool) -> Result<Vec<String>> {
        let mut input = json!({ "Bucket": self.url.bucket, "Prefix": prefix });
        if flat {
            input["Delimiter"] = json!("/");
        }
        let out = self
            .client
            .call_all(&self.target, "s3", "ListObjectsV2", &input)
            .await
            .map_err(|e| {
                anyhow!(
                    "{}: cannot list it: {e}; {}",
                    self.url.uri(prefix),
                    fix_for(&e)
                )
            })?;
        Ok(out["Contents"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|o| o["Key"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// One object's bytes.
    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        use base64::Engine;
        let out = self
            .client
            .call(
                &self.target,
                "s3",
                "GetObject",
                &json!({ "Bucket": self.url.bucket, "Key": key }),
            )
            .await
            .map_err(|e| {
                anyhow!(
                    "{}: cannot read it: {e}; {}",
                    self.url.uri(key),
                    fix_for(&e)
                )
            })?;
        let body = out["Body"].as_str().unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| anyhow!("{}: unreadable body: {e}", self.url.uri(key)))
    }
}

/// What an AWS error means for reading, as a fix to append.
fn fix_for(e: &awsdyn::Error) -> &'static str {
    match e.code() {
        "NoSuchBucket" => "the bucket does not exist: correct the bucket name",
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
            "grant s3:ListBucket and s3:GetObject on the bucket (and kms:Decrypt if it uses KMS) to the identity running census"
        }
        "Transport" => "S3 could not be reached: check the network, proxy and AWS_ENDPOINT_URL",
        "PermanentRedirect" | "AuthorizationHeaderMalformed" => {
            "the bucket is in another region: pass it with --s3-region"
        }
        _ => "see the AWS error",
    }
}

/// A summary, accounts list or plan at the top of a scan folder (relative path).
fn is_run_file(rel: &str) -> bool {
    match rel.split_once('/') {
        None => {
            (rel.starts_with("summary.") || rel.starts_with("accounts.")) && rel.ends_with(".json")
        }
        Some((".census", rest)) => {
            rest.starts_with("plan.") && rest.ends_with(".json") && !rest.contains('/')
        }
        _ => false,
    }
}

/// `census.db` or `census.shard-K-of-N.db`.
fn is_db(name: &str) -> bool {
    !name.contains('/') && name.starts_with("census.") && name.ends_with(".db")
}

/// `rel` as a path under `root`, refused unless every part is a plain name.
fn local_path(root: &Path, rel: &str, url: &S3Url) -> Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        let plain = !part.is_empty()
            && part != "."
            && part != ".."
            && !part.chars().any(|c| c == '\\' || c.is_control());
        if !plain {
            bail!(
                "{url}: the object {:?} is not a plain path; refusing to write it outside the download folder",
                crate::util::print::escape(rel)
            );
        }
        path.push(part);
    }
    Ok(path)
}

/// `prefix` as a key prefix ending in `/` (empty for the bucket's root).
fn folder_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

/// Downloads the scan under `url` into `local` (`local/<scan-id>/...` and the
/// databases in `local`); returns the local scan folder.
pub async fn download(
    conn: &Connection,
    url: &S3Url,
    region: Option<&str>,
    local: &Path,
) -> Result<PathBuf> {
    let reader = Reader::open(conn, url, region).await?;
    let top = folder_prefix(&url.prefix);
    let keys = reader.list(&top, false).await?;
    let rels: Vec<&str> = keys.iter().filter_map(|k| k.strip_prefix(&top)).collect();
    // (key, local path) of every object to fetch.
    let mut wanted: Vec<(String, PathBuf)> = Vec::new();
    let folder;
    if rels.iter().any(|r| is_run_file(r)) {
        // The URL names the scan folder itself: the databases are one level up.
        let name = url.prefix.rsplit('/').next().unwrap_or_default();
        let name = if name.is_empty() { "scan" } else { name };
        folder = local_path(local, name, url)?;
        for rel in &rels {
            wanted.push((format!("{top}{rel}"), local_path(&folder, rel, url)?));
        }
        let parent = url
            .prefix
            .rsplit_once('/')
            .map(|(p, _)| folder_prefix(p))
            .unwrap_or_default();
        if !url.prefix.is_empty() {
            for key in reader.list(&parent, true).await? {
                let name = key.strip_prefix(&parent).unwrap_or(&key);
                if is_db(name) {
                    wanted.push((key.clone(), local_path(local, name, url)?));
                }
            }
        }
    } else {
        let mut scans: Vec<&str> = rels
            .iter()
            .filter_map(|r| r.split_once('/'))
            .filter(|(_, rest)| is_run_file(rest))
            .map(|(scan, _)| scan)
            .collect();
        scans.sort_unstable();
        scans.dedup();
        let scan = match scans.as_slice() {
            [one] => *one,
            [] => bail!(
                "{url}: no census scan there (no <scan-id>/summary.json, accounts.json or .census/plan.json under it); give the prefix census scan --s3-upload was given"
            ),
            many => bail!(
                "{url}: holds several scans ({}); give the one to merge, e.g. {url}/{}",
                many.join(", "),
                many[0]
            ),
        };
        folder = local_path(local, scan, url)?;
        let inside = format!("{scan}/");
        for rel in &rels {
            if let Some(rest) = rel.strip_prefix(&inside) {
                wanted.push((format!("{top}{rel}"), local_path(&folder, rest, url)?));
            } else if is_db(rel) {
                wanted.push((format!("{top}{rel}"), local_path(local, rel, url)?));
            }
        }
    }
    create_private_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let reader = &reader;
    stream::iter(wanted)
        .map(|(key, path)| async move {
            let body = reader.get(&key).await?;
            if let Some(dir) = path.parent() {
                create_private_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            write_atomic(&path, &body).with_context(|| format!("cannot write {}", path.display()))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_paths() {
        assert!(is_run_file("summary.shard-1-of-3.json"));
        assert!(is_run_file("accounts.json"));
        assert!(is_run_file(".census/plan.shard-2-of-3.json"));
        assert!(!is_run_file("123456789012-a/summary.json"));
        assert!(!is_run_file(".census/journal.jsonl"));
        assert!(is_db("census.shard-1-of-3.db"));
        assert!(!is_db("x/census.db"));
        let url = S3Url::parse("s3://bucket/p").unwrap();
        let root = Path::new("/tmp/x");
        assert_eq!(
            local_path(root, "a/b.json", &url).unwrap(),
            Path::new("/tmp/x/a/b.json")
        );
        for bad in ["../a", "a//b", "a/./b", "a\\b", "a/\u{1}"] {
            let e = local_path(root, bad, &url).unwrap_err().to_string();
            assert!(e.contains("not a plain path"), "{bad}: {e}");
        }
    }
}
