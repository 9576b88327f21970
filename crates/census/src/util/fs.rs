//! Files written safely: atomic writes (temporary file, fsync, rename) and folders and
//! files readable by their owner only. Not for what goes in them (see the sinks) nor
//! for reading.

use std::io;
use std::path::Path;

/// Writes `data` to `path` atomically: a temporary file in the same folder, then a
/// rename, so that a reader (or a crash) never sees half a file. The data is on disk
/// (fsync) before the rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    atomic(path, |f| f.write_all(data))
}

/// Creates `dir` and its missing parents readable by their owner only (0700): an
/// inventory of an organization is sensitive. Folders already there keep their mode.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Options that create a file readable and writable by its owner only (0600).
pub fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.create(true).mode(0o600);
    o
}

/// [`write_atomic`] for data written piece by piece: `write` fills a buffered writer.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::io::Write;
    atomic(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(16 * 1024, f);
        write(&mut w)?;
        w.flush()
    })
}

/// Whether a file name is one of [`write_atomic`]'s temporary files
/// (`.<name>.tmp-<pid>`).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

fn atomic(path: &Path, write: impl FnOnce(&mut std::fs::File) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = private_file().write(true).truncate(true).open(&tmp)?;
    write(&mut f)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".ec2-describe_vpcs.json.tmp-4242"));
        assert!(is_temp_name(".summary.json.tmp-1"));
        for name in [
            "ec2-describe_vpcs.json",
            ".ec2.json.tmp-",
            ".ec2.json.tmp-12a",
            "x.tmp-12",
            ".census",
        ] {
            assert!(!is_temp_name(name), "{name}");
        }
    }
}
