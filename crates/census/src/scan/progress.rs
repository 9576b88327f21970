//! Progress: a bar on a terminal (accounts and calls done, errors, call rate), plain
//! log lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    accounts_total: AtomicU64,
    accounts_done: AtomicU64,
    accounts_failed: AtomicU64,
    calls_planned: AtomicU64,
    calls_done: AtomicU64,
    calls_failed: AtomicU64,
    started: Instant,
    last_log: Mutex<Instant>,
}

impl Progress {
    pub fn new(accounts_total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            bar,
            accounts_total: AtomicU64::new(accounts_total),
            accounts_done: AtomicU64::new(0),
            accounts_failed: AtomicU64::new(0),
            calls_planned: AtomicU64::new(0),
            calls_done: AtomicU64::new(0),
            calls_failed: AtomicU64::new(0),
            started: Instant::now(),
            last_log: Mutex::new(Instant::now()),
        }
    }

    fn message(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "| accounts {}/{} ({} failed) | calls {}/{} ({} failed) | {:.0} calls/s",
            self.accounts_done.load(Ordering::Relaxed),
            self.accounts_total.load(Ordering::Relaxed),
            self.accounts_failed.load(Ordering::Relaxed),
            self.calls_done.load(Ordering::Relaxed),
            self.calls_planned.load(Ordering::Relaxed),
            self.calls_failed.load(Ordering::Relaxed),
            self.calls_done.load(Ordering::Relaxed) as f64 / secs
        )
    }

    fn update(&self) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(self.calls_planned.load(Ordering::Relaxed));
                bar.set_position(self.calls_done.load(Ordering::Relaxed));
                bar.set_message(self.message());
            }
            None => {
                let mut last = self.last_log.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() >= Duration::from_secs(10) {
                    *last = Instant::now();
                    tracing::info!("progress {}", self.message());
                }
            }
        }
    }

    /// One more account to scan (discovery hands them on as it finds them).
    pub fn add_account(&self) {
        self.accounts_total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_calls(&self, n: u64) {
        self.calls_planned.fetch_add(n, Ordering::Relaxed);
        self.update();
    }

    pub fn account_done(&self, failed: bool) {
        self.accounts_done.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.accounts_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.update();
    }

    pub fn call_done(&self, failed: bool) {
        self.calls_done.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.calls_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.update();
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!("done {}", self.message());
    }
}
