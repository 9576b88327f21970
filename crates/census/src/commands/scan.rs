//! `census scan`: the flags turned into a validated scan (discovery, access, spec,
//! sinks), run, and summarized. Exit status 0 complete, 2 complete with failed calls or
//! accounts (summary.json says which), 1 could not run.
//!
//! Command glue only: the resume plan is `scan::resume`, planning and running the
//! calls `scan`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::scan_accounts;
use crate::account::Account;
use crate::auth::Access;
use crate::cli::ScanFlags;
use crate::regions::check_region;
use crate::scan::resume::{self, plan_path, Plan};
use crate::scan::{self, AccessFailure, BoxFuture, CredentialSource, Options, Scan};
use crate::session::Connection;
use crate::shard::{check_scan_id, Shard};
use crate::sink::tree::{shard_name, TreeSink};
use crate::sink::{ScanInfo, Sink};
use crate::spec::{self, Preset};
use anyhow::{anyhow, bail, Context, Result};

/// Credentials through `auth::Access`.
struct AccessSource(Access);

impl CredentialSource for AccessSource {
    fn credentials<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<
        'a,
        Result<aws_credential_types::provider::SharedCredentialsProvider, AccessFailure>,
    > {
        Box::pin(async move {
            self.0
                .credentials(account)
                .await
                .map_err(|e| AccessFailure {
                    code: e.code.clone(),
                    message: e.to_string(),
                    remediation: Some(e.remediation.clone()).filter(|r| !r.is_empty()),
                    retryable: e.retryable,
                })
        })
    }

    fn release(&self, account: &Account) {
        self.0.release(account);
    }
}

/// A new scan's id: the time, with `-2`, `-3`... when the output folder or the
/// PostgreSQL database has it already (the database's claim is atomic).
fn scan_id(out: &Path, postgres: Option<&crate::sink::postgres::PostgresSink>) -> Result<String> {
    let base = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut id = base.clone();
    let mut n = 1;
    loop {
        if !out.join(&id).exists() {
            match postgres {
                None => return Ok(id),
                Some(pg) => {
                    if pg.claim_scan_id(&id)? {
                        return Ok(id);
                    }
                }
            }
        }
        n += 1;
        id = format!("{base}-{n}");
    }
}

