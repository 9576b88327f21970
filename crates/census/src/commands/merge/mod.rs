//! `census merge DIR... -o DIR`: the shards of one sharded scan (`census scan --shard
//! K/N --scan-id ID`, each in its own folder or S3 prefix) made into the one scan folder
//! and database an unsharded scan of the same accounts writes: one `accounts.json`
//! (accounts sorted by id), one `summary.json` (built by the JSON tree's own code from
//! the shards' journals, with the totals added up and `started` the earliest), the
//! account folders copied (hard-linked when on the same filesystem) unchanged, and one
//! `census.db` (every table of the schema copied row by row, the `scans` row merged,
//! links resolved across the shards, the views made).
//!
//! Everything is checked before anything is written: one scan id, one shard count,
//! every shard present and finished, the databases readable (an older schema is
//! migrated on a copy; a newer one refused), an output folder that is new or empty
//! (or `--force`). Each refusal is one line naming the folder and what is wrong.
//!
//! Not the files' formats (see [`crate::sink::tree`], [`crate::sink::sql`]) nor
//! uploading ([`crate::sink::s3`]); this reads S3 in [`s3`].

mod db;
mod files;
mod s3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

pub use crate::cli::merge::MergeFlags;
use crate::scan::resume::{plan_path, Plan};
use crate::shard::Shard;
use crate::sink::tree::{shard_name, TreeSink};
use crate::sink::{AccountReport, ScanInfo, Sink, Totals};
use crate::util::fs::create_private_dir_all;

/// One shard's run (or an unsharded scan) in a scan folder, read and checked.
struct Part {
    /// The scan folder (`census-out/<scan-id>`).
    folder: PathBuf,
    /// How the user named its source (a folder or an S3 URL), for messages.
    given: String,
    shard: Option<Shard>,
    plan: Plan,
    head: Head,
    accounts: Vec<AccountReport>,
    /// Its database; `None` when it ran with `--no-db`.
    db: Option<PathBuf>,
}

/// The head of a summary.json: what the merge needs of it (its calls are read from
/// the journal).
#[derive(Deserialize)]
struct Head {
    scan: ScanInfo,
    totals: Totals,
}

/// `shard 2 of 4`, or `the scan` for an unsharded one.
fn label(shard: Option<&Shard>) -> String {
    match shard {
        Some(s) => format!("shard {} of {}", s.index, s.count),
        None => "the unsharded scan".into(),
    }
}

/// `shard-2-of-4` back to the shard.
fn parse_tag(tag: &str) -> Option<Shard> {
    let (k, n) = tag.strip_prefix("shard-")?.split_once("-of-")?;
    let (index, count) = (k.parse().ok()?, n.parse().ok()?);
    (1..=count)
        .contains(&index)
        .then_some(Shard { index, count })
}

/// The runs a scan folder holds, from the names of its run-wide files: `None` for an
/// unsharded scan, a shard for each `shard-K-of-N` tag.
fn runs_in(folder: &Path) -> Vec<Option<Shard>> {
    let mut found: Vec<Option<Shard>> = Vec::new();
    let mut add = |run: Option<Shard>| {
        if !found.contains(&run) {
            found.push(run);
        }
    };
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (dir, stem, ext) in [
        (folder.to_path_buf(), "summary", "json"),
        (folder.to_path_buf(), "accounts", "json"),
        (folder.join(".census"), "plan", "json"),
        (folder.join(".census"), "journal", "jsonl"),
    ] {
        for name in names(&dir) {
            if name == format!("{stem}.{ext}") {
                add(None);
            } else if let Some(tag) = name
                .strip_prefix(&format!("{stem}."))
                .and_then(|r| r.strip_suffix(&format!(".{ext}")))
            {
                if let Some(s) = parse_tag(tag) {
                    add(Some(s));
                }
            }
        }
    }
    found.sort_by_key(|r| r.map(|s| (s.count, s.index)));
    found
}

