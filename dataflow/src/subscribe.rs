//! SUBSCRIBE sinks: a subscription's rendered changes are exchanged to
//! worker 0, held until their timestamp is complete (the input frontier
//! has passed it), then sent consolidated, in timestamp order, to the
//! session, followed by the new frontier. One write is one timestamp, so a
//! transaction is never split across a progress message.

use crate::render::{Errs, Rows};
use catalog::{sqlstate, Row, SqlError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use timely::dataflow::operators::{Exchange, Inspect};

/// What a subscription delivers.
#[derive(Debug)]
pub enum SubscribeEvent {
    /// The changes at `ts`, consolidated (a diff is a count, never 0).
    Updates { ts: u64, updates: Vec<(Row, isize)> },
    /// Every change before `ts` has been delivered.
    Progress(u64),
    /// The subscription ended with this error.
    Error(SqlError),
    /// The inputs are closed: nothing will ever change again.
    Complete,
}

/// Hands an event to the subscriber; `false` once nobody listens.
pub type Deliver = Arc<dyn Fn(SubscribeEvent) -> bool + Send + Sync>;

/// The sending end of a subscription, handed to the workers.
#[derive(Clone)]
pub struct SubscribeSink {
    deliver: Deliver,
    /// Updates delivered but not yet taken by the subscriber (who counts
    /// them down).
    backlog: Arc<AtomicUsize>,
    /// Past this backlog the subscription ends (a slow client must not
    /// make the server buffer without bound).
    limit: usize,
    /// Deliver the contents at `as_of` (the snapshot) or only later changes.
    snapshot: bool,
}

impl std::fmt::Debug for SubscribeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscribeSink")
            .field("limit", &self.limit)
            .field("snapshot", &self.snapshot)
            .finish()
    }
}

impl SubscribeSink {
    /// A sink delivering through `deliver`; `backlog` counts the updates
    /// delivered and not yet read, at most `limit`.
    pub fn new(deliver: Deliver, backlog: Arc<AtomicUsize>, limit: usize, snapshot: bool) -> Self {
        SubscribeSink {
            deliver,
            backlog,
            limit,
            snapshot,
        }
    }

    /// Ends the subscription from outside the dataflow (the coordinator,
    /// when an input it reads is dropped).
    pub fn end(&self, error: SqlError) {
        (self.deliver)(SubscribeEvent::Error(error));
    }
}

/// A row, or an evaluation error, of a subscription's output.
type Change = Result<Row, SqlError>;

/// Changes waiting for their timestamp to complete, on worker 0.
struct Pending {
    sink: SubscribeSink,
    as_of: u64,
    by_time: BTreeMap<u64, Vec<(Change, isize)>>,
    /// The subscription has ended (error, overflow, closed inputs, or the
    /// session went away): send nothing more.
    done: bool,
}

impl Pending {
    fn send(&mut self, e: SubscribeEvent) {
        if !(self.sink.deliver)(e) {
            self.done = true;
        }
    }

    /// The frontier moved to `upper` (`None`: empty, the inputs closed).
    fn advance(&mut self, upper: Option<u64>) {
        if self.done {
            self.by_time.clear();
            return;
        }
        let ready: Vec<u64> = self
            .by_time
            .keys()
            .copied()
            .take_while(|t| upper.is_none_or(|u| *t < u))
            .collect();
        for ts in ready {
            let mut changes = self.by_time.remove(&ts).unwrap_or_default();
            differential_dataflow::consolidation::consolidate(&mut changes);
            let mut updates = Vec::with_capacity(changes.len());
            for (change, diff) in changes {
                match change {
                    Ok(row) => updates.push((row, diff)),
                    Err(e) if diff > 0 => {
                        self.send(SubscribeEvent::Error(e));
                        self.done = true;
                        return;
                    }
                    Err(_) => {}
                }
            }
            if updates.is_empty() || (ts <= self.as_of && !self.sink.snapshot) {
                continue;
            }
            let waiting = self.sink.backlog.load(Ordering::Relaxed);
            if waiting > self.sink.limit {
                self.send(SubscribeEvent::Error(
                    SqlError::new(
                        sqlstate::INSUFFICIENT_RESOURCES,
                        format!(
                            "subscription ended: the client fell behind ({waiting} updates waiting to be read, limit {})",
                            self.sink.limit
                        ),
                    )
                    .with_hint("Read the subscription faster, or raise --subscribe-backlog."),
                ));
                self.done = true;
                return;
            }
            self.sink
                .backlog
                .fetch_add(updates.len(), Ordering::Relaxed);
            self.send(SubscribeEvent::Updates { ts, updates });
        }
        match upper {
            Some(u) if u > self.as_of => self.send(SubscribeEvent::Progress(u)),
            Some(_) => {}
            None => {
                self.send(SubscribeEvent::Complete);
                self.done = true;
            }
        }
    }
}

/// Ends `rows` (and its errors) in a sink that delivers to `sink`.
pub(crate) fn attach<'s>(
    rows: Rows<'s>,
    errs: Option<Errs<'s>>,
    sink: SubscribeSink,
    as_of: u64,
    worker_index: usize,
) {
    let oks = rows.map(Ok::<Row, SqlError>);
    let all = match errs {
        Some(e) => oks.concat(e.map(Err::<Row, SqlError>)),
        None => oks,
    };
    let mut pending = Pending {
        sink,
        as_of,
        by_time: BTreeMap::new(),
        done: false,
    };
    all.inner.exchange(|_| 0).inspect_core(move |event| {
        if worker_index != 0 {
            return;
        }
        match event {
            Ok((_, data)) => {
                if !pending.done {
                    for (d, t, r) in data.iter() {
                        pending.by_time.entry(*t).or_default().push((d.clone(), *r));
                    }
                }
            }
            Err(frontier) => pending.advance(frontier.first().copied()),
        }
    });
}