/// The base credentials' expiry, when it has passed: credentials from the
/// environment, a `credential_process` or an SSO cache that ran out. `None` when they
/// have no expiry or it is ahead.
async fn expired_at(base: &crate::auth::Base) -> Option<String> {
    use aws_credential_types::provider::ProvideCredentials;
    use tracing::instrument::WithSubscriber;
    // The credentials cache warns about credentials that arrive expired ("is the clock
    // right?"); here the error below says it, with the fix, once.
    let credentials = base
        .credentials
        .provide_credentials()
        .with_subscriber(tracing::subscriber::NoSubscriber::default())
        .await
        .ok()?;
    let expiry = credentials.expiry()?;
    (expiry <= std::time::SystemTime::now()).then(|| {
        chrono::DateTime::<chrono::Utc>::from(expiry)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

/// What to do after refreshing expired credentials: run the scan again, or resume it.
fn after_refresh(resume: Option<&Path>, shard: Option<&Shard>) -> String {
    match resume {
        Some(dir) => format!(
            "resume with census scan --resume {}{}",
            dir.display(),
            shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
        ),
        None => "run the scan again".into(),
    }
}

/// The output folder must be a folder Census can write in, or one it can create.
/// Checked before anything is written, and without leaving anything: a probe folder is
/// made and removed in the output folder, or in its nearest existing parent.
fn check_output_dir(dir: &Path) -> Result<()> {
    let fix = "give a folder you can write to with -o/--output-dir";
    let existing = dir
        .ancestors()
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        bail!(
            "--output-dir {}: {} is a file, not a folder; {fix}",
            dir.display(),
            existing.display()
        );
    }
    let probe = existing.join(format!(".census-probe-{}", std::process::id()));
    std::fs::create_dir(&probe).map_err(|e| {
        anyhow!(
            "--output-dir {}: cannot write in {} ({e}); {fix}",
            dir.display(),
            existing.display()
        )
    })?;
    let _ = std::fs::remove_dir(&probe);
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM; after the first, a second one ends the process
/// at once.
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    eprintln!(
        "census: interrupted: finishing the writes under way (press Ctrl-C again to stop at once)"
    );
    exit_on_signal(int, term);
}

/// From now on, Ctrl-C or SIGTERM end the process at once with status 130 (Census's
/// handlers replaced the default ones, which would have done that).
fn exit_on_signal(mut int: tokio::signal::unix::Signal, mut term: tokio::signal::unix::Signal) {
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
}

/// The spec the flags give: scan files, presets (core when neither), `--details`;
/// `strict` as `--strict`.
pub(super) async fn load_spec(args: &ScanFlags, strict: bool) -> Result<spec::Spec> {
    let mut presets = Vec::new();
    for p in &args.preset {
        presets.push(
            p.parse::<Preset>()
                .map_err(|e| anyhow!("--preset {p}: {e}"))?,
        );
    }
    if presets.is_empty() && args.scan.is_empty() {
        presets.push(Preset::Core);
    }
    let details = args
        .details
        .parse::<spec::DetailsMode>()
        .map_err(|e| anyhow!(e))?;
    Ok(spec::load(&args.scan, &presets, details, strict).await?)
}

/// One warning line for the entries left out with a reason, counted by reason; each
/// at debug level (summary.json and `--plan` list them too).
fn warn_skipped(skipped: &[spec::Planned]) {
    if skipped.is_empty() {
        return;
    }
    let by_reason: Vec<String> = spec::fate_counts(skipped)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(fate, n)| format!("{n} {}", fate.label()))
        .collect();
    eprintln!(
        "census: warning: leaving out {} scan file entries that cannot run ({}); census scan --plan lists them, and summary.json",
        skipped.len(),
        by_reason.join(", ")
    );
    for p in skipped {
        tracing::debug!(
            "left out: {} {} {}: {} ({})",
            p.origin,
            p.service,
            p.function,
            p.fate.label(),
            p.note
        );
    }
}

pub async fn run(mut args: ScanFlags) -> Result<u8> {
    // Lists without repeats; `$CENSUS_POSTGRES_URL` when --postgres is not given.
    for list in [
        &mut args.scan,
        &mut args.preset,
        &mut args.regions,
        &mut args.skip,
    ] {
        *list = crate::cli::dedup(std::mem::take(list));
    }
    args.postgres = crate::store::postgres::PgUrl::from_flag_or_env(args.postgres.take());
    if args.html && args.no_db && args.postgres.is_none() {
        bail!(
            "--html reads the scan back from its database: leave out --no-db, or give --postgres"
        );
    }
    if args.plan {
        return super::plan::run(&args).await;
    }
    if args.output.is_some() {
        bail!("--output prints the plan: give it with --plan");
    }
    // Calls in flight per account: aws-auto-inventory's --concurrent-regions x
    // --concurrent-services.
    let per_account = match (args.concurrent_regions, args.concurrent_services) {
        (None, None) => None,
        (r, s) => Some(r.unwrap_or(1).saturating_mul(s.unwrap_or(1))),
    };
    // Everything that can be checked offline is checked before any call.
    for r in &args.regions {
        check_region(r).map_err(|e| anyhow!("--regions: {e}"))?;
    }
    if let Some(r) = &args.base.region {
        check_region(r).map_err(|e| anyhow!("--region: {e}"))?;
    }
    let s3_upload = match &args.s3_upload {
        Some(u) => Some(crate::sink::s3::S3Url::parse(u).map_err(|e| anyhow!("--s3-upload: {e}"))?),
        None => None,
    };
    let retry = {
        let mut cfg = awsdyn::retry::RetryConfig::from_env()?;
        if let Some(n) = args.max_retries {
            cfg.max_attempts = n.saturating_add(1);
        }
        if let Some(d) = args.retry_delay {
            cfg.base_delay = Duration::from_secs_f64(d);
        }
        // Throttling is retried for as long as the call's timeout allows (awsdyn's
        // retry module says why); the scan also gives each call its deadline.
        cfg.time_budget = Duration::from_secs(args.call_timeout);
        if let Some(m) = &args.retry_mode {
            cfg.mode = m.parse().map_err(|e| anyhow!("--retry-mode: {e}"))?;
        }
        cfg
    };
    let shard = match &args.shard {
        Some(s) => Some(Shard::parse_env(s).map_err(|e| anyhow!("--shard {e}"))?),
        None => None,
    };
    if let Some(id) = &args.scan_id {
        check_scan_id(id).map_err(|e| anyhow!("--scan-id: {e}"))?;
        if args.resume.is_some() {
            bail!("--scan-id and --resume: a resumed scan keeps its id; leave out --scan-id");
        }
    }
    let skip = spec::Skip::parse(&args.skip).map_err(anyhow::Error::msg)?;
    if args.resume.is_some() && !args.skip.is_empty() {
        bail!("--skip and --resume: a resumed scan makes the calls it planned; leave out --skip");
    }
    args.targets.roles.check_token_file()?;
    args.base.check().await?;
    if args.resume.is_none() {
        check_output_dir(&args.output_dir)?;
    }
    // The accounts flags of a new scan (a resumed scan keeps its plan's accounts).
    let account_options = match &args.resume {
        Some(_) => None,
        None => Some(args.targets.accounts.options()?),
    };
    let resumed = match &args.resume {
        Some(dir) => {
            let plan = Plan::read(dir, shard.as_ref())?;
            let explicit_db = args
                .db
                .as_ref()
                .map(|p| std::path::absolute(p).unwrap_or(p.clone()));
            plan.check_db(dir, explicit_db.as_deref(), args.no_db)?;
            Some(plan)
        }
        None => None,
    };
    let resumed_db = resumed.as_ref().map(|p| (p.db.clone(), p.no_db));
    let max_details_per_call = match &resumed {
        Some(plan) => plan.max_details_per_call,
        None => args.max_details_per_call,
    };
    let mut skipped_entries = Vec::new();
    let spec_calls: Vec<spec::Call> = match &resumed {
        Some(plan) => plan.compiled_calls()?,
        None => {
            let loaded = load_spec(&args, args.strict).await?;
            if loaded.calls.is_empty() {
                // Nothing can run: each entry's own error says why, as with --strict.
                load_spec(&args, true).await?;
                bail!("no entry of the scan files can run (census scan --plan says why for each); give a scan file or preset with a call Census can make");
            }
            skipped_entries = loaded.skipped();
            warn_skipped(&skipped_entries);
            let mut calls = loaded.calls;
            for c in &mut calls {
                c.details
                    .retain(|d| !skip.skips_operation(&d.service, &d.operation));
            }
            let (kept, skipped): (Vec<spec::Call>, Vec<spec::Call>) =
                calls.into_iter().partition(|c| !skip.skips(c));
            if !skipped.is_empty() {
                tracing::info!(
                    "leaving out {} calls (--skip {})",
                    skipped.len(),
                    skip.names().join(",")
                );
            }
            if kept.is_empty() {
                bail!("--skip {}: leaves no call to make; skip fewer calls, or give a scan file or preset with others", skip.names().join(","));
            }
            kept
        }
    };
    let role_options = args.targets.roles.role_options();
    role_options.check()?;

    let connection = Connection::open(&args.base, Some(retry)).await?;
    if let Some(at) = expired_at(&connection.base).await {
        bail!(
            "the base credentials expired at {at}: run aws sso login{} (or refresh them) and {}",
            args.base
                .profile
                .as_deref()
                .map(|p| format!(" --profile {p}"))
                .unwrap_or_default(),
            after_refresh(args.resume.as_deref(), shard.as_ref())
        );
    }
    let endpoints = connection.base.endpoints.clone();
    // PostgreSQL is reached before anything is scanned, and a new scan claims its id
    // there, so that scanners starting in the same second get different ids.
    // This run's row in scan_shards: its shard (1/1 unsharded) and its flags.
    let shard_run = crate::sink::sql::shards::ShardRun {
        shard: shard.unwrap_or(Shard { index: 1, count: 1 }),
        flags: crate::shard::recorded_flags(scan_args()),
    };
    let postgres = match &args.postgres {
        Some(url) => Some(Arc::new(
            crate::sink::postgres::PostgresSink::open(url)?
                .with_inventory(!args.no_inventory)
                .with_shard(shard_run.clone()),
        )),
        None => None,
    };
    // The scan id names the scan folder and, unless --session-name says otherwise, the
    // role sessions (so CloudTrail shows which scan made a call).
    // A given id (shards of one scan share it) is joined, not claimed.
    let scan_id = match (&resumed, &args.scan_id) {
        (Some(plan), _) => plan.info.id.clone(),
        (None, Some(id)) => {
            let existing = plan_path(&args.output_dir.join(id), shard.as_ref());
            if existing.exists() {
                bail!("--scan-id {id}: {} already holds this scan{}; finish it with --resume {}, or choose another --scan-id",
                    args.output_dir.join(id).display(),
                    shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
                    args.output_dir.join(id).display());
            }
            id.clone()
        }
        (None, None) => scan_id(&args.output_dir, postgres.as_deref())?,
    };
    let mut role_options = role_options;
    if role_options.session_name.is_none() {
        role_options.session_name = Some(format!("census-{scan_id}"));
    }
    // The bucket is checked before the scan, not found wrong hours later.
    let upload = match s3_upload {
        Some(url) => Some(
            crate::sink::s3::Bucket::open(&connection.client, &connection.base, url, None).await?,
        ),
        None => None,
    };
    let session = connection.session(role_options).await.map_err(|e| {
        if crate::auth::is_expired_code(&e.code) {
            anyhow!(
                "the base credentials expired ({}: {}): run aws sso login{} (or refresh them) and {}",
                e.code,
                e.message,
                args.base.profile.as_deref().map(|p| format!(" --profile {p}")).unwrap_or_default(),
                after_refresh(args.resume.as_deref(), shard.as_ref())
            )
        } else {
            e.into()
        }
    })?;
    for arn in &args.targets.accounts.org_role_arns {
        let partition = arn.split(':').nth(1).unwrap_or_default();
        let caller = session.access().caller();
        if args.resume.is_none() && partition != caller.partition {
            bail!(
                "--org-role-arn {arn}: is in partition {partition}, but the base identity ({}) is in {}; roles are assumed within one partition: use credentials of {partition} (--profile), or a role in {}",
                caller.arn, caller.partition, caller.partition
            );
        }
    }
    if let Some(plan) = &resumed {
        session
            .reenter(&plan.organizations, plan.chain_through_management)
            .await?;
    }

    // Discovery (a new scan's, or a resumed scan's that stopped before its discovery
    // ended) hands accounts on as it lists them: the scan starts on the first.
    let rediscover = resumed.as_ref().and_then(|p| p.discovery.clone());
    let discovery = match (&resumed, rediscover) {
        (Some(_), None) => None,
        (Some(_), Some(opts)) => Some((scan_accounts::begin(&session, &opts).await?, opts)),
        (None, _) => {
            let mut opts = account_options.expect("a new scan has its account options");
            opts.shard = shard;
            Some((scan_accounts::begin(&session, &opts).await?, opts))
        }
    };
    let (info, accounts, out_root) = match resumed {
        Some(plan) => {
            let dir = args.resume.clone().unwrap();
            let out = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut info = plan.info.clone();
            info.resumed = true;
            (
                info,
                plan.accounts,
                (out, plan.regions, plan.paginate, plan.organizations),
            )
        }
        None => {
            let info = ScanInfo {
                id: scan_id.clone(),
                started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                version: env!("CARGO_PKG_VERSION").to_string(),
                resumed: false,
                skipped_entries: std::mem::take(&mut skipped_entries),
            };
            let regions = (!args.regions.is_empty()).then(|| args.regions.clone());
            (
                info,
                Vec::new(),
                (
                    args.output_dir.clone(),
                    regions,
                    !args.no_paginate,
                    Vec::new(),
                ),
            )
        }
    };
    // Until discovery ends, the plan keeps its options instead of the accounts.
    let (accounts, organizations, pending) = match &discovery {
        None => (accounts, out_root.3.clone(), None),
        Some((begun, opts)) => match begun.ended() {
            Some(found) => (
                found.accounts.clone(),
                scan_accounts::via_roles(found),
                None,
            ),
            None => (Vec::new(), Vec::new(), Some(opts.clone())),
        },
    };
    let out_root = (out_root.0, out_root.1, out_root.2, organizations);
    let (out_dir, regions, paginate, organizations) = out_root;
    let regions = regions.map(crate::cli::dedup);
    let (db, no_db) = match &resumed_db {
        Some(d) => d.clone(),
        None => (
            args.db
                .as_ref()
                .map(|p| std::path::absolute(p).unwrap_or(p.clone())),
            args.no_db,
        ),
    };
    let tree = Arc::new(TreeSink::new(&out_dir, &info.id).with_shard(shard));
    let plan = Plan {
        info: info.clone(),
        accounts: accounts.clone(),
        calls: spec_calls.iter().map(spec::Call::planned).collect(),
        regions: regions.clone(),
        paginate,
        organizations,
        chain_through_management: args.targets.accounts.chain_through_management,
        shard,
        db: db.clone(),
        no_db,
        max_details_per_call,
        discovery: pending,
    };
    plan.write(tree.root()).with_context(|| {
        format!(
            "cannot write to the output folder {}",
            tree.root().display()
        )
    })?;
    let accounts: scan::Accounts = match discovery {
        Some((begun, _)) => begun.into_accounts(plan, tree.root().to_path_buf()),
        None => accounts.into(),
    };
    let (previous_calls, previous_accounts) = if info.resumed {
        resume::previous(tree.root(), shard.as_ref())?
    } else {
        (Vec::new(), Vec::new())
    };
    if info.resumed {
        let (calls, accounts) = resume::retryable_counts(&previous_calls, &previous_accounts);
        eprintln!(
            "census: resuming {}: running again {calls} call{} and {accounts} account{} that ended in a retryable error, and every call not finished",
            tree.root().display(),
            if calls == 1 { "" } else { "s" },
            if accounts == 1 { "" } else { "s" },
        );
    }
    let concurrency = args.concurrency.unwrap_or(64).max(1);
    let options = Options {
        concurrency,
        per_account: per_account.unwrap_or((concurrency / 4).clamp(4, 32)).max(1),
        accounts_in_flight: (concurrency / 4).clamp(4, 64),
        call_timeout: Duration::from_secs(args.call_timeout),
        account_deadline: Duration::from_secs(args.account_deadline),
        regions,
        paginate,
        max_details_per_call,
    };
    let root = tree.root().to_path_buf();
    // The database comes before the tree: a call in the tree's journal (what --resume
    // skips) is then always in the database too.
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if !no_db {
        let path = db
            .clone()
            .unwrap_or_else(|| out_dir.join(shard_name(shard.as_ref(), crate::store::DB_FILE)));
        let db = crate::sink::sqlite::SqliteSink::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?
            .with_inventory(!args.no_inventory)
            .with_shard(shard_run.clone());
        sinks.push(Arc::new(db));
    }
    if let Some(pg) = postgres {
        sinks.push(pg);
    }
    sinks.push(tree);
    let scan_id = info.id.clone();
    let scan = Scan {
        info,
        client: session.client().clone(),
        endpoints,
        credentials: Arc::new(AccessSource(session.access().clone())),
        calls: spec_calls,
        catalog: session.catalog()?,
        sinks,
        options,
        previous_calls,
        previous_accounts,
    };
    let started = std::time::Instant::now();
    let outcome = scan::run_until(scan, accounts, interrupted()).await?;
    let t = &outcome.totals;
    let resume_hint = format!(
        "census scan --resume {}{}",
        root.display(),
        shard.map(|s| format!(" --shard {s}")).unwrap_or_default()
    );
    if !outcome.interrupted {
        // The scan is done: a Ctrl-C during the upload stops it at once.
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(int), Ok(term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            exit_on_signal(int, term);
        }
    }
    if outcome.interrupted {
        eprintln!(
            "census: interrupted after {} calls ({} failed), written to {}; finish the scan with {resume_hint}",
            t.calls,
            t.calls_failed,
            root.display()
        );
        return Ok(130);
    }
    // Every account refused for expired credentials: nothing could run.
    let expired: Vec<&crate::sink::AccountReport> = outcome
        .accounts
        .iter()
        .filter(|a| {
            a.error_code
                .as_deref()
                .is_some_and(crate::auth::is_expired_code)
        })
        .collect();
    if !expired.is_empty() && expired.len() == outcome.accounts.len() && t.calls == 0 {
        bail!(
            "the credentials expired ({}: {}) before any account could be scanned: run aws sso login{} (or refresh them) and resume with {resume_hint}",
            expired[0].error_code.as_deref().unwrap_or_default(),
            expired[0].error_message.as_deref().unwrap_or_default(),
            args.base.profile.as_deref().map(|p| format!(" --profile {p}")).unwrap_or_default(),
        );
    }
    eprintln!(
        "census: scanned {} accounts ({} failed), {} calls ({} failed), {} items in {:.1}s -> {}",
        t.accounts,
        t.accounts_failed,
        t.calls,
        t.calls_failed,
        t.items,
        started.elapsed().as_secs_f64(),
        root.display()
    );
    for a in outcome.accounts.iter().filter(|a| !a.is_ok()) {
        eprintln!(
            "census: account {} ({}): {}",
            crate::util::print::escape(&a.account.id),
            crate::util::print::escape(&a.account.name),
            crate::util::print::escape(a.error_message.as_deref().unwrap_or("failed"))
        );
    }
    if t.calls_failed > 0 {
        eprintln!(
            "census: {} calls failed: see {}",
            t.calls_failed,
            root.join(shard_name(shard.as_ref(), "summary.json"))
                .display()
        );
    }
    if args.html {
        let db_path = db
            .clone()
            .unwrap_or_else(|| out_dir.join(shard_name(shard.as_ref(), crate::store::DB_FILE)));
        let path = root.join(shard_name(shard.as_ref(), "report.html"));
        let postgres = if no_db { args.postgres.clone() } else { None };
        let out = path.clone();
        // (The PostgreSQL client runs a runtime of its own: not on this one's threads.)
        let written = tokio::task::spawn_blocking(move || {
            let mut source =
                crate::report::html::source::Source::open(&db_path, postgres.as_ref())?;
            crate::report::html::write(&mut source, Some(&scan_id), None, &out)
        })
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r);
        match written {
            Ok(w) => eprintln!(
                "census: report {} ({} resources, {} KB)",
                path.display(),
                w.resources,
                w.bytes.div_ceil(1024)
            ),
            Err(e) => {
                eprintln!(
                    "census: error: --html: could not write {}: {e:#}",
                    path.display()
                );
                return Ok(1);
            }
        }
    }
    if let Some(bucket) = &upload {
        let db = (!no_db).then(|| {
            db.clone()
                .unwrap_or_else(|| out_dir.join(shard_name(shard.as_ref(), crate::store::DB_FILE)))
        });
        if !crate::sink::s3::upload_scan(bucket, &root, db.as_deref()).await {
            return Ok(1);
        }
    }
    Ok(outcome.exit_status())
}

/// The process's arguments after the `scan` subcommand (global flags before it left
/// out), as given: what `scan_shards.flags` records, redacted.
fn scan_args() -> Vec<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if matches!(a.as_str(), "-l" | "--log-level" | "--log_level") {
            args.next();
        } else if a == "scan" {
            break;
        }
    }
    args.collect()
}
