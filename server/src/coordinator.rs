//! The coordinator: the one task that owns the catalog, the clock and the
//! durable log, and drives the dataflow workers. `execute` reads like the
//! whole pipeline: plan, sequence (pick a timestamp), make durable, apply
//! to the dataflow, answer.

mod durability;
mod source;
mod stream;

pub use durability::DurabilityConfig;
pub use stream::{event_rows, SubscribeReceiver, Subscription, SubscriptionEnd, SubscriptionGuard};

use crate::clock::Clock;
use catalog::strconv::{check_length, pad_char};
use catalog::system::SessionInfo;
use catalog::wal::{LogRecord, Wal};
use catalog::{
    sqlstate, Catalog, CatalogItem, Column, Datum, GlobalId, ItemDetail, ItemKind, Row, ScalarType,
    Schema, SqlError, SqlResult,
};
use dataflow::{Cluster, Command, Export, PeekResult};
use planner::{Parsed, Plan, ReadPlan, StatementPlan};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tracing::info;

/// What a statement produced, for the session to put on the wire.
#[derive(Debug)]
pub enum Outcome {
    /// A command tag such as `INSERT 0 2` or `CREATE TABLE`.
    Tag(String),
    /// Result rows with their columns.
    Rows {
        columns: Vec<Column>,
        rows: Vec<Row>,
    },
    /// `COPY … FROM STDIN` is planned: the session reads the data.
    CopyIn(Box<planner::copy::CopyFrom>),
}

/// A request from a session.
pub enum Request {
    /// Run one statement outside a transaction block.
    Execute {
        stmt: Parsed,
        session: Arc<SessionInfo>,
        reply: oneshot::Sender<SqlResult<Outcome>>,
    },
    /// Compute (not apply) `pending` writes then `stmt`, reporting `stmt`'s tag.
    DryRun {
        pending: Vec<Parsed>,
        stmt: Parsed,
        session: Arc<SessionInfo>,
        reply: oneshot::Sender<SqlResult<Outcome>>,
    },
    /// Apply a transaction block's writes atomically at one timestamp.
    Commit {
        writes: Vec<Parsed>,
        session: Arc<SessionInfo>,
        reply: oneshot::Sender<SqlResult<()>>,
    },
    /// Type a prepared statement: its parameters and result columns.
    Describe {
        stmt: Parsed,
        declared: Vec<Option<ScalarType>>,
        session: Arc<SessionInfo>,
        reply: oneshot::Sender<SqlResult<planner::Description>>,
    },
    /// Start a SUBSCRIBE; the session reads its changes.
    Subscribe {
        stmt: Parsed,
        session: Arc<SessionInfo>,
        reply: oneshot::Sender<SqlResult<Subscription>>,
    },
    /// The session stopped reading a subscription.
    EndSubscribe { id: GlobalId },
    /// A source's driver read a batch.
    SourceBatch(source::SourceBatch),
    /// A source's reads began failing (`Some`: why) or work again (`None`).
    SourceStalled { id: GlobalId, error: Option<String> },
    /// JSON posted to webhook source `name`; answers the rows written.
    Webhook {
        name: String,
        body: String,
        reply: oneshot::Sender<SqlResult<usize>>,
    },
    /// Time passes: advance inputs and allow compaction.
    Tick,
    /// Stop: the workers shut down with the coordinator.
    Shutdown,
    /// A read finished: release its hold and drop its transient dataflow.
    ReadDone {
        ts: u64,
        transient: Option<GlobalId>,
    },
    /// The checkpoint writer finished checkpoint `seq`.
    CheckpointDone {
        seq: u64,
        result: SqlResult<catalog::checkpoint::CheckpointStats>,
    },
    /// After a restart, `id`'s arrangement caught up with the recovered state.
    Caught { id: GlobalId },
    /// After a restart, the snapshot of view `id` is loaded.
    SnapshotLoaded { id: GlobalId },
}