/// The scan folder a source names: the folder itself when it is one, else the one
/// scan folder in it (an output folder, `census-out`).
fn scan_folder(dir: &Path, given: &str) -> Result<PathBuf> {
    if !dir.is_dir() {
        bail!(
            "{given}: {}; give a scan folder (census-out/<scan-id>) or the output folder holding it",
            if dir.exists() {
                "not a folder"
            } else {
                "no such folder"
            }
        );
    }
    if !runs_in(dir).is_empty() {
        return Ok(dir.to_path_buf());
    }
    let mut scans: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{given}: cannot read it"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !runs_in(p).is_empty())
        .collect();
    scans.sort();
    match scans.len() {
        1 => Ok(scans.remove(0)),
        0 => bail!(
            "{given}: not a census scan folder (no summary.json, accounts.json or .census/plan.json, nor a scan folder holding them); give the folder census scan wrote (census-out/<scan-id>) or its output folder"
        ),
        _ => bail!(
            "{given}: holds several scans ({}); give the scan folder to merge, e.g. {}",
            scans
                .iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy())
                .collect::<Vec<_>>()
                .join(", "),
            scans[0].display()
        ),
    }
}

/// Reads a JSON file of a scan folder; the error names it.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, given: &str) -> Result<T> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow!("{given}: cannot read {}: {e}", path.display()))?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
        anyhow!(
            "{given}: {} is damaged ({e}); copy the scan folder again, whole",
            path.display()
        )
    })
}

/// The command that finishes an interrupted run.
fn resume_command(folder: &Path, shard: Option<&Shard>) -> String {
    format!(
        "census scan --resume {}{}",
        folder.display(),
        shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
    )
}

/// Reads and checks one run of a scan folder.
fn read_part(folder: &Path, given: &str, shard: Option<Shard>, no_db: bool) -> Result<Part> {
    let what = label(shard.as_ref());
    let file = |name: &str| folder.join(shard_name(shard.as_ref(), name));
    let plan_file = plan_path(folder, shard.as_ref());
    let journal = folder
        .join(".census")
        .join(shard_name(shard.as_ref(), "journal.jsonl"));
    let summary = file("summary.json");
    let resume = resume_command(folder, shard.as_ref());
    if !plan_file.is_file() {
        bail!(
            "{given}: {what} is incomplete: no .census/{} in {}; copy the whole scan folder (with its .census folder)",
            plan_file.file_name().unwrap_or_default().to_string_lossy(),
            folder.display()
        );
    }
    if !summary.is_file() {
        bail!(
            "{given}: {what} did not finish: no {} in {}; finish it with {resume}, then merge",
            summary.file_name().unwrap_or_default().to_string_lossy(),
            folder.display()
        );
    }
    if !journal.is_file() {
        bail!(
            "{given}: {what} is incomplete: no .census/{} in {}; copy the whole scan folder (with its .census folder)",
            journal.file_name().unwrap_or_default().to_string_lossy(),
            folder.display()
        );
    }
    let plan: Plan = read_json(&plan_file, given)?;
    plan.check().map_err(|e| {
        anyhow!(
            "{given}: {} was changed or damaged ({e}); merge only folders census wrote",
            plan_file.display()
        )
    })?;
    if plan.shard != shard {
        bail!(
            "{given}: {} was planned for {}, but its name says {what}; merge only folders census wrote",
            plan_file.display(),
            label(plan.shard.as_ref())
        );
    }
    let head: Head = read_json(&summary, given)?;
    let accounts_file = file("accounts.json");
    let accounts: Vec<AccountReport> = read_json(&accounts_file, given)?;
    if head.scan.id != plan.info.id {
        bail!(
            "{given}: {} is of scan {}, its plan of scan {}; copy the scan folder again, whole",
            summary.display(),
            head.scan.id,
            plan.info.id
        );
    }
    // A resumed run that was stopped leaves the earlier run's summary: its accounts
    // are all there only when the last run finished.
    let listed: std::collections::HashSet<&str> =
        accounts.iter().map(|a| a.account.id.as_str()).collect();
    let missing = plan
        .accounts
        .iter()
        .filter(|a| !listed.contains(a.id.as_str()))
        .count();
    if missing > 0 {
        bail!(
            "{given}: {what} did not finish: {} lists {} of the {} accounts of its plan; finish it with {resume}, then merge",
            accounts_file.display(),
            accounts.len(),
            plan.accounts.len()
        );
    }
    // Its --db, else the default beside the scan folder; a --db path of another
    // machine, or one a download put beside the folder, is looked for there too.
    let db = if plan.no_db || no_db {
        None
    } else {
        let beside = |name: &std::ffi::OsStr| folder.parent().unwrap_or(Path::new(".")).join(name);
        let default = beside(shard_name(shard.as_ref(), crate::store::DB_FILE).as_ref());
        let candidates: Vec<PathBuf> = match &plan.db {
            Some(db) => vec![
                db.clone(),
                beside(db.file_name().unwrap_or_default()),
                default,
            ],
            None => vec![default],
        };
        candidates
            .iter()
            .find(|p| p.is_file())
            .or(candidates.first())
            .cloned()
    };
    Ok(Part {
        folder: folder.to_path_buf(),
        given: given.to_string(),
        shard,
        plan,
        head,
        accounts,
        db,
    })
}

