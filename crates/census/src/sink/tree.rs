//! The JSON tree: the layout of aws-auto-inventory's organization scan,
//! `<out>/<scan-id>/<account-id>-<account-name>/<region|global>/<service>-<function>.json`,
//! plus `accounts.json` and `summary.json` at the top of the scan folder.
//!
//! Every file is written atomically. A journal (`.census/journal.jsonl`, one JSON
//! line per account set up and per call finished, appended after the call's file is in
//! place) lets `--resume` re-run only what did not complete.
//!
//! Memory stays flat in the size of the scan: call records are not kept; at the end
//! `summary.json` is streamed from the journal (an index of 24 bytes per call, the lines
//! read back one at a time) into a buffered file.
//!
//! Not the databases (`sink::sqlite`, `sink::postgres`), nor deciding what `--resume`
//! runs again (`scan::resume`, which reads this journal).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::shard::Shard;

use super::{AccountReport, CallRecord, DetailItem, ScanInfo, Sink, Status, Totals};
use crate::util::fs::{create_private_dir_all, is_temp_name, private_file, write_atomic_with};

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    Account(AccountReport),
    Call(CallRecord),
}

pub struct TreeSink {
    root: PathBuf,
    /// A shard of a sharded scan: its run-wide files carry the shard in their names.
    shard: Option<Shard>,
    journal: Mutex<Option<File>>,
    account_dirs: Mutex<HashMap<String, String>>,
}

impl TreeSink {
    /// A tree for scan `scan_id` under `out_dir`.
    pub fn new(out_dir: &Path, scan_id: &str) -> TreeSink {
        TreeSink {
            root: out_dir.join(scan_id),
            shard: None,
            journal: Mutex::new(None),
            account_dirs: Mutex::new(Default::default()),
        }
    }

    /// The tree of one shard of a sharded scan: the same folder as the other shards'
    /// (their account folders never overlap), with `accounts.shard-K-of-N.json`,
    /// `summary.shard-K-of-N.json` and `.census/journal.shard-K-of-N.jsonl`.
    pub fn with_shard(mut self, shard: Option<Shard>) -> TreeSink {
        self.shard = shard;
        self
    }

    /// A run-wide file of the scan folder (`summary.json`), shard-tagged in a shard.
    pub fn run_file(&self, name: &str) -> PathBuf {
        self.root.join(shard_name(self.shard.as_ref(), name))
    }

    /// The scan's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file a call's result goes to, relative to the scan folder.
    pub fn relative_path(account_dir: &str, region: &str, stem: &str) -> PathBuf {
        Path::new(account_dir)
            .join(region)
            .join(format!("{stem}.json"))
    }