/// Catalog, clock, log and workers, owned by one task.
pub struct Coordinator {
    catalog: Catalog,
    clock: Clock,
    /// Every write up to this time is complete and acknowledged.
    read_ts: u64,
    wal: Wal,
    cluster: Cluster,
    /// Outstanding reads by timestamp: compaction must not pass them.
    holds: BTreeMap<u64, usize>,
    next_transient: u64,
    /// The coordinator's own queue, for completions sent from worker threads.
    self_tx: mpsc::UnboundedSender<Request>,
    /// The catalog's roles, published for authentication.
    roles: crate::auth::RoleDirectory,
    /// Reads computing a dataflow of their own, with the channel their
    /// answer goes to: one whose client stopped waiting (a cancel, a
    /// timeout, a closed connection) has its dataflow dropped at the next
    /// tick instead of computing to the end.
    inflight: Vec<(GlobalId, Arc<std::sync::Mutex<Option<Reply>>>)>,
    /// Group commit: INSERTs of constant rows computed while the queue had
    /// more requests, waiting to share one log append and one fsync. They
    /// are acknowledged only after it (`flush_pending`).
    pending: Vec<PendingInsert>,
    /// When the oldest waiting INSERT joined the group.
    pending_since: Option<std::time::Instant>,
    /// When and what to checkpoint.
    durability: DurabilityConfig,
    /// The checkpoint being written, and who waits for one.
    ckpt: durability::Checkpoints,
    /// Materialized views answering from checkpointed contents while their
    /// dataflows rebuild after a restart, by view.
    snapshots: HashMap<GlobalId, durability::Snapshot>,
    /// After a restart with snapshots, until the tables are loaded.
    loading: Option<durability::Loading>,
    /// When the process started: recovery figures count from it.
    started: std::time::Instant,
    /// Set while the shutdown checkpoint is written, so `main` waits for it.
    final_checkpoint: Arc<std::sync::atomic::AtomicBool>,
    /// History before this time may be compacted away.
    since: u64,
    /// How much history to keep behind the current time (milliseconds),
    /// for `SUBSCRIBE … AS OF` a past time.
    retain_history_ms: u64,
    /// The read time when the first tick came (after recovery): the
    /// collections have no history before it.
    history_floor: Option<u64>,
    /// Running subscriptions by dataflow id.
    subscribes: HashMap<GlobalId, stream::Running>,
    /// Updates a subscription may have waiting for its client.
    subscribe_backlog: usize,
    /// The drivers of running sources.
    sources: HashMap<GlobalId, source::Driver>,
}

/// A group commit closes at this many statements …
const MAX_GROUP: usize = 512;
/// … or when its oldest statement has waited this long.
const MAX_GROUP_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// An INSERT waiting for its group's fsync: its table updates, where its
/// answer goes, and its command tag.
type PendingInsert = (Vec<(GlobalId, Row, isize)>, Reply, String);

/// Where a statement's answer goes.
type Reply = oneshot::Sender<SqlResult<Outcome>>;

/// Table contents with multiplicities.
type Contents = HashMap<Row, isize>;

impl Coordinator {
    pub fn new(
        clock: Clock,
        wal: Wal,
        cluster: Cluster,
        self_tx: mpsc::UnboundedSender<Request>,
        roles: crate::auth::RoleDirectory,
        durability: DurabilityConfig,
        started: std::time::Instant,
    ) -> Self {
        let read_ts = clock.last();
        Coordinator {
            catalog: Catalog::new(),
            clock,
            read_ts,
            wal,
            cluster,
            holds: BTreeMap::new(),
            next_transient: 1 << 62,
            self_tx,
            roles,
            inflight: vec![],
            pending: vec![],
            pending_since: None,
            durability,
            ckpt: Default::default(),
            snapshots: HashMap::new(),
            loading: None,
            started,
            final_checkpoint: Arc::default(),
            since: 0,
            retain_history_ms: 0,
            history_floor: None,
            subscribes: HashMap::new(),
            subscribe_backlog: 1_000_000,
            sources: HashMap::new(),
        }
    }

    /// Keeps `ms` of history behind the current time (compaction lags by
    /// it), so `SUBSCRIBE … AS OF` may start that far back.
    pub fn set_retain_history(&mut self, ms: u64) {
        self.retain_history_ms = ms;
    }

    /// Bounds the updates a subscription may have waiting for its client.
    pub fn set_subscribe_backlog(&mut self, updates: usize) {
        self.subscribe_backlog = updates.max(1);
    }

    /// True while the shutdown checkpoint is being written.
    pub fn final_checkpoint(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.final_checkpoint.clone()
    }