/// The same path, however written (for sources given twice, and the output's checks).
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.into()))
}

/// Checks that the parts are the shards of one scan, each once, none missing; returns
/// them in shard order.
fn check_parts(mut parts: Vec<Part>, searched: &[String]) -> Result<Vec<Part>> {
    // A folder given twice (or a folder and the output folder holding it) is one source.
    let mut seen = std::collections::HashSet::new();
    parts.retain(|p| seen.insert((canonical(&p.folder), p.shard.map(|s| (s.index, s.count)))));
    let first = &parts[0];
    for p in &parts[1..] {
        if p.plan.info.id != first.plan.info.id {
            bail!(
                "{}: scan {}, but {} is scan {}: merge the shards of one scan (one --scan-id)",
                p.given,
                p.plan.info.id,
                first.given,
                first.plan.info.id
            );
        }
    }
    let unsharded: Vec<&Part> = parts.iter().filter(|p| p.shard.is_none()).collect();
    if let Some(u) = unsharded.first() {
        if parts.len() > 1 {
            let other = parts
                .iter()
                .find(|p| !std::ptr::eq(*p, *u))
                .expect("two parts");
            bail!(
                "{}: holds an unsharded scan {}, and {} {}: an unsharded scan is merged alone (it is copied); give it alone, or only the shards",
                u.given,
                u.plan.info.id,
                other.given,
                match other.shard {
                    Some(s) => format!("holds {}", label(Some(&s))),
                    None => "another unsharded run of it".into(),
                }
            );
        }
        return Ok(parts);
    }
    let count = first.shard.expect("sharded").count;
    let (first_given, first_index, scan_id) = (
        first.given.clone(),
        first.shard.expect("sharded").index,
        first.plan.info.id.clone(),
    );
    for p in &parts {
        let s = p.shard.expect("sharded");
        if s.count != count {
            bail!(
                "{}: holds shard {} of {}, but {} holds shard {} of {}: the shards of one scan have one count; merge the {count} shards of one run",
                p.given,
                s.index,
                s.count,
                first_given,
                first_index,
                count
            );
        }
    }
    parts.sort_by_key(|p| p.shard.expect("sharded").index);
    for pair in parts.windows(2) {
        if pair[0].shard == pair[1].shard {
            bail!(
                "{} is given twice: in {} and in {}; give each shard once",
                label(pair[0].shard.as_ref()),
                pair[0].folder.display(),
                pair[1].folder.display()
            );
        }
    }
    for k in 1..=count {
        if !parts.iter().any(|p| p.shard.expect("sharded").index == k) {
            let s = Shard { index: k, count };
            bail!(
                "shard {k} of {count} is missing: no {} in {}; give the folder of every shard (census scan --shard {s} --scan-id {} writes it)",
                s.file_name("summary.json"),
                searched.join(", "),
                scan_id
            );
        }
    }
    Ok(parts)
}

