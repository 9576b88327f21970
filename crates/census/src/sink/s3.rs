//! Uploading results to S3: a scan's output tree (`census scan --s3-upload
//! s3://bucket/prefix`) and the account metadata reports (`census report accounts
//! --s3-bucket`), and where a bucket is ([`bucket_region`]). Not a [`super::Sink`]:
//! uploads copy finished local files, after the scan.
//!
//! Every object is written with S3 PutObject through awsdyn, with server-side
//! encryption (`ServerSideEncryption: AES256`), one request per file (no multipart:
//! fine up to S3's 5 GB single-request limit). Local files are always written first
//! and never removed: an upload copies, so a failed upload loses nothing.
//!
//! [`Bucket::open`] checks the bucket before any work is done (S3 GetBucketLocation in
//! the partition's global region, which also tells the bucket's region): a bucket that
//! does not exist, or an S3 that cannot be reached, is one clear error up front rather
//! than after an hours-long scan. An identity allowed to write but not to ask
//! GetBucketLocation gets a debug-level note and writes in the region given (or its
//! own).
//!
//! A failed upload is one [`UploadError`]: what could not be written where, the AWS
//! error, and where the local copy is. Callers exit with status 1: the results exist
//! only locally, which a pipeline that waits for them in S3 must not take for success.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use awsdyn::client::{Client, Target};
use futures::stream::{self, StreamExt};
use serde_json::json;

use crate::auth::Base;

/// The target that reaches `bucket` in its own region (GetBucketLocation, asked in
/// the partition's global region), labelled `label` in logs; `region` (`--s3-region`),
/// else the base region, when the bucket's region cannot be asked. A bucket that does
/// not exist, or an S3 that cannot be reached, is the error.
pub async fn bucket_target(
    client: &Client,
    base: &Base,
    bucket: &str,
    region: Option<&str>,
    label: &'static str,
) -> Result<Target, awsdyn::Error> {
    let own = region
        .map(str::to_string)
        .or_else(|| base.region.clone())
        .unwrap_or_else(|| "us-east-1".to_string());
    let partition = crate::regions::check_region(&own).unwrap_or_else(|_| "aws".into());
    let global = crate::regions::global_region(&partition).unwrap_or("us-east-1");
    let target = |r: &str| {
        Target::new(r.to_string(), base.credentials.clone())
            .with_endpoints(base.endpoints.clone())
            .with_label(label)
    };
    let found = match bucket_region(client, &target(global), bucket).await {
        Ok(found) => found,
        Err(e) if matches!(e.code(), "NoSuchBucket" | "Transport") => return Err(e),
        Err(e) => {
            tracing::debug!("GetBucketLocation {bucket}: {e}; using {own}");
            own
        }
    };
    Ok(target(&found))
}

