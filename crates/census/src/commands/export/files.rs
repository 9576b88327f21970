//! The files of `census export graph`: the output ([`Target`], renamed into place when
//! complete) and the edges waiting for their nodes ([`Spill`]). Not for what is
//! written in them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

/// The output file: written as `<name>.partial-<pid>` beside it and renamed when
/// complete, so that a failed export leaves no half file under the name asked for. A
/// path that exists and is not a regular file (`/dev/null`, a FIFO, a symbolic link
/// such as `/dev/stdout`) is written directly, never replaced.
pub(crate) struct Target {
    pub(crate) path: PathBuf,
    partial: PathBuf,
    direct: bool,
}

impl Target {
    pub(crate) fn create(path: &Path) -> Result<Target> {
        if path.is_dir() {
            bail!(
                "-o {}: is a folder; give a file name such as {}",
                path.display(),
                path.join("graph.graphml").display()
            );
        }
        let cannot = |e: std::io::Error| {
            anyhow!(
                "-o {}: cannot write there ({e}); give a file in a folder that exists and that you can write to",
                path.display()
            )
        };
        // A symbolic link (`/dev/stdout`) is written through, not replaced.
        let direct = std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file());
        if direct {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(cannot)?;
            return Ok(Target {
                path: path.to_path_buf(),
                partial: path.to_path_buf(),
                direct,
            });
        }
        let name = path
            .file_name()
            .ok_or_else(|| anyhow!("-o {}: not a file name", path.display()))?;
        let mut partial_name = name.to_os_string();
        partial_name.push(format!(".partial-{}", std::process::id()));
        let partial = path.with_file_name(partial_name);
        File::create(&partial).map_err(cannot)?;
        Ok(Target {
            path: path.to_path_buf(),
            partial,
            direct,
        })
    }

    pub(crate) fn file(&self) -> Result<File> {
        let file = if self.direct {
            std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)
        } else {
            File::create(&self.partial)
        };
        file.with_context(|| format!("-o {}", self.path.display()))
    }

    pub(crate) fn commit(&self) -> Result<()> {
        if self.direct {
            return Ok(());
        }
        std::fs::rename(&self.partial, &self.path).map_err(|e| {
            self.discard();
            anyhow!("-o {}: cannot write there ({e})", self.path.display())
        })
    }

    pub(crate) fn discard(&self) {
        if !self.direct {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// The edges found while the nodes are written, kept in a temporary file (one JSON
/// array per line) until every node is out: edges may only name nodes written before
/// them, and a link's target may come later. Removed when dropped.
pub(crate) struct Spill {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl Spill {
    pub(crate) fn create() -> Result<Spill> {
        let path = std::env::temp_dir().join(format!(
            "census-export-edges-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                anyhow!(
                    "cannot write the temporary file {} ({e}); set TMPDIR to a folder with space",
                    path.display()
                )
            })?;
        Ok(Spill {
            path,
            out: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    pub(crate) fn edge(
        &mut self,
        source: &str,
        kind: &str,
        raw: Option<&str>,
        target: &str,
    ) -> Result<()> {
        let out = self.out.as_mut().expect("spill written after replay");
        serde_json::to_writer(&mut *out, &(source, kind, raw, target))?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Calls `f(source, kind, raw, target)` for each edge, in the order written.
    pub(crate) fn replay(
        &mut self,
        f: &mut dyn FnMut(String, String, Option<String>, String) -> Result<()>,
    ) -> Result<()> {
        use std::io::BufRead;
        if let Some(out) = self.out.take() {
            out.into_inner().map_err(|e| e.into_error())?;
        }
        let file = File::open(&self.path)?;
        for line in std::io::BufReader::with_capacity(1 << 16, file).lines() {
            let (source, kind, raw, target): (String, String, Option<String>, String) =
                serde_json::from_str(&line?)?;
            f(source, kind, raw, target)?;
        }
        Ok(())
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