/// The output folder must be new or empty, unless `--force`.
fn check_output(out: &Path, force: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!(
            "-o {}: is a file, not a folder; give a new or empty folder",
            out.display()
        );
    }
    let empty = std::fs::read_dir(out)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true);
    if !empty && !force {
        bail!(
            "-o {}: exists and is not empty; give a new or empty folder, or add --force to merge into it (its folder of this scan is replaced, its census.db keeps its other scans)",
            out.display()
        );
    }
    Ok(())
}

/// The output must not be where a shard lives: it would be written over while read.
fn check_overlap(out: &Path, scan_id: &str, parts: &[Part]) -> Result<()> {
    let dest = canonical(&out.join(scan_id));
    let out_db = canonical(&out.join(crate::store::DB_FILE));
    for p in parts {
        let folder = canonical(&p.folder);
        if dest == folder || folder.starts_with(&dest) || canonical(out).starts_with(&folder) {
            bail!(
                "-o {}: would write over {} ({}); give another output folder",
                out.display(),
                p.folder.display(),
                p.given
            );
        }
        if let Some(db) = &p.db {
            if canonical(db) == out_db {
                bail!(
                    "-o {}: would write over {}, the database of {}; give another output folder",
                    out.display(),
                    db.display(),
                    p.given
                );
            }
        }
    }
    Ok(())
}

/// The merged scan: the earliest start, resumed when any shard was, shard 1's version
/// and left-out entries (the shards ran one plan).
fn merged_info(parts: &[Part]) -> ScanInfo {
    let mut info = parts[0].head.scan.clone();
    for p in &parts[1..] {
        if p.head.scan.started < info.started {
            info.started = p.head.scan.started.clone();
        }
        info.resumed |= p.head.scan.resumed;
        if p.head.scan.version != info.version {
            eprintln!(
                "census: warning: {} ran census {}, {} census {}; the merged scan says {}",
                label(p.shard.as_ref()),
                p.head.scan.version,
                label(parts[0].shard.as_ref()),
                info.version,
                info.version
            );
        }
    }
    info
}

/// The merged totals: the calls' counts added (the shards' calls are disjoint), the
/// accounts counted again.
fn merged_totals(parts: &[Part], accounts: &[AccountReport]) -> Totals {
    let mut t = Totals {
        accounts: accounts.len() as u64,
        accounts_failed: accounts.iter().filter(|a| !a.is_ok()).count() as u64,
        ..Totals::default()
    };
    for p in parts {
        let s = &p.head.totals;
        t.calls += s.calls;
        t.calls_failed += s.calls_failed;
        t.items += s.items;
        t.pages += s.pages;
        t.absent += s.absent;
    }
    t
}

