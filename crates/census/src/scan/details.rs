//! Detail calls of one list call's result, in one account and region: each pending
//! detail run once per item (at most `--max-details-per-call` items), the items
//! [`Options::per_account`](super::Options::per_account) at a time and each call under
//! a permit of the scan's semaphore, like any call. An item's details run in order, so
//! that a later one can use an earlier one's result (`$details`). What ends in an error
//! that may pass (throttling, 5xx, a timeout outlasting awsdyn's retries) gets one
//! more pass once the other items are done. Not the recording (the executor hands
//! the records to the sinks) nor what "absent" means ([`crate::spec::absent`]).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use awsdyn::client::Target;
use futures::StreamExt;
use serde_json::{Map, Value};

use super::execute::{fetch, Fetched, Shared};
use crate::sink::{CallRecord, DetailItem, DetailOutcome, ErrorText, Status};
use crate::spec::{Call, Detail};
use crate::store::items::identified_items;

/// What the details of one list call's result came to: per pending detail, its record
/// and its items, ready for the sinks.
pub(super) type Recorded = Vec<(CallRecord, Vec<DetailItem>)>;

/// One item's run of the details.
struct ItemRun {
    /// By detail (index into the call's details): the outcome, once run; `None` for a
    /// detail that does not take this item or has not run.
    outcomes: Vec<Option<Outcome>>,
}

struct Outcome {
    item: DetailItem,
    retryable: bool,
    pages: u32,
}

/// Where the details of a call run.
pub(super) struct Place<'a> {
    pub account_id: &'a str,
    pub label: &'a str,
    pub target: &'a Target,
    pub call: usize,
}

