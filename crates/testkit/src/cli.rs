//! Running a command-line binary of the workspace the way a user runs it, against a
//! loopback endpoint with fake credentials, and temporary folders that clean up.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The fake access key id every [`cli_command`] gets.
pub const FAKE_ACCESS_KEY_ID: &str = "AKIDCENSUSTEST";
/// The fake secret every [`cli_command`] gets; tests check it never shows in output.
pub const FAKE_SECRET_ACCESS_KEY: &str = "census-test-secret-never-printed";

/// The stdout of a command that must have exited 0 (else the test fails with `what`
/// and its stderr).
pub fn succeeded(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// A command for the binary at `bin` (pass `env!("CARGO_BIN_EXE_census")`) with a clean
/// environment: only `PATH`, a `HOME` that does not exist (no profile or `.aws`
/// leaks in), fake static credentials, region us-east-1, IMDS off, and every AWS call
/// sent to `endpoint`. Tests add arguments, a working directory or more variables.
pub fn cli_command(bin: impl AsRef<Path>, endpoint: &str) -> Command {
    let mut c = Command::new(bin.as_ref());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// A fresh folder under the system temp dir, removed when dropped, unless the
/// thread is panicking (a failed test keeps its files to look at; the path is in
/// the panic message of any assertion that prints it).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<tmp>/<prefix>-<pid>-<n>`, empty.
    pub fn new(prefix: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The one scan folder under `out` (a scan writes `out/<scan-id>/`). Panics unless there
/// is exactly one.
pub fn scan_root(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "one scan folder expected in {}: {dirs:?}",
        out.display()
    );
    dirs[0].clone()
}

/// A JSON file, parsed; panics naming the file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Waits until the scan that `child` runs into `out` has journaled at least `calls`
/// calls (its `.census/journal.jsonl`) while still running, and returns the scan
/// folder. Panics when the process ends first or makes no progress within two
/// minutes. Polls the journal: there is no event to wait on in another process's files.
pub fn wait_for_journal(child: &mut Child, out: &Path, calls: usize) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let dir = std::fs::read_dir(out)
            .ok()
            .and_then(|mut d| d.find_map(|e| Some(e.ok()?.path()).filter(|p| p.is_dir())));
        if let Some(dir) = dir {
            let done = std::fs::read_to_string(dir.join(".census/journal.jsonl"))
                .map(|t| t.matches("\"call\"").count())
                .unwrap_or(0);
            if done >= calls {
                return dir;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "census finished before it had journaled {calls} calls"
        );
        assert!(Instant::now() < deadline, "census made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`wait_for_journal`], then kills the scan with SIGKILL, as a crash or an OOM kill
/// would, and returns the scan folder.
pub fn kill_scan_when_journaled(child: &mut Child, out: &Path, calls: usize) -> PathBuf {
    let root = wait_for_journal(child, out, calls);
    child.kill().unwrap(); // SIGKILL: no chance to flush or finish.
    child.wait().unwrap();
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let d = TempDir::new("testkit-tempdir");
        let p = d.to_path_buf();
        std::fs::write(p.join("f"), "x").unwrap();
        assert!(p.join("f").exists());
        drop(d);
        assert!(!p.exists());
    }
}