    /// [`TreeSink::relative_path`], refused unless each part is one plain file name
    /// (no `/`, not `.` or `..`, no control character), so that nothing is written
    /// outside the scan folder whatever the data says.
    fn checked_path(account_dir: &str, region: &str, stem: &str) -> io::Result<PathBuf> {
        for (what, part) in [
            ("account folder", account_dir),
            ("region", region),
            ("call", stem),
        ] {
            let plain = !part.is_empty()
                && part.len() <= 200
                && part != "."
                && part != ".."
                && !part
                    .chars()
                    .any(|c| c == '/' || c == '\\' || c.is_control());
            if !plain {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "refusing to write outside the scan folder: {what} {:?} is not a plain file name",
                        crate::util::print::escape(part)
                    ),
                ));
            }
        }
        Ok(Self::relative_path(account_dir, region, stem))
    }

    fn own_journal(&self) -> PathBuf {
        Self::journal_path(&self.root, self.shard.as_ref())
    }

    fn journal_path(root: &Path, shard: Option<&Shard>) -> PathBuf {
        root.join(".census")
            .join(shard_name(shard, "journal.jsonl"))
    }

    fn append(&self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        let mut guard = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let file = guard
            .as_mut()
            .ok_or_else(|| io::Error::other("the scan was not begun"))?;
        // One write per line: a kill loses at most the line being written, which
        // read_journal skips.
        file.write_all(&line)
    }

    /// Everything a previous run of the scan in `root` recorded. A torn last line (the
    /// process was killed while writing it) is ignored.
    pub fn read_journal(root: &Path) -> io::Result<Vec<Entry>> {
        Self::read_shard_journal(root, None)
    }

    /// [`TreeSink::read_journal`] of one shard's run (`None`: an unsharded scan).
    pub fn read_shard_journal(root: &Path, shard: Option<&Shard>) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        Self::for_each_entry(&Self::journal_path(root, shard), |entry, _, _| {
            out.push(entry)
        })?;
        Ok(out)
    }

    /// Calls `f` with every readable journal entry, its byte offset and its length.
    fn for_each_entry(path: &Path, mut f: impl FnMut(Entry, u64, usize)) -> io::Result<()> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut reader = io::BufReader::with_capacity(256 * 1024, file);
        let mut line = Vec::new();
        let mut offset = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            if let Ok(entry) = serde_json::from_slice::<Entry>(&line) {
                f(entry, offset, n);
            }
            offset += n as u64;
        }
        Ok(())
    }

    /// Writes a call's result file, straight into the file through a small buffer (no
    /// copy of the whole text).
    fn write_result<T: Serialize + ?Sized>(
        &self,
        record: &CallRecord,
        result: &T,
    ) -> io::Result<()> {
        let rel = Self::checked_path(&self.account_dir(record), &record.region, &record.stem)?;
        write_atomic_with(&self.root.join(rel), |w| {
            serde_json::to_writer_pretty(&mut *w, result)?;
            w.write_all(b"\n")
        })
    }

    /// Account folder names by account id, from the account reports.
    fn account_dir(&self, record: &CallRecord) -> String {
        self.account_dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&record.account_id)
            .cloned()
            .unwrap_or_else(|| crate::account::safe_id(&record.account_id))
    }

    /// Writes summary.json from the journal: the accounts in the order given, each
    /// with its calls sorted by region and stem (the last journal line of a call wins).
    fn write_summary(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> io::Result<()> {
        let by_id: HashMap<&str, u32> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.account.id.as_str(), i as u32))
            .collect();
        // Regions and stems are few: each call keeps two small numbers for them.
        let mut names: Vec<String> = Vec::new();
        let mut name_ids: HashMap<String, u32> = HashMap::new();
        let mut intern = |s: String| -> u32 {
            if let Some(&i) = name_ids.get(&s) {
                return i;
            }
            let i = names.len() as u32;
            names.push(s.clone());
            name_ids.insert(s, i);
            i
        };
        let mut index: Vec<Line> = Vec::new();
        Self::for_each_entry(&self.own_journal(), |entry, offset, len| {
            if let Entry::Call(c) = entry {
                if let Some(&account) = by_id.get(c.account_id.as_str()) {
                    index.push(Line {
                        account,
                        region: intern(c.region),
                        stem: intern(c.stem),
                        len: len as u32,
                        offset,
                    });
                }
            }
        })?;
        // Sorted by account, region, stem, then journal order; of equal keys the last
        // line is kept.
        index.sort_by(|a, b| {
            a.account
                .cmp(&b.account)
                .then_with(|| names[a.region as usize].cmp(&names[b.region as usize]))
                .then_with(|| names[a.stem as usize].cmp(&names[b.stem as usize]))
                .then(a.offset.cmp(&b.offset))
        });
        index.dedup_by(|later, earlier| {
            if later.account == earlier.account
                && later.region == earlier.region
                && later.stem == earlier.stem
            {
                *earlier = *later;
                true
            } else {
                false
            }
        });
        let journal = File::open(self.own_journal())?;
        let summary = Summary {
            scan,
            totals,
            accounts: Accounts {
                accounts,
                index: &index,
                journal: &journal,
            },
        };
        write_atomic_with(&self.run_file("summary.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            w.write_all(b"\n")
        })
    }
}

/// Where one call's journal line is.
#[derive(Clone, Copy)]
struct Line {
    account: u32,
    region: u32,
    stem: u32,
    len: u32,
    offset: u64,
}

#[derive(Serialize)]
struct Summary<'a> {
    scan: &'a ScanInfo,
    totals: &'a Totals,
    accounts: Accounts<'a>,
}

/// The accounts of summary.json, each with its calls read back from the journal.
struct Accounts<'a> {
    accounts: &'a [AccountReport],
    /// Sorted by account.
    index: &'a [Line],
    journal: &'a File,
}