/// Runs the `pending` details (indexes into `call.details`) of `call` on the items of
/// `value` (its result, result key applied) and returns their records, in the order of
/// `pending`. Details that are not pending run too when a pending one uses their
/// result; they are not recorded (an earlier run did).
pub(super) async fn run(
    shared: &Arc<Shared>,
    place: Place<'_>,
    call: &Call,
    value: &Value,
    pending: &[usize],
) -> Recorded {
    let started = Instant::now();
    let shapes = shared.shapes.get(&call.service, &call.operation);
    let mut items = identified_items(&shapes, value);
    let cap = shared
        .scan
        .options
        .max_details_per_call
        .unwrap_or(usize::MAX);
    let not_detailed = items.len().saturating_sub(cap) as u64;
    items.truncate(cap);
    let needed = needed(&call.details, pending);
    let runs: Vec<Mutex<ItemRun>> = items
        .iter()
        .map(|_| {
            Mutex::new(ItemRun {
                outcomes: (0..call.details.len()).map(|_| None).collect(),
            })
        })
        .collect();
    let per_account = shared.scan.options.per_account.max(1);
    for second_pass in [false, true] {
        futures::stream::iter(items.iter().zip(&runs))
            .for_each_concurrent(per_account, |((member, item, resource_id), run)| {
                let needed = &needed;
                let place = &place;
                async move {
                    // The first pass runs every detail; the second, those from the
                    // first that ended in an error that may pass.
                    let from = {
                        let run = run.lock().unwrap_or_else(|e| e.into_inner());
                        if second_pass {
                            match needed.iter().position(|&d| {
                                run.outcomes[d].as_ref().is_some_and(|o| o.retryable)
                            }) {
                                Some(p) => p,
                                None => return,
                            }
                        } else {
                            0
                        }
                    };
                    for &d in &needed[from..] {
                        let detail = &call.details[d];
                        if !detail.takes(member) {
                            continue;
                        }
                        let earlier = {
                            let run = run.lock().unwrap_or_else(|e| e.into_inner());
                            earlier_results(&call.details, &run)
                        };
                        let outcome =
                            run_one(shared, place, detail, item, &earlier, resource_id).await;
                        let Some(outcome) = outcome else {
                            // Interrupted: nothing more is recorded.
                            return;
                        };
                        run.lock().unwrap_or_else(|e| e.into_inner()).outcomes[d] = Some(outcome);
                    }
                }
            })
            .await;
        if shared.interrupted() {
            return Vec::new();
        }
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    let runs: Vec<ItemRun> = runs
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    pending
        .iter()
        .map(|&d| {
            let detail = &call.details[d];
            let stem = &shared.stems.details[place.call][d];
            let parent = &shared.stems.calls[place.call];
            let mut record =
                CallRecord::detail(place.account_id, place.label, stem, detail, parent);
            record.duration_ms = duration_ms;
            record.items_not_detailed = not_detailed;
            let mut out = Vec::new();
            let mut failed: Vec<&DetailItem> = Vec::new();
            let mut retryable = false;
            for run in &runs {
                let Some(o) = &run.outcomes[d] else { continue };
                record.pages += o.pages;
                match &o.item.outcome {
                    DetailOutcome::Result(_) => {}
                    DetailOutcome::Absent(_) => record.absent += 1,
                    DetailOutcome::Error(_) => {
                        failed.push(&o.item);
                        retryable |= o.retryable;
                    }
                }
            }
            if let Some(first) = failed.first() {
                let DetailOutcome::Error(e) = &first.outcome else {
                    unreachable!("only errors are kept as failed")
                };
                let message = format!(
                    "{} of {} items failed; the first, with {}: {}",
                    failed.len(),
                    runs.iter().filter(|r| r.outcomes[d].is_some()).count(),
                    first.parameters,
                    e.message
                );
                record.fail(&e.code, message, None);
                record.retryable = retryable;
            }
            for run in &runs {
                if let Some(o) = &run.outcomes[d] {
                    out.push(o.item.clone());
                }
            }
            record.items = out.len() as u64;
            debug_assert!(record.status == Status::Ok || !failed.is_empty());
            (record, out)
        })
        .collect()
}

/// The details to run: the pending ones, and those whose results a pending one (or
/// one of those) uses, in the call's order.
fn needed(details: &[Detail], pending: &[usize]) -> Vec<usize> {
    let mut want: Vec<bool> = (0..details.len()).map(|i| pending.contains(&i)).collect();
    for i in (0..details.len()).rev() {
        if !want[i] {
            continue;
        }
        for used in details[i].uses() {
            if let Some(j) = details[..i].iter().position(|d| d.function == used) {
                want[j] = true;
            }
        }
    }
    (0..details.len()).filter(|&i| want[i]).collect()
}

/// `$details` for an item: the results of its details so far, by function (`null` for
/// one that was absent or failed).
fn earlier_results(details: &[Detail], run: &ItemRun) -> Value {
    let mut out = Map::new();
    for (d, o) in details.iter().zip(&run.outcomes) {
        if let Some(o) = o {
            let v = match &o.item.outcome {
                DetailOutcome::Result(v) => v.clone(),
                _ => Value::Null,
            };
            out.insert(d.function.clone(), v);
        }
    }
    Value::Object(out)
}

/// One detail call on one item; `None` when the scan was interrupted.
async fn run_one(
    shared: &Arc<Shared>,
    place: &Place<'_>,
    detail: &Detail,
    item: &Value,
    earlier: &Value,
    resource_id: &str,
) -> Option<Outcome> {
    let error = |code: &str, message: String, retryable: bool| Outcome {
        item: DetailItem {
            resource_id: resource_id.to_string(),
            parameters: Value::Null,
            outcome: DetailOutcome::Error(ErrorText {
                code: code.to_string(),
                message,
            }),
        },
        retryable,
        pages: 0,
    };
    let parameters = match detail.parameters.eval(item, earlier) {
        Ok(p) => Value::Object(p),
        Err(message) => return Some(error("DetailParameters", message, false)),
    };
    let with_parameters = |mut o: Outcome| {
        o.item.parameters = parameters.clone();
        o
    };
    let permit = shared.semaphore.acquire().await.ok()?;
    let fetched = fetch(
        shared,
        place.target,
        &detail.service,
        &detail.operation,
        &parameters,
    )
    .await;
    drop(permit);
    let retryable = fetched.retryable();
    let outcome = match fetched {
        Fetched::Interrupted => return None,
        Fetched::TimedOut(message) => error("CallTimeout", message, retryable),
        Fetched::Failed(e) => {
            let code = e.code().to_string();
            if crate::spec::absent::is_absent(&detail.service, &detail.operation, &code) {
                Outcome {
                    item: DetailItem {
                        resource_id: resource_id.to_string(),
                        parameters: Value::Null,
                        outcome: DetailOutcome::Absent(ErrorText {
                            code,
                            message: e.to_string(),
                        }),
                    },
                    retryable: false,
                    pages: 1,
                }
            } else {
                error(&code, e.to_string(), retryable)
            }
        }
        Fetched::Done(value, pages) => {
            let value = match &detail.result_key {
                Some(key) => match key.apply(&value) {
                    Ok(v) => v,
                    Err(msg) => return Some(with_parameters(error("ResultKey", msg, false))),
                },
                None => value,
            };
            Outcome {
                item: DetailItem {
                    resource_id: resource_id.to_string(),
                    parameters: Value::Null,
                    outcome: DetailOutcome::Result(value),
                },
                retryable: false,
                pages,
            }
        }
    };
    Some(with_parameters(outcome))
}