/// Asks S3 where `bucket` is (GetBucketLocation, through `target`): its region, S3's
/// legacy answers made plain (none or empty is `us-east-1`, `EU` is `eu-west-1`).
pub async fn bucket_region(
    client: &Client,
    target: &Target,
    bucket: &str,
) -> Result<String, awsdyn::Error> {
    let out = client
        .call(
            target,
            "s3",
            "GetBucketLocation",
            &json!({ "Bucket": bucket }),
        )
        .await?;
    Ok(match out["LocationConstraint"].as_str() {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

/// Files uploaded at once by [`Bucket::put_tree`].
pub const TREE_CONCURRENCY: usize = 8;

/// An S3 location: a bucket and a key prefix (no leading or trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl S3Url {
    /// Parses `s3://bucket` or `s3://bucket/prefix/...`. The error says what is wrong
    /// and how the value is written (the caller names the flag).
    pub fn parse(s: &str) -> Result<S3Url, String> {
        let Some(rest) = s.strip_prefix("s3://") else {
            return Err(format!(
                "{s:?} is not an S3 URL; write it as s3://bucket or s3://bucket/prefix"
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        S3Url::new(bucket, prefix)
    }

    /// A bucket and a prefix given apart (`--s3-bucket`, `--s3-prefix`).
    pub fn new(bucket: &str, prefix: &str) -> Result<S3Url, String> {
        check_bucket_name(bucket)?;
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
            && !prefix.is_empty()
        {
            return Err(format!(
                "the key prefix {prefix:?} has an empty, '.' or '..' part; write it like reports/daily"
            ));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The object key for `name` (a relative path with `/` separators) under the prefix.
    pub fn key(&self, name: &str) -> String {
        let name = name.trim_start_matches('/');
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// `s3://bucket/key`.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// S3's bucket naming rules, checked offline so that a typo is caught before any work.
fn check_bucket_name(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = bucket
        .bytes()
        .next()
        .zip(bucket.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    if (3..=63).contains(&bucket.len()) && ok_chars && ends_ok && !bucket.contains("..") {
        Ok(())
    } else if bucket.is_empty() {
        Err("no bucket name; write it as s3://bucket/prefix".into())
    } else {
        Err(format!(
            "{bucket:?} is not an S3 bucket name (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit)"
        ))
    }
}

/// An upload that failed: one sentence saying what, where, why, and where the local
/// copy is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError {
    pub message: String,
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UploadError {}

impl UploadError {
    fn new(message: String) -> UploadError {
        UploadError {
            message: crate::auth::one_line(&message),
        }
    }
}

/// What an AWS error means for an upload, as a fix to append.
fn fix_for(e: &awsdyn::Error) -> &'static str {
    match e.code() {
        "NoSuchBucket" => "the bucket does not exist: create it or correct the bucket name",
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
            "grant s3:PutObject on the bucket (and kms:GenerateDataKey if its default encryption uses KMS) to the identity running census"
        }
        "Transport" => "S3 could not be reached: check the network, proxy and AWS_ENDPOINT_URL",
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => {
            "the bucket is in another region: pass it with --s3-region"
        }
        _ => "see the AWS error",
    }
}

/// A bucket that was checked and can be written to.
#[derive(Clone)]
pub struct Bucket {
    client: Client,
    target: Target,
    url: S3Url,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket")
            .field("url", &self.url.to_string())
            .field("region", &self.target.region)
            .finish()
    }
}

impl Bucket {
    /// Checks `url`'s bucket and finds its region (see the module documentation).
    /// `region` (`--s3-region`) is used when the bucket's own region cannot be asked.
    pub async fn open(
        client: &Client,
        base: &Base,
        url: S3Url,
        region: Option<&str>,
    ) -> Result<Bucket, UploadError> {
        let target = bucket_target(client, base, &url.bucket, region, "s3-upload")
            .await
            .map_err(|e| {
                UploadError::new(format!("cannot upload to {url}: {e}; {}", fix_for(&e)))
            })?;
        Ok(Bucket {
            client: client.clone(),
            target,
            url,
        })
    }

    /// Where objects go.
    pub fn url(&self) -> &S3Url {
        &self.url
    }

    /// The bucket's region (as found by [`Bucket::open`]).
    pub fn region(&self) -> &str {
        &self.target.region
    }

    /// Writes one object, the bytes as they are, with server-side encryption.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), awsdyn::Error> {
        let input = json!({
            "Bucket": self.url.bucket,
            "Key": key,
            "ContentType": content_type,
            "ServerSideEncryption": "AES256",
        });
        self.client
            .call_with_payload(&self.target, "s3", "PutObject", &input, body)
            .await
            .map(|_| ())
    }

    /// Uploads a local file to `key`; the error names both and keeps the file.
    pub async fn put_file(&self, path: &Path, key: &str) -> Result<(), UploadError> {
        let owned = path.to_path_buf();
        let body = tokio::task::spawn_blocking(move || std::fs::read(owned))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|e| {
                UploadError::new(format!("cannot read {} to upload it: {e}", path.display()))
            })?;
        self.put(key, body, content_type(path)).await.map_err(|e| {
            UploadError::new(format!(
                "cannot upload {} to {}: {e}; {}; the local file is kept",
                path.display(),
                self.url.uri(key),
                fix_for(&e)
            ))
        })
    }

    /// Uploads every file under `root` (hidden temporary files excepted) to keys
    /// `<prefix>/<key_prefix>/<relative path>`, [`TREE_CONCURRENCY`] at once. Stops at
    /// the first failure, which is the error; the local tree is never touched.
    pub async fn put_tree(&self, root: &Path, key_prefix: &str) -> Result<TreeUpload, UploadError> {
        let files = list_files(root).map_err(|e| {
            UploadError::new(format!("cannot list {} to upload it: {e}", root.display()))
        })?;
        let total = files.len();
        let bytes: u64 = files.iter().map(|(_, _, len)| len).sum();
        let this = Arc::new(self.clone());
        let mut uploads = stream::iter(files)
            .map(|(path, relative, _)| {
                let this = this.clone();
                let key = self.url.key(&join_key(key_prefix, &relative));
                async move { this.put_file(&path, &key).await }
            })
            .buffer_unordered(TREE_CONCURRENCY);
        let mut done = 0;
        while let Some(result) = uploads.next().await {
            if let Err(e) = result {
                return Err(UploadError::new(format!(
                    "{e} ({done} of {total} files were uploaded; every file is still in {})",
                    root.display()
                )));
            }
            done += 1;
        }
        Ok(TreeUpload {
            files: total,
            bytes,
            location: self.url.uri(&self.url.key(key_prefix)),
        })
    }
}

/// `census scan --s3-upload`: uploads the scan folder `root` to
/// `<prefix>/<scan id>/...` and, when it exists, the database `db` to
/// `<prefix>/<its file name>`. Says on stderr what was uploaded, or the one error;
/// returns whether everything was.
pub async fn upload_scan(bucket: &Bucket, root: &Path, db: Option<&Path>) -> bool {
    let scan_id = root
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let tree = match bucket.put_tree(root, &scan_id).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("census: error: {e}");
            return false;
        }
    };
    let mut what = format!("{} files ({} bytes)", tree.files, tree.bytes);
    if let Some(db) = db.filter(|p| p.is_file()) {
        let name = db
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "census.db".into());
        let key = bucket.url().key(&name);
        if let Err(e) = bucket.put_file(db, &key).await {
            eprintln!(
                "census: error: {e} (the scan folder itself was uploaded to {})",
                tree.location
            );
            return false;
        }
        what.push_str(&format!(" and {}", bucket.url().uri(&key)));
    }
    eprintln!(
        "census: uploaded {what} to {} in {:.1}s",
        tree.location,
        started.elapsed().as_secs_f64()
    );
    true
}

/// What [`Bucket::put_tree`] uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeUpload {
    pub files: usize,
    pub bytes: u64,
    /// `s3://bucket/prefix/<key_prefix>`.
    pub location: String,
}

fn join_key(prefix: &str, relative: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        relative.to_string()
    } else {
        format!("{prefix}/{relative}")
    }
}

