//! The threads that sink writes run on: a few long-lived threads, a bounded number of
//! writes under way, and a way to wait until every write started has ended. What is
//! written, and to which sinks, is the executor's (`scan::execute`).

use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// More sink writes than can ever be under way at once.
const WRITES: u32 = 1 << 24;

/// Sink writes under way at once, each on its own thread: enough to keep fsyncs
/// overlapping and the database writer fed; few, since every thread that allocates
/// keeps allocator pages of its own.
const WRITERS: usize = 8;

/// The scan's sink writes: [`WRITERS`] threads and slots for them.
pub(super) struct Writers {
    /// Sink writes started and not yet ended.
    writes: Arc<Semaphore>,
    /// Slots for sink writes: [`WRITERS`].
    slots: Arc<Semaphore>,
    pool: Arc<Pool>,
}

impl Writers {
    pub(super) fn new() -> Writers {
        Writers {
            writes: Arc::new(Semaphore::new(WRITES as usize)),
            slots: Arc::new(Semaphore::new(WRITERS)),
            pool: Arc::new(Pool::new(WRITERS)),
        }
    }

    /// Waits for one of the [`WRITERS`] slots for a sink write.
    pub(super) async fn slot(&self) -> Slot {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the writers semaphore is never closed");
        let write = self
            .writes
            .clone()
            .try_acquire_owned()
            .expect("the writes semaphore is never closed, nor exhausted");
        Slot {
            pool: self.pool.clone(),
            _permits: (slot, write),
        }
    }

    /// Waits until every write started has ended, those cut loose by their caller
    /// included.
    pub(super) async fn wait_idle(&self) {
        drop(self.writes.acquire_many(WRITES).await);
    }

    /// Stops the threads once the writes sent are done.
    pub(super) fn stop(&self) {
        self.pool.stop();
    }
}

/// A slot for one sink write.
pub(super) struct Slot {
    pool: Arc<Pool>,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Slot {
    /// Runs `f` on one of the writer threads (sinks write files and wait for
    /// databases). Once started, `f` runs to its end even if the caller is dropped (an
    /// account's deadline): [`Writers::wait_idle`] waits for it. What `f` holds is
    /// dropped on that thread, with the slot, before the caller hears back.
    pub(super) async fn run<T: Send + 'static>(self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let pool = self.pool.clone();
        pool.run(Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            drop(self);
            let _ = tx.send(out);
        }));
        match rx.await {
            Ok(Ok(v)) => v,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("a sink writer thread ended"),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// [`WRITERS`] threads for sink writes, for the whole scan: a few long-lived threads
/// rather than tokio's blocking pool, which starts a thread for every write that finds
/// none idle.
struct Pool {
    jobs: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = (0..n)
            .map(|i| {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("census-writer-{i}"))
                    .spawn(move || loop {
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    })
                    .expect("cannot start a writer thread")
            })
            .collect();
        Pool {
            jobs: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
        }
    }

    fn run(&self, job: Job) {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.as_ref()
            .expect("the writer threads were stopped")
            .send(job)
            .expect("the writer threads ended");
    }

    /// Stops the threads once the jobs sent are done.
    fn stop(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = t.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}