    /// Serves requests until every sender is gone, or until a shutdown
    /// request and the checkpoint it starts are done.
    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut stopping = false;
        loop {
            // While INSERTs wait for their shared fsync, take whatever else
            // is already queued; once the queue is empty, make them durable.
            // under a steady stream of INSERTs the queue may never empty:
            // a group is also closed at a size and an age
            if self.pending.len() >= MAX_GROUP
                || self
                    .pending_since
                    .is_some_and(|t| t.elapsed() >= MAX_GROUP_WAIT)
            {
                self.flush_pending();
            }
            let req = if self.pending.is_empty() {
                match rx.recv().await {
                    Some(r) => r,
                    None => break,
                }
            } else {
                match rx.try_recv() {
                    Ok(r) => r,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        self.flush_pending();
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            };
            // Anything but a statement sees the waiting INSERTs durable and
            // applied first (a statement that is not a constant INSERT
            // flushes them itself, see `execute`).
            if !matches!(req, Request::Execute { .. } | Request::ReadDone { .. }) {
                self.flush_pending();
            }
            match req {
                Request::Execute {
                    stmt: Parsed::Rows { table, rows },
                    reply,
                    ..
                } => {
                    let _ = reply.send(self.write_rows(table, rows));
                }
                Request::Execute {
                    stmt,
                    session,
                    reply,
                } => {
                    let result = self.execute(&stmt, &session, reply).await;
                    if let Some((reply, result)) = result {
                        let _ = reply.send(result);
                    }
                }
                Request::DryRun {
                    pending,
                    stmt,
                    session,
                    reply,
                } => {
                    let mut all = pending;
                    all.push(stmt);
                    let result = self
                        .compute_writes(&all, &session)
                        .await
                        .map(|(_, tags)| Outcome::Tag(tags.last().cloned().unwrap_or_default()));
                    let _ = reply.send(result);
                }
                Request::Commit {
                    writes,
                    session,
                    reply,
                } => {
                    let result = match self.compute_writes(&writes, &session).await {
                        Ok((updates, _)) => self.apply_writes(updates),
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(result);
                }
                Request::Describe {
                    stmt,
                    declared,
                    session,
                    reply,
                } => {
                    let now = self.clock.now_ms();
                    let _ = reply.send(planner::describe(
                        &stmt,
                        &self.catalog,
                        now,
                        declared,
                        &session,
                    ));
                }
                Request::Subscribe {
                    stmt,
                    session,
                    reply,
                } => {
                    let _ = reply.send(self.subscribe(&stmt, &session));
                }
                Request::EndSubscribe { id } => self.end_subscribe(id),
                Request::SourceBatch(b) => self.source_batch(b),
                Request::SourceStalled { id, error } => self.source_stalled(id, error),
                Request::Webhook { name, body, reply } => {
                    let _ = reply.send(self.webhook(&name, &body));
                }
                Request::Tick => self.tick(),
                Request::Shutdown => {
                    // a last checkpoint, so the next start-up loads state
                    // (and views) instead of replaying the log
                    stopping = true;
                    if self.wal.segment_bytes() > 0 {
                        info!("writing a shutdown checkpoint");
                        self.checkpoint(None);
                        self.final_checkpoint.store(
                            self.checkpoint_running(),
                            std::sync::atomic::Ordering::Relaxed,
                        );
                    }
                }
                Request::ReadDone { ts, transient } => {
                    self.release_hold(ts);
                    if let Some(id) = transient {
                        self.cluster.send(Command::Drop(vec![id]));
                    }
                }
                Request::CheckpointDone { seq, result } => self.checkpoint_done(seq, result),
                Request::Caught { id } => self.caught_up(id),
                Request::SnapshotLoaded { id } => self.snapshot_loaded(id),
            }
            if stopping && !self.checkpoint_running() {
                break;
            }
            self.maybe_checkpoint();
        }
        self.flush_pending();
        info!("coordinator stopped");
    }

    /// A read at `ts` is over: compaction may pass it.
    fn release_hold(&mut self, ts: u64) {
        if let Some(n) = self.holds.get_mut(&ts) {
            *n -= 1;
            if *n == 0 {
                self.holds.remove(&ts);
            }
        }
    }

    /// Makes the waiting INSERTs durable with one log record and one fsync,
    /// applies them at one timestamp, and acknowledges each (or fails each,
    /// if the log could not be written).
    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending_since = None;
        let batch = std::mem::take(&mut self.pending);
        tracing::debug!(statements = batch.len(), "group commit");
        let mut updates = Vec::with_capacity(batch.iter().map(|(u, _, _)| u.len()).sum());
        let mut replies = Vec::with_capacity(batch.len());
        for (u, reply, tag) in batch {
            updates.extend(u);
            replies.push((reply, tag));
        }
        let result = self.apply_writes(updates);
        for (reply, tag) in replies {
            let _ = reply.send(result.clone().map(|_| Outcome::Tag(tag)));
        }
    }

