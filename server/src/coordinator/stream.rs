//! SUBSCRIBE on the coordinator: plan it, pick its start time, start its
//! dataflow, and end it when the session stops reading or an input it
//! reads is dropped.

use super::Coordinator;
use catalog::system::SessionInfo;
use catalog::{sqlstate, Column, Datum, GlobalId, Row, SqlError, SqlResult};
use dataflow::{Command, SubscribeEvent, SubscribeSink};
use planner::{Parsed, StatementPlan};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::info;

/// A running subscription, handed to the session that reads it.
pub struct Subscription {
    pub id: GlobalId,
    /// Output columns: mz_timestamp, [mz_progressed], mz_diff, then the target's.
    pub columns: Vec<Column>,
    pub progress: bool,
    pub receiver: SubscribeReceiver,
}

/// The session's end of a subscription: its events, and the count of
/// updates delivered but not read (the sink ends the subscription when it
/// passes the bound).
pub struct SubscribeReceiver {
    rx: mpsc::UnboundedReceiver<SubscribeEvent>,
    backlog: Arc<AtomicUsize>,
}

impl SubscribeReceiver {
    /// The next event; `None` once the sink is gone.
    pub async fn recv(&mut self) -> Option<SubscribeEvent> {
        let e = self.rx.recv().await;
        self.taken(&e);
        e
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<SubscribeEvent> {
        let e = self.rx.try_recv().ok();
        self.taken(&e);
        e
    }

    fn taken(&self, e: &Option<SubscribeEvent>) {
        if let Some(SubscribeEvent::Updates { updates, .. }) = e {
            self.backlog.fetch_sub(updates.len(), Ordering::Relaxed);
        }
    }
}

/// A subscription's two ends; `limit` bounds the updates waiting for the
/// session.
fn subscription(limit: usize, snapshot: bool) -> (SubscribeSink, SubscribeReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let backlog = Arc::new(AtomicUsize::new(0));
    let deliver: dataflow::Deliver = Arc::new(move |e| tx.send(e).is_ok());
    (
        SubscribeSink::new(deliver, backlog.clone(), limit, snapshot),
        SubscribeReceiver { rx, backlog },
    )
}

/// Ends a subscription's dataflow when whoever reads it (a session, a
/// cursor, a WebSocket) goes away.
pub struct SubscriptionGuard {
    id: GlobalId,
    coord: mpsc::UnboundedSender<super::Request>,
}

impl SubscriptionGuard {
    pub fn new(id: GlobalId, coord: mpsc::UnboundedSender<super::Request>) -> Self {
        SubscriptionGuard { id, coord }
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        let _ = self
            .coord
            .send(super::Request::EndSubscribe { id: self.id });
    }
}

/// How a subscription stopped.
pub enum SubscriptionEnd {
    Error(SqlError),
    Complete,
}

/// Appends the rows an event carries: `mz_timestamp, [mz_progressed],
/// mz_diff, columns…` per change, and with PROGRESS a row marking each
/// completed timestamp; `Some` once the subscription has ended.
pub fn event_rows(
    event: SubscribeEvent,
    progress: bool,
    width: usize,
    out: &mut Vec<Row>,
) -> Option<SubscriptionEnd> {
    let ts = |t: u64| Datum::Numeric(t.into());
    match event {
        SubscribeEvent::Updates { ts: t, updates } => {
            for (row, diff) in updates {
                let mut d = Vec::with_capacity(width + 3);
                d.push(ts(t));
                if progress {
                    d.push(Datum::Bool(false));
                }
                d.push(Datum::Int64(diff as i64));
                d.extend(row.into_datums());
                out.push(Row::new(d));
            }
            None
        }
        SubscribeEvent::Progress(t) => {
            if progress {
                let mut d = vec![ts(t), Datum::Bool(true), Datum::Null];
                d.extend(std::iter::repeat_n(Datum::Null, width));
                out.push(Row::new(d));
            }
            None
        }
        SubscribeEvent::Error(e) => Some(SubscriptionEnd::Error(e)),
        SubscribeEvent::Complete => Some(SubscriptionEnd::Complete),
    }
}

/// What the coordinator keeps of a subscription: the collections it reads
/// and its sink (to end it with an error).
pub(super) struct Running {
    reads: Vec<GlobalId>,
    sink: SubscribeSink,
}

impl Coordinator {
    /// Starts a SUBSCRIBE: at its AS OF time, or at the read time, so its
    /// snapshot is what a SELECT now would see.
    pub(super) fn subscribe(
        &mut self,
        stmt: &Parsed,
        session: &SessionInfo,
    ) -> SqlResult<Subscription> {
        let plan = planner::plan(stmt, &self.catalog, self.clock.now_ms(), session)?;
        let StatementPlan::Subscribe {
            plan,
            columns,
            depends,
            snapshot,
            progress,
            as_of,
        } = plan
        else {
            return Err(SqlError::internal("not a SUBSCRIBE"));
        };
        let as_of = match as_of {
            None => self.read_ts,
            Some(t) if t < self.since => {
                return Err(SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!(
                        "AS OF {t} is before the oldest time still kept ({}): history before it is compacted",
                        self.since
                    ),
                ))
            }
            Some(t) => t,
        };
        if !self.snapshots.is_empty() {
            // a view served from its checkpoint has no dataflow to follow
            self.undefer(&depends);
        }
        let id = GlobalId(self.next_transient);
        self.next_transient += 1;
        let (sink, receiver) = subscription(self.subscribe_backlog, snapshot);
        self.cluster.send(Command::Subscribe {
            id,
            plan,
            as_of,
            sink: sink.clone(),
        });
        info!(%id, as_of, "subscription started");
        self.subscribes.insert(
            id,
            Running {
                reads: depends,
                sink,
            },
        );
        Ok(Subscription {
            id,
            columns: planner::stream::subscribe_columns(progress, &columns),
            progress,
            receiver,
        })
    }

    /// The session stopped reading subscription `id`.
    pub(super) fn end_subscribe(&mut self, id: GlobalId) {
        if self.subscribes.remove(&id).is_some() {
            info!(%id, "subscription ended");
            self.cluster.send(Command::Drop(vec![id]));
        }
    }

    /// `dropped` collections are gone: subscriptions reading them end with
    /// an error naming the first.
    pub(super) fn end_subscribes_reading(&mut self, dropped: &[(GlobalId, String)]) {
        let ended: Vec<(GlobalId, String)> = self
            .subscribes
            .iter()
            .filter_map(|(id, r)| {
                dropped
                    .iter()
                    .find(|(d, _)| r.reads.contains(d))
                    .map(|(_, name)| (*id, name.clone()))
            })
            .collect();
        for (id, name) in ended {
            if let Some(r) = self.subscribes.remove(&id) {
                r.sink.end(SqlError::new(
                    sqlstate::UNDEFINED_TABLE,
                    format!("subscribe has been terminated because underlying relation \"{name}\" was dropped"),
                ));
                self.cluster.send(Command::Drop(vec![id]));
            }
        }
    }
}