#[derive(Serialize)]
struct AccountSummary<'a> {
    account_id: &'a str,
    account_name: &'a str,
    status: Status,
    error_code: &'a Option<String>,
    error_message: &'a Option<String>,
    remediation: &'a Option<String>,
    calls: Calls<'a>,
}

struct Calls<'a> {
    lines: &'a [Line],
    journal: &'a File,
}

impl Serialize for Accounts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.accounts.len()))?;
        let mut rest = self.index;
        for (i, a) in self.accounts.iter().enumerate() {
            let n = rest.iter().take_while(|l| l.account == i as u32).count();
            let (lines, after) = rest.split_at(n);
            rest = after;
            seq.serialize_element(&AccountSummary {
                account_id: &a.account.id,
                account_name: &a.account.name,
                status: a.status,
                error_code: &a.error_code,
                error_message: &a.error_message,
                remediation: &a.remediation,
                calls: Calls {
                    lines,
                    journal: self.journal,
                },
            })?;
        }
        seq.end()
    }
}

impl Serialize for Calls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.lines.len()))?;
        let mut buf = Vec::new();
        for l in self.lines {
            buf.resize(l.len as usize, 0);
            self.journal
                .read_exact_at(&mut buf, l.offset)
                .map_err(|e| S::Error::custom(format!("reading the journal back: {e}")))?;
            match serde_json::from_slice::<Entry>(&buf) {
                Ok(Entry::Call(record)) => seq.serialize_element(&record)?,
                _ => return Err(S::Error::custom("the journal changed while it was read")),
            }
        }
        seq.end()
    }
}

impl Sink for TreeSink {
    fn name(&self) -> String {
        format!("JSON tree at {}", self.root.display())
    }

    fn begin(&self, scan: &ScanInfo) -> io::Result<()> {
        if scan.resumed {
            // Writes the killed run had under way: none is in the journal, so the
            // resumed run makes them again.
            let n = remove_temp_files(&self.root, self.shard.as_ref())?;
            if n > 0 {
                tracing::info!("removed {n} unfinished files of the interrupted run");
            }
        }
        let path = self.own_journal();
        create_private_dir_all(path.parent().unwrap())?;
        let mut file = private_file().read(true).append(true).open(&path)?;
        // A run killed while writing a line left it torn: end it, so that the next
        // line starts on its own.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        *self.journal.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
        Ok(())
    }

    fn account(&self, report: &AccountReport) -> io::Result<()> {
        self.account_dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(report.account.id.clone(), report.account.dir_name());
        self.append(&Entry::Account(report.clone()))
    }

    fn call(&self, record: &CallRecord, result: Option<&Value>) -> io::Result<()> {
        if let Some(result) = result {
            self.write_result(record, result)?;
        }
        self.append(&Entry::Call(record.clone()))
    }

    fn details(&self, record: &CallRecord, items: &[DetailItem]) -> io::Result<()> {
        self.write_result(record, items)?;
        self.append(&Entry::Call(record.clone()))
    }

    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> io::Result<()> {
        write_atomic_with(&self.run_file("accounts.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, accounts)?;
            w.write_all(b"\n")
        })?;
        if let Some(f) = self
            .journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            f.sync_all()?;
        }
        self.write_summary(scan, totals, accounts)
    }
}

/// `name`, shard-tagged in a shard (`summary.json` -> `summary.shard-2-of-4.json`).
pub fn shard_name(shard: Option<&Shard>, name: &str) -> String {
    match shard {
        Some(s) => s.file_name(name),
        None => name.to_string(),
    }
}

/// Removes the temporary files that a killed run left under `root` (a write is
/// atomic: such a file was never renamed into place, so it holds nothing the scan
/// reported). In a shard, only its own: those in the folders of accounts it owns and
/// its shard-tagged run-wide files, since other shards may be writing beside it.
/// Returns how many were removed.
pub fn remove_temp_files(root: &Path, shard: Option<&Shard>) -> io::Result<usize> {
    let mut removed = 0;
    let mut dirs = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                // Account folders are `<account id>-<name>`.
                let account = name.split('-').next().unwrap_or_default();
                let ours =
                    depth > 0 || name.starts_with('.') || shard.is_none_or(|s| s.owns(account));
                if ours {
                    dirs.push((entry.path(), depth + 1));
                }
            } else if kind.is_file()
                && is_temp_name(&name)
                && (depth > 1 || shard.is_none_or(|s| name.contains(&s.tag())))
            {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
