//! The merge's file work: account folders hard-linked (or copied, across filesystems)
//! into the merged scan folder unchanged, and the shards' journals joined.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::shard::Shard;
use crate::util::fs::{create_private_dir_all, is_temp_name, private_file};

/// How files came into the merged folder.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Hard-linked: the same file, no bytes copied.
    pub linked: u64,
    /// Copied (another filesystem, or a link refused).
    pub copied: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.linked += other.linked;
        self.copied += other.copied;
    }
}

/// Puts `from` at `to`: a hard link when the filesystem allows, else a copy (which
/// keeps the file's mode).
fn place(from: &Path, to: &Path, counts: &mut Counts) -> Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        counts.linked += 1;
        return Ok(());
    }
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    counts.copied += 1;
    Ok(())
}

/// Every file under `from` into `to`, the same relative paths, folders created
/// readable by their owner only; of `from`'s own entries only those `keep(name,
/// is_folder)` says. Temporary files of unfinished atomic writes are left out.
pub fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&str, bool) -> bool) -> Result<Counts> {
    let mut counts = Counts::default();
    create_private_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut dirs = vec![(from.to_path_buf(), to.to_path_buf(), true)];
    while let Some((src, dst, top)) = dirs.pop() {
        let entries =
            std::fs::read_dir(&src).with_context(|| format!("cannot read {}", src.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", src.display()))?;
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            if top && !keep(&name_str, kind.is_dir()) {
                continue;
            }
            let target = dst.join(&name);
            if kind.is_dir() {
                create_private_dir_all(&target)
                    .with_context(|| format!("cannot create {}", target.display()))?;
                dirs.push((entry.path(), target, false));
            } else if kind.is_file() && !is_temp_name(&name_str) {
                place(&entry.path(), &target, &mut counts)?;
            }
        }
    }
    Ok(counts)
}

/// The account folders (`<account id>-<name>`) of `shard` in the scan folder `folder`
/// into `dest`: only those the shard owns, so that shards sharing one folder are each
/// copied once.
pub fn copy_accounts(folder: &Path, dest: &Path, shard: &Shard) -> Result<Counts> {
    copy_tree(folder, dest, &|name, is_dir| {
        is_dir && !name.starts_with('.') && shard.owns(name.split('-').next().unwrap_or_default())
    })
}

/// The files `inputs` one after the other into `out` (readable by its owner only), each
/// ended by a newline: a journal torn by a kill keeps its torn line to itself.
pub fn concat(inputs: &[std::path::PathBuf], out: &Path) -> Result<()> {
    if let Some(dir) = out.parent() {
        create_private_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = private_file()
        .write(true)
        .truncate(true)
        .open(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
    for input in inputs {
        let mut r = std::fs::File::open(input)
            .with_context(|| format!("cannot read {}", input.display()))?;
        let n = std::io::copy(&mut r, &mut w)
            .with_context(|| format!("cannot copy {} to {}", input.display(), out.display()))?;
        if n > 0 {
            let mut last = [0u8];
            use std::os::unix::fs::FileExt;
            r.read_exact_at(&mut last, n - 1)
                .with_context(|| format!("cannot read {}", input.display()))?;
            if last[0] != b'\n' {
                w.write_all(b"\n")?;
            }
        }
    }
    w.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_and_journals() {
        let dir = std::env::temp_dir().join(format!("census-merge-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("111111111111-a/us-east-1")).unwrap();
        std::fs::create_dir_all(src.join(".census")).unwrap();
        std::fs::write(src.join("111111111111-a/us-east-1/x.json"), "[]\n").unwrap();
        std::fs::write(src.join("111111111111-a/us-east-1/.y.json.tmp-12"), "[").unwrap();
        std::fs::write(src.join("summary.json"), "{}").unwrap();
        let shard = Shard {
            index: Shard::of("111111111111", 2),
            count: 2,
        };
        let other = Shard {
            index: 3 - shard.index,
            count: 2,
        };
        let n = copy_accounts(&src, &dir.join("a"), &shard).unwrap();
        assert_eq!(n.linked + n.copied, 1);
        assert_eq!(
            std::fs::read(dir.join("a/111111111111-a/us-east-1/x.json")).unwrap(),
            b"[]\n"
        );
        assert!(!dir.join("a/summary.json").exists());
        assert!(!dir
            .join("a/111111111111-a/us-east-1/.y.json.tmp-12")
            .exists());
        let n = copy_accounts(&src, &dir.join("b"), &other).unwrap();
        assert_eq!(n, Counts::default());

        std::fs::write(dir.join("j1"), "a\ntorn").unwrap();
        std::fs::write(dir.join("j2"), "").unwrap();
        std::fs::write(dir.join("j3"), "b\n").unwrap();
        concat(
            &[dir.join("j1"), dir.join("j2"), dir.join("j3")],
            &dir.join("out/j"),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("out/j")).unwrap(),
            "a\ntorn\nb\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