/// The Content-Type an object gets, from its file name.
pub fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "json" => "application/json",
        "jsonl" => "application/x-ndjson",
        "csv" => "text/csv",
        "txt" | "log" => "text/plain",
        "db" | "sqlite" => "application/vnd.sqlite3",
        _ => "application/octet-stream",
    }
}

/// Every regular file under `root`, sorted, as (path, relative key with `/`, length).
/// Temporary files of atomic writes (`.<name>.tmp-<pid>`) are left out.
fn list_files(root: &Path) -> std::io::Result<Vec<(PathBuf, String, u64)>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') && name.contains(".tmp-") {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect::<Vec<_>>()
                .join("/");
            out.push((path, relative, entry.metadata()?.len()));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = S3Url::parse("s3://my-bucket/reports/daily/").unwrap();
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.prefix, "reports/daily");
        assert_eq!(u.to_string(), "s3://my-bucket/reports/daily");
        assert_eq!(u.key("a/b.json"), "reports/daily/a/b.json");
        let u = S3Url::parse("s3://my-bucket").unwrap();
        assert_eq!(u.key("x.csv"), "x.csv");
        assert_eq!(u.uri("x.csv"), "s3://my-bucket/x.csv");
        let e = S3Url::parse("my-bucket/x").unwrap_err();
        assert!(e.contains("s3://bucket/prefix"), "{e}");
        let e = S3Url::parse("s3://My_Bucket/x").unwrap_err();
        assert!(e.contains("not an S3 bucket name"), "{e}");
        assert!(S3Url::parse("s3:///x").is_err());
        assert!(S3Url::parse("s3://bucket/a//b").is_err());
        assert!(S3Url::parse("s3://bucket/a/../b").is_err());
    }

    #[test]
    fn files() {
        let dir = std::env::temp_dir().join(format!("census-upload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        std::fs::write(dir.join("a/b/x.json"), "[]").unwrap();
        std::fs::write(dir.join("a/.x.json.tmp-12"), "").unwrap();
        let files: Vec<String> = list_files(&dir).unwrap().into_iter().map(|f| f.1).collect();
        assert_eq!(files, ["a/b/x.json", "summary.json"]);
        assert_eq!(
            join_key("20261124T063000Z", "a/b/x.json"),
            "20261124T063000Z/a/b/x.json"
        );
        assert_eq!(
            content_type(Path::new("census.db")),
            "application/vnd.sqlite3"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