/// Removes what a failed merge wrote (not what was in the output folder before).
struct Cleanup {
    out: PathBuf,
    created: bool,
    paths: Vec<PathBuf>,
    done: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.created {
            let _ = std::fs::remove_dir_all(&self.out);
            return;
        }
        for p in &self.paths {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

pub async fn run(args: MergeFlags) -> Result<u8> {
    let started = std::time::Instant::now();
    let out = args.output_dir.clone();
    let mut locals = Vec::new();
    let mut remotes = Vec::new();
    for s in &args.sources {
        if s.starts_with("s3://") {
            remotes.push(crate::sink::s3::S3Url::parse(s).map_err(|e| anyhow!("{s}: {e}"))?);
        } else {
            locals.push(s.clone());
        }
    }
    if let Some(r) = args.base.region.as_ref().or(args.s3_region.as_ref()) {
        crate::regions::check_region(r).map_err(|e| anyhow!("--region/--s3-region: {e}"))?;
    }
    check_output(&out, args.force)?;
    let mut sources: Vec<(String, PathBuf)> = Vec::new();
    for l in &locals {
        sources.push((l.clone(), scan_folder(Path::new(l), l)?));
    }
    let created = !out.exists();
    let staging = out.join(format!(".census-merge-{}", std::process::id()));
    let mut cleanup = Cleanup {
        out: out.clone(),
        created,
        paths: vec![staging.clone()],
        done: false,
    };
    if !remotes.is_empty() {
        args.base.check().await?;
        let connection = crate::session::Connection::open(&args.base, None).await?;
        create_private_dir_all(&staging)
            .with_context(|| format!("-o {}: cannot create it", out.display()))?;
        for (i, url) in remotes.iter().enumerate() {
            let local = staging.join(format!("s3-{i}"));
            let folder = s3::download(&connection, url, args.s3_region.as_deref(), &local).await?;
            sources.push((url.to_string(), folder));
        }
    }
    let mut parts = Vec::new();
    for (given, folder) in &sources {
        for run in runs_in(folder) {
            parts.push(read_part(folder, given, run, args.no_db)?);
        }
    }
    let searched: Vec<String> = sources.iter().map(|(g, _)| g.clone()).collect();
    if parts.is_empty() {
        bail!(
            "{}: no scan to merge; give the shards' scan folders",
            searched.join(", ")
        );
    }
    let parts = check_parts(parts, &searched)?;
    let scan_id = parts[0].plan.info.id.clone();
    check_overlap(&out, &scan_id, &parts)?;
    let with_db = parts.iter().filter(|p| p.db.is_some()).count();
    if with_db > 0 && with_db < parts.len() {
        let none = parts.iter().find(|p| p.db.is_none()).expect("one without");
        let some = parts.iter().find(|p| p.db.is_some()).expect("one with");
        bail!(
            "{}: {} wrote no database (--no-db), but {} did: add --no-db to merge the folders only",
            none.given,
            label(none.shard.as_ref()),
            label(some.shard.as_ref())
        );
    }
    let inputs: Vec<db::Input> = parts
        .iter()
        .filter_map(|p| {
            p.db.as_ref().map(|path| db::Input {
                path: path.clone(),
                what: format!("{}: {}", p.given, label(p.shard.as_ref())),
                resume: resume_command(&p.folder, p.shard.as_ref()),
            })
        })
        .collect();
    for input in &inputs {
        db::check(input, &scan_id)?;
    }

    // Checked: now written.
    let dest = out.join(&scan_id);
    let out_db = out.join(crate::store::DB_FILE);
    create_private_dir_all(&out)
        .with_context(|| format!("-o {}: cannot create it", out.display()))?;
    if dest.exists() {
        std::fs::remove_dir_all(&dest)
            .with_context(|| format!("--force: cannot remove {}", dest.display()))?;
    }
    cleanup.paths.push(dest.clone());
    if !out_db.exists() {
        cleanup.paths.push(out_db.clone());
    }
    let mut linked = files::Counts::default();
    let totals = if parts.len() == 1 && parts[0].shard.is_none() {
        let p = &parts[0];
        linked.add(files::copy_tree(&p.folder, &dest, &|_, _| true)?);
        p.head.totals.clone()
    } else {
        for p in &parts {
            let shard = p.shard.expect("sharded");
            linked.add(files::copy_accounts(&p.folder, &dest, &shard)?);
        }
        write_run_files(&parts, &dest, &out, inputs.is_empty())?
    };
    if !inputs.is_empty() {
        db::merge(&out_db, &inputs, &scan_id, &staging)?;
    }
    cleanup.done = true;
    let _ = std::fs::remove_dir_all(&staging);
    eprintln!(
        "census: merged {} of scan {scan_id}: {} accounts ({} failed), {} calls ({} failed), {} items -> {}{} ({} files linked, {} copied) in {:.1}s",
        match parts.len() {
            1 if parts[0].shard.is_none() => "the unsharded scan".to_string(),
            n => format!("{n} shards"),
        },
        totals.accounts,
        totals.accounts_failed,
        totals.calls,
        totals.calls_failed,
        totals.items,
        dest.display(),
        if inputs.is_empty() {
            String::new()
        } else {
            format!(" and {}", out_db.display())
        },
        linked.linked,
        linked.copied,
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// The merged scan folder's run-wide files: the journal (the shards' journals one
/// after the other), the plan (every account, no shard) and, through the JSON tree's
/// own code, `accounts.json` and `summary.json`.
fn write_run_files(parts: &[Part], dest: &Path, out: &Path, no_db: bool) -> Result<Totals> {
    let scan_id = parts[0].plan.info.id.clone();
    let info = merged_info(parts);
    let mut accounts: Vec<AccountReport> = parts
        .iter()
        .flat_map(|p| p.accounts.iter().cloned())
        .collect();
    accounts.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    let totals = merged_totals(parts, &accounts);
    let journals: Vec<PathBuf> = parts
        .iter()
        .map(|p| {
            p.folder
                .join(".census")
                .join(shard_name(p.shard.as_ref(), "journal.jsonl"))
        })
        .collect();
    files::concat(&journals, &dest.join(".census").join("journal.jsonl"))?;
    let mut plan_accounts: BTreeMap<String, crate::account::Account> = BTreeMap::new();
    for p in parts {
        for a in &p.plan.accounts {
            plan_accounts.insert(a.id.clone(), a.clone());
        }
    }
    // Shard 1's plan (the shards ran one), for every account and no shard.
    let mut plan: Plan = serde_json::from_value(serde_json::to_value(&parts[0].plan)?)?;
    plan.info = info.clone();
    plan.accounts = plan_accounts.into_values().collect();
    plan.shard = None;
    plan.db = None;
    plan.no_db = no_db;
    plan.write(dest)
        .with_context(|| format!("cannot write the plan into {}", dest.display()))?;
    let tree = TreeSink::new(out, &scan_id);
    let written = tree
        .begin(&info)
        .and_then(|()| tree.finish(&info, &totals, &accounts));
    written.with_context(|| {
        format!(
            "cannot write accounts.json and summary.json into {}",
            dest.display()
        )
    })?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_labels() {
        assert_eq!(
            parse_tag("shard-2-of-4"),
            Some(Shard { index: 2, count: 4 })
        );
        assert_eq!(parse_tag("shard-5-of-4"), None);
        assert_eq!(parse_tag("shard-0-of-4"), None);
        assert_eq!(parse_tag("shard-x-of-4"), None);
        assert_eq!(parse_tag("2-of-4"), None);
        assert_eq!(label(Some(&Shard { index: 3, count: 4 })), "shard 3 of 4");
    }

    #[test]
    fn runs_are_found_by_their_file_names() {
        let dir = std::env::temp_dir().join(format!("census-merge-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".census")).unwrap();
        assert!(runs_in(&dir).is_empty());
        std::fs::write(dir.join(".census/plan.shard-2-of-3.json"), "{}").unwrap();
        std::fs::write(dir.join("summary.shard-1-of-3.json"), "{}").unwrap();
        std::fs::write(dir.join("accounts.shard-1-of-3.json"), "{}").unwrap();
        std::fs::write(dir.join("report.shard-1-of-3.html"), "").unwrap();
        std::fs::write(dir.join("summary.shard-9-of-3.json"), "{}").unwrap();
        assert_eq!(
            runs_in(&dir),
            [
                Some(Shard { index: 1, count: 3 }),
                Some(Shard { index: 2, count: 3 })
            ]
        );
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        assert_eq!(runs_in(&dir)[0], None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