    /// Plans and runs one statement. Reads answer through `reply` when the
    /// workers are done (returns `None`); everything else returns its result.
    async fn execute(
        &mut self,
        stmt: &Parsed,
        session: &SessionInfo,
        reply: oneshot::Sender<SqlResult<Outcome>>,
    ) -> Option<(oneshot::Sender<SqlResult<Outcome>>, SqlResult<Outcome>)> {
        let plan = match planner::plan(stmt, &self.catalog, self.clock.now_ms(), session) {
            Ok(p) => p,
            Err(e) => return Some((reply, Err(e))),
        };
        // An INSERT of constant rows reads nothing: it joins the group
        // waiting for the next fsync. Everything else sees that group
        // durable and applied first.
        let constant_insert = matches!(
            plan,
            StatementPlan::Insert {
                source: Plan::Constant { .. },
                ..
            }
        );
        if !constant_insert {
            self.flush_pending();
        }
        let result = match plan {
            _ if constant_insert => match self
                .compute_writes(std::slice::from_ref(stmt), session)
                .await
            {
                Ok((updates, mut tags)) => {
                    self.pending_since
                        .get_or_insert_with(std::time::Instant::now);
                    self.pending.push((updates, reply, tags.remove(0)));
                    return None;
                }
                Err(e) => Err(e),
            },
            StatementPlan::Select(read) | StatementPlan::CopyTo(read) => {
                self.read(read, reply);
                return None;
            }
            StatementPlan::CopyFrom(copy) => Ok(Outcome::CopyIn(copy)),
            StatementPlan::Subscribe { .. } => Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "SUBSCRIBE cannot run here (in a transaction block or as a prepared statement parameter); run it on its own or DECLARE a cursor for it",
            )),
            StatementPlan::Checkpoint => {
                self.checkpoint(Some(reply));
                return None;
            }
            p if p.is_write() => match self
                .compute_writes(std::slice::from_ref(stmt), session)
                .await
            {
                Ok((updates, tags)) => self
                    .apply_writes(updates)
                    .map(|_| Outcome::Tag(tags[0].clone())),
                Err(e) => Err(e),
            },
            p => self.execute_ddl(p).await,
        };
        Some((reply, result))
    }

    /// Starts a read at the current read timestamp; the answer goes to `reply`.
    fn read(&mut self, mut read: ReadPlan, reply: oneshot::Sender<SqlResult<Outcome>>) {
        let ts = self.use_snapshots(&mut read.plan, self.read_ts);
        let (target, transient) = match &read.plan {
            Plan::Get { id, .. } => (*id, None),
            plan => {
                let id = GlobalId(self.next_transient);
                self.next_transient += 1;
                self.cluster.send(Command::CreateDataflow {
                    id,
                    plan: plan.clone(),
                    export: Export::Primary,
                    as_of: ts,
                });
                (id, Some(id))
            }
        };
        *self.holds.entry(ts).or_default() += 1;
        let done_tx = self.self_tx.clone();
        let reply = Arc::new(std::sync::Mutex::new(Some(reply)));
        if let Some(id) = transient {
            self.inflight.push((id, reply.clone()));
        }
        self.cluster.peek(
            target,
            ts,
            Box::new(move |result: PeekResult| {
                let _ = done_tx.send(Request::ReadDone { ts, transient });
                if let Some(reply) = reply.lock().expect("lock").take() {
                    let outcome = result.and_then(|rows| finish(rows, &read));
                    let _ = reply.send(outcome);
                }
            }),
        );
    }

    /// Drops the dataflows of reads nobody waits for any more (their peek
    /// then ends with an error no one receives, and releases its hold).
    fn drop_abandoned_reads(&mut self) {
        let mut abandoned = vec![];
        self.inflight
            .retain(|(id, reply)| match &*reply.lock().expect("lock") {
                None => false,
                Some(r) if r.is_closed() => {
                    abandoned.push(*id);
                    false
                }
                Some(_) => true,
            });
        if !abandoned.is_empty() {
            info!(
                reads = abandoned.len(),
                "dropped the dataflows of abandoned reads"
            );
            self.cluster.send(Command::Drop(abandoned));
        }
    }

    /// Reads `plan` at the current read timestamp and waits for the rows.
    async fn read_now(&mut self, plan: Plan) -> SqlResult<Vec<(Row, isize)>> {
        let (tx, rx) = oneshot::channel();
        let finishing = planner::Finishing {
            project: (0..plan.arity()).collect(),
            ..Default::default()
        };
        self.read(
            ReadPlan {
                plan,
                columns: vec![],
                finishing,
            },
            tx,
        );
        match rx.await {
            Ok(Ok(Outcome::Rows { rows, .. })) => {
                let mut counts: HashMap<Row, isize> = HashMap::new();
                for r in rows {
                    *counts.entry(r).or_default() += 1;
                }
                Ok(counts.into_iter().collect())
            }
            Ok(Ok(_)) => Err(SqlError::internal("read returned no rows")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SqlError::internal("read was abandoned")),
        }
    }

    /// Computes the table updates of `stmts` in order, each seeing the ones
    /// before it; returns the updates and one tag per statement.
    async fn compute_writes(
        &mut self,
        stmts: &[Parsed],
        session: &SessionInfo,
    ) -> SqlResult<(Vec<(GlobalId, Row, isize)>, Vec<String>)> {
        let mut overlay: HashMap<GlobalId, Contents> = HashMap::new();
        let mut updates = vec![];
        let mut tags = vec![];
        for stmt in stmts {
            let plan = planner::plan(stmt, &self.catalog, self.clock.now_ms(), session)?;
            if let StatementPlan::Truncate { tables } = plan {
                for table in tables {
                    let contents = self.table_contents(table, &mut overlay, &updates).await?;
                    let changes: Vec<(Row, isize)> =
                        contents.into_iter().map(|(r, d)| (r, -d)).collect();
                    if let Some(c) = overlay.get_mut(&table) {
                        apply(c, &changes);
                    }
                    updates.extend(changes.into_iter().map(|(r, d)| (table, r, d)));
                }
                tags.push("TRUNCATE TABLE".to_string());
                continue;
            }
            let (table, changes, tag) = match plan {
                StatementPlan::Insert { table, source } => {
                    let rows = match source {
                        Plan::Constant { rows, .. } => std::sync::Arc::unwrap_or_clone(rows),
                        other => {
                            // The read happens at the block's start: it
                            // cannot see the block's own earlier writes.
                            let written = |id: &GlobalId| {
                                updates.iter().any(|(t, _, _)| t == id)
                                    || (!updates.is_empty()
                                        && self
                                            .catalog
                                            .get(*id)
                                            .is_some_and(|i| i.kind != ItemKind::Table))
                            };
                            if other.depends_on().iter().any(written) {
                                return Err(SqlError::new(
                                    sqlstate::INVALID_TRANSACTION_STATE,
                                    "INSERT … SELECT from a table written earlier in the same transaction block is not supported; COMMIT first",
                                ));
                            }
                            self.read_now(other).await?
                        }
                    };
                    let schema = self.schema_of(table)?;
                    let mut out = vec![];
                    let mut n = 0;
                    for (r, d) in rows {
                        out.push((self.validate_row(table, &schema, r)?, d));
                        n += d;
                    }
                    (table, out, format!("INSERT 0 {n}"))
                }
                StatementPlan::Update {
                    table,
                    predicate,
                    assignments,
                } => {
                    let contents = self.table_contents(table, &mut overlay, &updates).await?;
                    let schema = self.schema_of(table)?;
                    let mut out = vec![];
                    let mut n = 0;
                    for (row, d) in contents {
                        if let Some(p) = &predicate {
                            if !p.eval_predicate(&row)? {
                                continue;
                            }
                        }
                        let new = Row::new(
                            assignments
                                .iter()
                                .map(|e| e.eval(&row))
                                .collect::<SqlResult<Vec<_>>>()?,
                        );
                        let new = self.validate_row(table, &schema, new)?;
                        out.push((row, -d));
                        out.push((new, d));
                        n += d;
                    }
                    (table, out, format!("UPDATE {n}"))
                }
                StatementPlan::Delete { table, predicate } => {
                    let contents = self.table_contents(table, &mut overlay, &updates).await?;
                    let mut out = vec![];
                    let mut n = 0;
                    for (row, d) in contents {
                        if let Some(p) = &predicate {
                            if !p.eval_predicate(&row)? {
                                continue;
                            }
                        }
                        out.push((row, -d));
                        n += d;
                    }
                    (table, out, format!("DELETE {n}"))
                }
                _ => return Err(SqlError::internal("not a write")),
            };
            if let Some(contents) = overlay.get_mut(&table) {
                apply(contents, &changes);
            }
            updates.extend(changes.into_iter().map(|(r, d)| (table, r, d)));
            tags.push(tag);
        }
        consolidate(&mut updates);
        Ok((updates, tags))
    }

    /// The table's rows at the read timestamp plus this block's changes
    /// (`pending`, the updates of the block's earlier statements).
    async fn table_contents(
        &mut self,
        table: GlobalId,
        overlay: &mut HashMap<GlobalId, Contents>,
        pending: &[(GlobalId, Row, isize)],
    ) -> SqlResult<Vec<(Row, isize)>> {
        if let std::collections::hash_map::Entry::Vacant(slot) = overlay.entry(table) {
            let name = self
                .catalog
                .get(table)
                .map(|i| i.name.clone())
                .unwrap_or_default();
            let arity = self.schema_of(table)?.len();
            let rows = self
                .read_now(Plan::Get {
                    id: table,
                    name,
                    arity,
                })
                .await?;
            let contents = slot.insert(rows.into_iter().collect());
            let earlier: Vec<(Row, isize)> = pending
                .iter()
                .filter(|(id, _, _)| *id == table)
                .map(|(_, r, d)| (r.clone(), *d))
                .collect();
            apply(contents, &earlier);
        }
        let contents = &overlay[&table];
        let mut rows: Vec<(Row, isize)> = contents
            .iter()
            .filter(|(_, d)| **d > 0)
            .map(|(r, d)| (r.clone(), *d))
            .collect();
        rows.sort();
        Ok(rows)
    }

    fn schema_of(&self, id: GlobalId) -> SqlResult<Schema> {
        self.catalog
            .get(id)
            .map(|i| i.schema.clone())
            .ok_or_else(|| SqlError::internal(format!("unknown table {id}")))
    }

    /// Checks NOT NULL and length limits, and pads char(n), as a store does.
    fn validate_row(&self, table: GlobalId, schema: &Schema, row: Row) -> SqlResult<Row> {
        let mut datums = row.into_datums();
        for (d, c) in datums.iter_mut().zip(&schema.columns) {
            if d.is_null() && !c.nullable {
                let name = self
                    .catalog
                    .get(table)
                    .map(|i| i.name.as_str())
                    .unwrap_or("?");
                return Err(SqlError::new(
                    sqlstate::NOT_NULL_VIOLATION,
                    format!("null value in column \"{}\" of relation \"{name}\" violates not-null constraint", c.name),
                ));
            }
            if let Datum::Text(s) = d {
                match c.ty {
                    ScalarType::Varchar(Some(n)) => *s = check_length(s, n, "character varying")?,
                    ScalarType::Char(n) => *s = pad_char(&check_length(s, n, "character")?, n),
                    _ => {}
                }
            }
        }
        Ok(Row::new(datums))
    }

    /// Writes the rows a `COPY … FROM STDIN` read into `table`, as one
    /// write, without copying them (they can be millions).
    fn write_rows(&mut self, table: GlobalId, rows: Arc<Vec<(Row, isize)>>) -> SqlResult<Outcome> {
        self.flush_pending();
        let schema = planner::copy::copy_target(&self.catalog, table)?
            .schema
            .clone();
        let rows = Arc::unwrap_or_clone(rows);
        let mut updates = Vec::with_capacity(rows.len());
        for (row, d) in rows {
            if row.len() != schema.len() {
                return Err(SqlError::internal("a COPY row does not fit its table"));
            }
            updates.push((table, self.validate_row(table, &schema, row)?, d));
        }
        let n = updates.len();
        self.apply_writes(updates)?;
        Ok(Outcome::Tag(format!("INSERT 0 {n}")))
    }

    /// Sequences a write: next timestamp, durable log, then the workers.
    /// The caller acknowledges the client after this returns.
    fn apply_writes(&mut self, updates: Vec<(GlobalId, Row, isize)>) -> SqlResult<()> {
        if updates.is_empty() {
            return Ok(());
        }
        self.write_with(updates, vec![])
    }

    /// As `apply_writes`, with `also` in the same log frame (a source's
    /// new offset), so both or neither survive a crash.
    fn write_with(
        &mut self,
        updates: Vec<(GlobalId, Row, isize)>,
        also: Vec<LogRecord>,
    ) -> SqlResult<()> {
        let ts = self.clock.next();
        // the log record borrows the rows, which then go to the workers
        let mut records = vec![LogRecord::Write { ts, updates }];
        if !also.is_empty() {
            records.extend(also);
            records = vec![LogRecord::Group(records)];
        }
        let appended = self.wal.append(&records);
        let updates = match records.pop() {
            Some(LogRecord::Write { updates, .. }) => updates,
            Some(LogRecord::Group(mut g)) if !g.is_empty() => match g.swap_remove(0) {
                LogRecord::Write { updates, .. } => updates,
                _ => unreachable!("the write is the group's first record"),
            },
            _ => unreachable!("one record was built"),
        };
        appended?;
        if !self.snapshots.is_empty() {
            let tables: std::collections::BTreeSet<GlobalId> =
                updates.iter().map(|u| u.0).collect();
            self.invalidate_snapshots(&tables, ts);
        }
        self.cluster.send(Command::Write { ts, updates });
        self.read_ts = ts;
        Ok(())
    }

    fn tick(&mut self) {
        self.drop_abandoned_reads();
        self.drop_spent_snapshots(&[]);
        let floor = *self.history_floor.get_or_insert(self.read_ts);
        let ts = self.clock.next();
        self.cluster.send(Command::AdvanceTo(ts + 1));
        self.read_ts = ts;
        // the floor is an earlier read time, so never past `ts`
        let keep_from = ts.saturating_sub(self.retain_history_ms).max(floor);
        let since = self
            .holds
            .keys()
            .next()
            .map_or(keep_from, |h| keep_from.min(*h));
        self.since = since;
        self.cluster.send(Command::AllowCompaction(since));
    }

    async fn execute_ddl(&mut self, plan: StatementPlan) -> SqlResult<Outcome> {
        let result_columns = plan.result_columns().unwrap_or_default();
        match plan {
            StatementPlan::CreateTable {
                name,
                schema,
                defaults,
                if_not_exists,
            } => {
                if self.catalog.get_by_name(&name).is_some() && if_not_exists {
                    return Ok(Outcome::Tag("CREATE TABLE".into()));
                }
                let id = self.catalog.allocate_id();
                let item = CatalogItem {
                    id,
                    name,
                    kind: ItemKind::Table,
                    schema,
                    uses: vec![],
                    detail: ItemDetail::Table { defaults },
                };
                self.create(item, None)?;
                Ok(Outcome::Tag("CREATE TABLE".into()))
            }
            StatementPlan::CreateSource {
                name,
                if_not_exists,
                schema,
                spec,
                subsources,
            } => {
                if self.catalog.get_by_name(&name).is_some() && if_not_exists {
                    return Ok(Outcome::Tag("CREATE SOURCE".into()));
                }
                self.create_source(name, schema, spec, subsources)?;
                Ok(Outcome::Tag("CREATE SOURCE".into()))
            }
            StatementPlan::CreateView {
                name,
                columns,
                plan,
                sql,
                depends,
                materialized,
                if_not_exists,
                or_replace,
            } => {
                let (kind, tag) = if materialized {
                    (ItemKind::MaterializedView, "CREATE MATERIALIZED VIEW")
                } else {
                    (ItemKind::View, "CREATE VIEW")
                };
                if let Some(existing) = self.catalog.get_by_name(&name) {
                    if if_not_exists {
                        return Ok(Outcome::Tag(tag.into()));
                    }
                    if or_replace {
                        return Err(SqlError::unsupported(
                            "CREATE OR REPLACE of an existing view",
                        ));
                    }
                    let _ = existing;
                }
                let id = self.catalog.allocate_id();
                let item = CatalogItem {
                    id,
                    name,
                    kind,
                    schema: Schema::new(columns),
                    uses: depends,
                    detail: ItemDetail::Query { sql },
                };
                let render = materialized.then_some((plan, Export::Primary));
                self.create(item, render)?;
                Ok(Outcome::Tag(tag.into()))
            }
            StatementPlan::CreateTableAs {
                name,
                schema,
                read,
                if_not_exists,
            } => {
                if self.catalog.get_by_name(&name).is_some() {
                    if if_not_exists {
                        return Ok(Outcome::Tag("CREATE TABLE AS".into()));
                    }
                    return Err(SqlError::new(
                        sqlstate::DUPLICATE_TABLE,
                        format!("relation \"{name}\" already exists"),
                    ));
                }
                let rows = self.read_now(read.plan.clone()).await?;
                let Outcome::Rows { rows, .. } = finish(rows, &read)? else {
                    return Err(SqlError::internal("a read without rows"));
                };
                let id = self.catalog.allocate_id();
                let item = CatalogItem {
                    id,
                    name,
                    kind: ItemKind::Table,
                    detail: ItemDetail::Table {
                        defaults: vec![None; schema.len()],
                    },
                    schema,
                    uses: vec![],
                };
                let n = rows.len();
                let mut updates: Vec<(GlobalId, Row, isize)> =
                    rows.into_iter().map(|r| (id, r, 1)).collect();
                consolidate(&mut updates);
                // the table and its rows are one log frame: after a crash
                // the table is there with all its rows, or not at all
                let ts = self.clock.next();
                self.wal.append(&[LogRecord::Group(vec![
                    LogRecord::Create(item.clone()),
                    LogRecord::Write {
                        ts,
                        updates: updates.clone(),
                    },
                ])])?;
                self.install(item, None)?;
                if !updates.is_empty() {
                    self.cluster.send(Command::Write { ts, updates });
                }
                self.read_ts = ts;
                Ok(Outcome::Tag(format!("SELECT {n}")))
            }
            StatementPlan::CreateIndex {
                name,
                on,
                keys,
                if_not_exists,
            } => {
                if self.catalog.get_by_name(&name).is_some() && if_not_exists {
                    return Ok(Outcome::Tag("CREATE INDEX".into()));
                }
                let target = self
                    .catalog
                    .get(on)
                    .cloned()
                    .ok_or_else(|| SqlError::internal("index target vanished"))?;
                let plan = self.index_source(&target)?;
                let id = self.catalog.allocate_id();
                let item = CatalogItem {
                    id,
                    name,
                    kind: ItemKind::Index,
                    schema: target.schema.clone(),
                    uses: vec![on],
                    detail: ItemDetail::Index {
                        on,
                        keys: keys.clone(),
                    },
                };
                self.create(item, Some((plan, Export::Index { keys })))?;
                Ok(Outcome::Tag("CREATE INDEX".into()))
            }
            StatementPlan::Drop {
                ids,
                missing: _,
                kind,
            } => {
                if !ids.is_empty() {
                    self.wal.append(&[LogRecord::Drop(ids.clone())])?;
                    let mut dropped = vec![];
                    for id in &ids {
                        if let Some(item) = self.catalog.remove(*id) {
                            dropped.push((*id, item.name));
                        }
                    }
                    self.end_subscribes_reading(&dropped);
                    self.stop_sources(&ids);
                    self.drop_spent_snapshots(&ids);
                    self.cluster.send(Command::Drop(ids));
                }
                Ok(Outcome::Tag(format!("DROP {}", kind.noun().to_uppercase())))
            }
            StatementPlan::CreateRole { name, options } => {
                let role = catalog::Role {
                    name,
                    id: self.catalog.allocate_id(),
                    superuser: false,
                    login: false,
                    create_role: false,
                    create_db: false,
                    password: None,
                };
                self.save_role(with_options(role, options), None)?;
                Ok(Outcome::Tag("CREATE ROLE".into()))
            }
            StatementPlan::AlterRole {
                name,
                options,
                rename,
            } => {
                let role = match self.catalog.role(&name) {
                    Some(r) => r.clone(),
                    // the owner gets a catalog entry the first time it is altered
                    None => catalog::Role {
                        name: name.clone(),
                        id: self.catalog.allocate_id(),
                        superuser: true,
                        login: true,
                        create_role: true,
                        create_db: true,
                        password: None,
                    },
                };
                let mut role = with_options(role, options);
                match rename {
                    Some(to) => {
                        role.name = to;
                        self.save_role(role, Some(name))?;
                    }
                    None => self.save_role(role, None)?,
                }
                Ok(Outcome::Tag("ALTER ROLE".into()))
            }
            StatementPlan::DropRole { names } => {
                if !names.is_empty() {
                    self.wal.append(&[LogRecord::DropRoles(names.clone())])?;
                    for n in &names {
                        self.catalog.remove_role(n);
                    }
                    self.publish_roles();
                }
                Ok(Outcome::Tag("DROP ROLE".into()))
            }
            StatementPlan::ShowObjects { kind } => {
                let mut names: Vec<String> = self
                    .catalog
                    .items()
                    .filter(|i| i.kind == kind)
                    .map(|i| i.name.clone())
                    .collect();
                names.sort();
                Ok(Outcome::Rows {
                    columns: result_columns,
                    rows: names
                        .into_iter()
                        .map(|n| Row::new(vec![Datum::Text(n)]))
                        .collect(),
                })
            }
            StatementPlan::Explain(text) => Ok(Outcome::Rows {
                columns: result_columns,
                rows: text
                    .lines()
                    .map(|l| Row::new(vec![Datum::Text(l.to_string())]))
                    .collect(),
            }),
            other => Err(SqlError::internal(format!(
                "statement {other:?} reached the coordinator"
            ))),
        }
    }

    /// Logs and installs a new or changed role (renamed from `replaces`),
    /// in one log record so a crash keeps either the old or the new.
    fn save_role(&mut self, role: catalog::Role, replaces: Option<String>) -> SqlResult<()> {
        self.wal.append(&[LogRecord::Role {
            role: role.clone(),
            replaces: replaces.clone(),
        }])?;
        if let Some(old) = replaces {
            self.catalog.remove_role(&old);
        }
        self.catalog.set_role(role);
        self.publish_roles();
        Ok(())
    }

    /// Makes the catalog's roles visible to authentication.
    fn publish_roles(&self) {
        *self.roles.write().expect("lock") = self
            .catalog
            .roles()
            .map(|r| (r.name.clone(), r.clone()))
            .collect();
    }

    /// The rows an index on `target` arranges: a table's or materialized
    /// view's arrangement, or a (non-materialized) view's query.
    fn index_source(&self, target: &CatalogItem) -> SqlResult<Plan> {
        match &target.detail {
            ItemDetail::Query { sql } if target.kind == ItemKind::View => {
                planner::plan_view_query(sql, &self.catalog)
            }
            _ => Ok(Plan::Get {
                id: target.id,
                name: target.name.clone(),
                arity: target.schema.len(),
            }),
        }
    }

    /// Logs and installs a new catalog item, rendering its dataflow if it has one.
    fn create(&mut self, item: CatalogItem, render: Option<(Plan, Export)>) -> SqlResult<()> {
        if self.catalog.get_by_name(&item.name).is_some() {
            return Err(SqlError::new(
                sqlstate::DUPLICATE_TABLE,
                format!("relation \"{}\" already exists", item.name),
            ));
        }
        self.wal.append(&[LogRecord::Create(item.clone())])?;
        self.install(item, render)
    }

    /// Installs an item in the catalog and the workers (also used by recovery).
    pub fn install(&mut self, item: CatalogItem, render: Option<(Plan, Export)>) -> SqlResult<()> {
        let id = item.id;
        match (item.kind, render) {
            (k, _) if k.is_stored() => self.cluster.send(Command::CreateTable { id }),
            (_, Some((plan, export))) => {
                if !self.snapshots.is_empty() {
                    self.undefer(&plan.depends_on());
                }
                self.cluster.send(Command::CreateDataflow {
                    id,
                    plan,
                    export,
                    as_of: self.read_ts,
                });
            }
            _ => {}
        }
        info!(id = %id, name = %item.name, kind = item.kind.noun(), "created");
        self.catalog.insert(item)
    }
}

