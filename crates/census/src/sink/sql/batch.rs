//! The writer-thread loop the SQL sinks share: messages from the scan are applied in
//! transactions of at most `max_rows` rows or `max_time`, committed as soon as nothing
//! more is waiting; a message's acknowledgement is sent only after its transaction
//! committed (or with the error that stopped the sink); the scan's finish message ends
//! the loop. What a message does, and how a transaction begins and ends, is the
//! backend's ([`Batched`]). Not for SQL: it knows transactions only as calls.

use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

/// Where a message's writer answers: `Ok` once its rows are committed.
pub type Ack = SyncSender<Result<(), String>>;

/// A SQL backend driven by [`run`]. Backends record their own errors (the first one
/// stops all later writes); [`Batched::error`] says which.
pub trait Batched {
    type Msg;

    /// A message answered outside any transaction (a PostgreSQL scan-id claim): handle
    /// it and return `None`; any other message is returned to be batched.
    fn outside(&mut self, msg: Self::Msg) -> Option<Self::Msg> {
        Some(msg)
    }
    /// Whether this is the scan's finish message.
    fn is_finish(msg: &Self::Msg) -> bool;
    /// The error that stopped the sink, if any.
    fn error(&self) -> Option<&String>;
    /// Starts a transaction; false (the error recorded) when it cannot.
    fn begin(&mut self) -> bool;
    /// Applies one message in the transaction, pushing the acks it waits for; the
    /// number of rows written (an error is recorded, not returned).
    fn apply(&mut self, msg: Self::Msg, acks: &mut Vec<Ack>) -> usize;
    /// The acks of a message that is not applied (the sink stopped).
    fn ack_of(msg: Self::Msg, acks: &mut Vec<Ack>);
    /// Commits the transaction, or rolls it back after an error.
    fn end(&mut self);
    /// Brings views up to date after a committed transaction.
    fn refresh_views(&mut self);
    /// Writes the scan's end and answers the finish message.
    fn finish(&mut self, msg: Self::Msg);
    /// Every sender is gone without a finish message.
    fn abandoned(&mut self) {}
}

/// Runs `backend` over the messages of `rx` until the finish message or until every
/// sender is gone.
pub fn run<B: Batched>(mut backend: B, rx: Receiver<B::Msg>, max_rows: usize, max_time: Duration) {
    while let Ok(first) = rx.recv() {
        let Some(first) = backend.outside(first) else {
            continue;
        };
        let started = Instant::now();
        let mut acks: Vec<Ack> = Vec::new();
        let mut finish = None;
        let mut rows = 0usize;
        let mut next = Some(first);
        let began = backend.error().is_none() && backend.begin();
        while let Some(msg) = next.take() {
            if B::is_finish(&msg) {
                finish = Some(msg);
                break;
            }
            if began && backend.error().is_none() {
                rows += backend.apply(msg, &mut acks);
            } else {
                B::ack_of(msg, &mut acks);
            }
            if rows >= max_rows || started.elapsed() >= max_time {
                break;
            }
            // Nothing waiting (or no sender left): commit now.
            next = rx.try_recv().ok();
        }
        if began {
            backend.end();
        }
        if backend.error().is_none() {
            backend.refresh_views();
        }
        let result = match backend.error() {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        };
        for ack in acks {
            let _ = ack.send(result.clone());
        }
        if let Some(msg) = finish {
            backend.finish(msg);
            return;
        }
    }
    backend.abandoned();
}