/// `role` with the attributes a CREATE or ALTER ROLE gave; a password is
/// stored as its SCRAM verifier.
fn with_options(mut role: catalog::Role, o: planner::RoleOptions) -> catalog::Role {
    role.superuser = o.superuser.unwrap_or(role.superuser);
    role.login = o.login.unwrap_or(role.login);
    role.create_role = o.create_role.unwrap_or(role.create_role);
    role.create_db = o.create_db.unwrap_or(role.create_db);
    if let Some(p) = o.password {
        role.password = p.as_deref().map(crate::auth::stored_password);
    }
    role
}

/// Adds `changes` to `contents`, dropping rows whose count reaches zero.
fn apply(contents: &mut Contents, changes: &[(Row, isize)]) {
    for (r, d) in changes {
        let e = contents.entry(r.clone()).or_default();
        *e += d;
        if *e == 0 {
            contents.remove(r);
        }
    }
}

/// Sums updates of the same (table, row), dropping zeros.
fn consolidate(updates: &mut Vec<(GlobalId, Row, isize)>) {
    let mut map: BTreeMap<(GlobalId, Row), isize> = BTreeMap::new();
    for (id, r, d) in updates.drain(..) {
        *map.entry((id, r)).or_default() += d;
    }
    updates.extend(
        map.into_iter()
            .filter(|(_, d)| *d != 0)
            .map(|((id, r), d)| (id, r, d)),
    );
}

/// Expands multiplicities, then applies ORDER BY, OFFSET, LIMIT and the
/// final projection.
fn finish(rows: Vec<(Row, isize)>, read: &ReadPlan) -> SqlResult<Outcome> {
    let mut out = Vec::new();
    for (r, n) in rows {
        if n < 0 {
            return Err(SqlError::internal("negative multiplicity in a read"));
        }
        for _ in 0..n {
            out.push(r.clone());
        }
    }
    let f = &read.finishing;
    if !f.order.is_empty() {
        out.sort_by(|a, b| dataflow::render::compare(a, b, &f.order));
    }
    let out: Vec<Row> = out
        .into_iter()
        .skip(f.offset)
        .take(f.limit.unwrap_or(usize::MAX))
        .map(|r| {
            if f.project.len() == r.len() {
                r
            } else {
                r.project(&f.project)
            }
        })
        .collect();
    Ok(Outcome::Rows {
        columns: read.columns.clone(),
        rows: out,
    })
}
