//! Durability beyond the log: checkpoints, written in the background so
//! the log can be truncated, and recovery (checkpoint, then the log's
//! tail, then the views), each phase timed and every object's figures kept
//! for `ripple_catalog.recovery`.
//!
//! With view checkpoints on, a checkpoint also holds the contents of every
//! materialized view. After a restart such a view answers reads from those
//! contents (a frozen arrangement, its "snapshot") as long as none of the
//! tables it reads has been written since the checkpoint. Its dataflow is
//! rebuilt only when the first such write comes (or at once, when an index
//! or another view reads it); reads after that write wait for it, as they
//! would for any view rebuilt at start-up. (A view's contents depend only on
//! its tables: views can neither call `now()` nor read system catalogs. One
//! that could would need its snapshot ended by time as well.)

use super::{Coordinator, Outcome, Reply, Request};
use catalog::checkpoint::{self, CheckpointStats, CheckpointWriter};
use catalog::wal::{self, LogRecord, Recovered};
use catalog::{
    Catalog, CatalogItem, GlobalId, ItemDetail, ItemKind, RecoveryFigure, Row, SqlError, SqlResult,
};
use dataflow::{Command, Export, PeekResult};
use planner::Plan;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use tracing::{info, warn};

/// When to checkpoint, and what.
#[derive(Debug, Clone, Copy)]
pub struct DurabilityConfig {
    /// Take a checkpoint once the log has grown by this many bytes.
    pub checkpoint_log_bytes: u64,
    /// Also store materialized views' contents, and serve them after a
    /// restart while the views rebuild.
    pub view_checkpoints: bool,
}

/// The checkpoint being written, and who waits for one.
#[derive(Default)]
pub(super) struct Checkpoints {
    running: Option<Running>,
    /// CHECKPOINT statements that came while one was running: that one may
    /// predate their writes, so they wait for the next.
    queued: Vec<Reply>,
}

struct Running {
    seq: u64,
    ts: u64,
    started: Instant,
    waiters: Vec<Reply>,
}

/// After a restart, until every table is loaded: the snapshots' time (held
/// against compaction) and how many tables are still loading.
pub(super) struct Loading {
    ts: u64,
    tables: usize,
}

/// A materialized view served from its checkpointed contents while its
/// dataflow rebuilds after a restart.
pub(super) struct Snapshot {
    /// The frozen arrangement holding the contents.
    id: GlobalId,
    /// The tables the view reads: a write to one ends the snapshot.
    tables: Vec<GlobalId>,
    /// Reads up to this time may use the snapshot.
    valid_through: u64,
    /// Once the view's dataflow is complete: reads from then on use it,
    /// and the snapshot goes when no older read remains.
    retired_at: Option<u64>,
    /// The view's dataflow, not rendered until a write to its tables
    /// needs it.
    deferred: Option<(Plan, Export)>,
}

impl Coordinator {
    /// Takes a checkpoint; `waiter` (a CHECKPOINT statement) is answered
    /// when it is durable.
    pub(super) fn checkpoint(&mut self, waiter: Option<Reply>) {
        if self.ckpt.running.is_some() {
            self.ckpt.queued.extend(waiter);
            return;
        }
        match self.start_checkpoint() {
            Ok(mut running) => {
                running.waiters.extend(waiter);
                self.ckpt.running = Some(running);
            }
            Err(e) => {
                warn!(error = %e, "could not start a checkpoint");
                if let Some(w) = waiter {
                    let _ = w.send(Err(e));
                }
            }
        }
    }

    /// Whether a checkpoint is being written.
    pub(super) fn checkpoint_running(&self) -> bool {
        self.ckpt.running.is_some()
    }

    /// Checkpoints once the log has grown enough since the last one.
    pub(super) fn maybe_checkpoint(&mut self) {
        if self.ckpt.running.is_none()
            && self.wal.segment_bytes() >= self.durability.checkpoint_log_bytes
        {
            self.checkpoint(None);
        }
    }

    /// Starts a new log segment, then reads every table (and materialized
    /// view) at the time the old segments end, in the background: a
    /// writer thread stores what the workers answer.
    fn start_checkpoint(&mut self) -> SqlResult<Running> {
        self.flush_pending();
        let seq = self.wal.rotate()?;
        let ts = self.read_ts;
        *self.holds.entry(ts).or_default() += 1;
        let views = self.durability.view_checkpoints;
        let ids: Vec<GlobalId> = self
            .catalog
            .items()
            .filter(|i| i.kind.is_stored() || (views && i.kind == ItemKind::MaterializedView))
            .map(|i| i.id)
            .collect();
        let (tx, rx) = std::sync::mpsc::channel();
        for &id in &ids {
            let tx = tx.clone();
            self.cluster.peek(
                self.contents_of(id),
                ts,
                Box::new(move |r| {
                    let _ = tx.send((id, r));
                }),
            );
        }
        let catalog = self.catalog.clone();
        let dir = self.wal.dir().to_path_buf();
        let fsync = self.wal.fsync();
        let done = self.self_tx.clone();
        let n = ids.len();
        std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                let result = write_checkpoint(&dir, seq, fsync, ts, &catalog, &ids, rx);
                let _ = done.send(Request::CheckpointDone { seq, result });
            })
            .map_err(|e| SqlError::internal(format!("could not start a checkpoint: {e}")))?;
        info!(seq, ts, collections = n, "checkpoint started");
        Ok(Running {
            seq,
            ts,
            started: Instant::now(),
            waiters: vec![],
        })
    }

    /// The writer thread finished checkpoint `seq`.
    pub(super) fn checkpoint_done(&mut self, seq: u64, result: SqlResult<CheckpointStats>) {
        let Some(running) = self.ckpt.running.take_if(|r| r.seq == seq) else {
            return;
        };
        self.release_hold(running.ts);
        let ms = running.started.elapsed().as_millis() as u64;
        match &result {
            Ok(s) => info!(
                seq,
                rows = s.rows,
                bytes = s.bytes,
                ms,
                "checkpoint written; the log before it is removed"
            ),
            Err(e) => warn!(seq, error = %e, "checkpoint failed; the log is kept"),
        }
        for w in running.waiters {
            let _ = w.send(result.clone().map(|_| Outcome::Tag("CHECKPOINT".into())));
        }
        let queued = std::mem::take(&mut self.ckpt.queued);
        if !queued.is_empty() {
            match self.start_checkpoint() {
                Ok(mut running) => {
                    running.waiters = queued;
                    self.ckpt.running = Some(running);
                }
                Err(e) => {
                    for w in queued {
                        let _ = w.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Rebuilds the state the data directory holds: the checkpoint, then
    /// the log after it, then the views over them. Each phase is logged
    /// with its duration; objects get their figures in
    /// `ripple_catalog.recovery`.
    pub fn recover(&mut self, recovered: Recovered) -> SqlResult<()> {
        let mut phase = Instant::now();
        let mut lap = || {
            let ms = phase.elapsed().as_secs_f64() * 1000.0;
            phase = Instant::now();
            ms.round() as u64
        };
        // 1. the checkpoint
        let mut contents: BTreeMap<GlobalId, Vec<(Row, isize)>> = BTreeMap::new();
        // the collections whose rows the checkpoint holds
        let mut from_checkpoint = std::collections::BTreeSet::new();
        if let Some(path) = &recovered.checkpoint {
            let c = checkpoint::load(path)?;
            self.catalog = c.catalog;
            self.clock.observe(c.ts);
            contents = c.contents;
            from_checkpoint = c.collections;
            info!(
                file = %path.display(),
                rows = c.stats.rows,
                bytes = c.stats.bytes,
                ms = lap(),
                "recovery: loaded the checkpoint"
            );
        }
        // 2. the log after it
        let records = recovered.records.len();
        let mut tail: BTreeMap<GlobalId, Vec<(Row, isize)>> = BTreeMap::new();
        let mut max_ts = 0;
        for r in LogRecord::flatten(recovered.records) {
            match r {
                LogRecord::Create(item) => self.catalog.insert(item)?,
                LogRecord::Drop(ids) => {
                    for id in ids {
                        self.catalog.remove(id);
                        contents.remove(&id);
                        tail.remove(&id);
                    }
                }
                LogRecord::Role { role, replaces } => {
                    if let Some(old) = replaces {
                        self.catalog.remove_role(&old);
                    }
                    self.catalog.set_role(role);
                }
                LogRecord::DropRoles(names) => {
                    for n in names {
                        self.catalog.remove_role(&n);
                    }
                }
                LogRecord::Group(_) => unreachable!("groups are flattened above"),
                LogRecord::SourceOffset { id, offset } => {
                    self.catalog.set_source_offset(id, offset)
                }
                LogRecord::Write { ts, updates } => {
                    max_ts = max_ts.max(ts);
                    for (id, row, d) in updates {
                        if self.catalog.get(id).is_some() {
                            tail.entry(id).or_default().push((row, d));
                        }
                    }
                }
            }
        }
        self.clock.observe(max_ts);
        info!(
            segments = recovered.segments,
            records,
            bytes = recovered.log_bytes,
            ms = lap(),
            "recovery: replayed the log"
        );
        // 3. view snapshots, then tables into the workers: the snapshots'
        // rows at one time, the tables' at the next, the log's changes at
        // the one after. The workers feed a large write in slices, so reads
        // of the snapshots alone (at the first time, see `read`) are
        // answered while the tables are still being arranged.
        let items: Vec<CatalogItem> = self.catalog.items().cloned().collect();
        let written: std::collections::BTreeSet<GlobalId> = tail.keys().copied().collect();
        let mut load: Vec<(GlobalId, Row, isize)> = vec![];
        let mut snapshot_rows: Vec<(GlobalId, Row, isize)> = vec![];
        let mut rows_of: BTreeMap<GlobalId, u64> = BTreeMap::new();
        let timed = self.time_dependent(&items);
        for item in &items {
            let rows = contents.remove(&item.id).unwrap_or_default();
            let target = match item.kind {
                ItemKind::Table | ItemKind::Source => item.id,
                ItemKind::MaterializedView if self.durability.view_checkpoints => {
                    let tables = self.catalog.base_tables(item.id);
                    if !from_checkpoint.contains(&item.id)
                        || tables.iter().any(|t| written.contains(t))
                        || timed.contains(&item.id)
                    {
                        continue;
                    }
                    let id = GlobalId(self.next_transient);
                    self.next_transient += 1;
                    self.snapshots.insert(
                        item.id,
                        Snapshot {
                            id,
                            tables,
                            valid_through: u64::MAX,
                            retired_at: None,
                            deferred: None,
                        },
                    );
                    id
                }
                _ => continue,
            };
            self.cluster.send(Command::CreateTable { id: target });
            let n = rows.len() as u64 + tail.get(&item.id).map_or(0, |t| t.len() as u64);
            rows_of.insert(item.id, n);
            let into = if target == item.id {
                &mut load
            } else {
                &mut snapshot_rows
            };
            into.extend(rows.into_iter().map(|(r, d)| (target, r, d)));
        }
        let loaded = load.len() + snapshot_rows.len();
        if !self.snapshots.is_empty() {
            let ts = self.clock.next();
            self.cluster.send(Command::Write {
                ts,
                updates: snapshot_rows,
            });
            let tables = items.iter().filter(|i| i.kind.is_stored()).count();
            if tables > 0 {
                *self.holds.entry(ts).or_default() += 1;
                self.loading = Some(Loading { ts, tables });
            }
        }
        let ts = self.clock.next();
        self.cluster.send(Command::Write { ts, updates: load });
        self.read_ts = ts;
        let changes: Vec<(GlobalId, Row, isize)> = tail
            .into_iter()
            .filter(|(id, _)| self.catalog.get(*id).is_some_and(|i| i.kind.is_stored()))
            .flat_map(|(id, rows)| rows.into_iter().map(move |(r, d)| (id, r, d)))
            .collect();
        if !changes.is_empty() {
            let ts = self.clock.next();
            self.cluster.send(Command::Write {
                ts,
                updates: changes,
            });
            self.read_ts = ts;
        }
        info!(
            rows = loaded,
            snapshots = self.snapshots.len(),
            ms = lap(),
            "recovery: loaded tables"
        );
        // 4. views and indexes, in creation order (ids grow, and an item
        // only reads older ones)
        let read_by_dataflows: std::collections::BTreeSet<GlobalId> = items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::MaterializedView | ItemKind::Index))
            .flat_map(|i| self.catalog.materialized_inputs(i.id))
            .collect();
        for item in &items {
            let render = match (&item.kind, &item.detail) {
                (ItemKind::MaterializedView, ItemDetail::Query { sql }) => Some((
                    planner::plan_view_query(sql, &self.catalog)?,
                    Export::Primary,
                )),
                (ItemKind::Index, ItemDetail::Index { on, keys }) => {
                    let target = self
                        .catalog
                        .get(*on)
                        .cloned()
                        .ok_or_else(|| SqlError::internal("index target missing in log"))?;
                    let plan = self.index_source(&target)?;
                    Some((plan, Export::Index { keys: keys.clone() }))
                }
                _ => None,
            };
            let Some((plan, export)) = render else {
                continue;
            };
            // a view served from its snapshot that no other dataflow reads
            // waits for a write to its tables before it rebuilds
            match self.snapshots.get_mut(&item.id) {
                Some(s) if !read_by_dataflows.contains(&item.id) => {
                    s.deferred = Some((plan, export))
                }
                _ => self.cluster.send(Command::CreateDataflow {
                    id: item.id,
                    plan,
                    export,
                    as_of: self.read_ts,
                }),
            }
        }
        self.publish_roles();
        info!(
            objects = items.len(),
            ms = lap(),
            "recovery: rendered views; they complete in the background"
        );
        // 5. figures, completed as each object catches up
        for item in &items {
            if item.kind == ItemKind::View {
                continue;
            }
            let in_ckpt = from_checkpoint.contains(&item.id);
            let source = match item.kind {
                k if k.is_stored() && in_ckpt && written.contains(&item.id) => "checkpoint+log",
                k if k.is_stored() && in_ckpt => "checkpoint",
                k if k.is_stored() => "log",
                _ if self.snapshots.contains_key(&item.id) => "snapshot",
                _ => "recomputed",
            };
            self.catalog.set_recovery(RecoveryFigure {
                id: item.id,
                name: item.name.clone(),
                kind: item.kind,
                source,
                rows: rows_of.get(&item.id).copied().unwrap_or(0),
                ready_ms: None,
                rebuilt_ms: None,
            });
            let id = item.id;
            if self.snapshots.get(&id).is_none_or(|s| s.deferred.is_none()) {
                self.probe_caught(id, self.read_ts);
            }
            if let Some(s) = self.snapshots.get(&id) {
                // a snapshot answers reads as soon as it is loaded
                self.report_when_complete(s.id, self.read_ts, Request::SnapshotLoaded { id });
            }
        }
        // sources go on from where the log says they got to
        self.start_sources();
        Ok(())
    }

    /// Reports (`Request::Caught`) when `id`'s arrangement is complete through `ts`.
    fn probe_caught(&self, id: GlobalId, ts: u64) {
        self.report_when_complete(id, ts, Request::Caught { id });
    }

    /// Sends `report` to the coordinator once `target` is complete through `ts`.
    fn report_when_complete(&self, target: GlobalId, ts: u64, report: Request) {
        let done = self.self_tx.clone();
        self.cluster.probe(
            target,
            ts,
            Box::new(move |_| {
                let _ = done.send(report);
            }),
        );
    }

    /// `id`'s own arrangement is complete through the recovery time.
    pub(super) fn caught_up(&mut self, id: GlobalId) {
        let is_table = self.catalog.get(id).is_some_and(|i| i.kind.is_stored());
        if let Some(l) = self.loading.as_mut().filter(|_| is_table) {
            l.tables -= 1;
            if l.tables == 0 {
                let ts = l.ts;
                self.loading = None;
                self.release_hold(ts);
            }
        }
        let ms = self.since_start_ms();
        let name = self
            .catalog
            .get(id)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        info!(id = %id, %name, ms = ms.round() as u64, "recovery: complete");
        self.catalog.recovery_ready(id, ms, true);
        if let Some(s) = self.snapshots.get_mut(&id) {
            s.retired_at = Some(self.read_ts);
        }
    }

    /// A view's snapshot is loaded: the view answers reads from it.
    pub(super) fn snapshot_loaded(&mut self, id: GlobalId) {
        let ms = self.since_start_ms();
        self.catalog.recovery_ready(id, ms, false);
    }

    /// Milliseconds since the process started, to a tenth.
    fn since_start_ms(&self) -> f64 {
        (self.started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
    }

    /// Reads at `ts` of views whose snapshot is still valid go to the
    /// snapshot. Returns the time to read at: while the tables are still
    /// loading after a restart, a read of snapshots alone reads at the
    /// snapshots' time (their contents are the same at `ts`, since no
    /// table they depend on has changed) and need not wait for the tables.
    pub(super) fn use_snapshots(&self, plan: &mut Plan, ts: u64) -> u64 {
        if self.snapshots.is_empty() {
            return ts;
        }
        plan.visit_mut(&mut |p| {
            if let Plan::Get { id, .. } = p {
                if let Some(s) = self.snapshots.get(id) {
                    if s.retired_at.is_none() && ts <= s.valid_through {
                        *id = s.id;
                    }
                }
            }
        });
        match &self.loading {
            Some(l) => {
                let reads = plan.depends_on();
                let snapshot_only = !reads.is_empty()
                    && reads
                        .iter()
                        .all(|r| self.snapshots.values().any(|s| s.id == *r));
                if snapshot_only {
                    l.ts
                } else {
                    ts
                }
            }
            None => ts,
        }
    }

    /// A write at `ts` to `tables` ends the snapshots of views reading
    /// them; views waiting to rebuild start now, over the tables as they
    /// were before the write.
    pub(super) fn invalidate_snapshots(
        &mut self,
        tables: &std::collections::BTreeSet<GlobalId>,
        ts: u64,
    ) {
        let mut render = vec![];
        for (view, s) in self.snapshots.iter_mut() {
            if s.valid_through >= ts && s.tables.iter().any(|t| tables.contains(t)) {
                s.valid_through = ts - 1;
                if let Some(r) = s.deferred.take() {
                    render.push((*view, r));
                }
            }
        }
        for (id, (plan, export)) in render {
            info!(id = %id, "rebuilding a view served from its snapshot: its tables changed");
            self.cluster.send(Command::CreateDataflow {
                id,
                plan,
                export,
                as_of: self.read_ts,
            });
            self.probe_caught(id, ts);
        }
    }

    /// A new dataflow reads `ids`: views among them still waiting to
    /// rebuild must rebuild now (their snapshots serve reads until then).
    pub(super) fn undefer(&mut self, ids: &[GlobalId]) {
        for id in ids {
            let Some(s) = self.snapshots.get_mut(id) else {
                continue;
            };
            if let Some((plan, export)) = s.deferred.take() {
                info!(id = %id, "rebuilding a view served from its snapshot: a new dataflow reads it");
                self.cluster.send(Command::CreateDataflow {
                    id: *id,
                    plan,
                    export,
                    as_of: self.read_ts,
                });
                self.probe_caught(*id, self.read_ts);
            }
        }
    }

    /// Materialized views whose contents change as time passes (a
    /// temporal filter in them or in a view they read): their checkpointed
    /// rows are stale at once, so they are never served as snapshots.
    fn time_dependent(&self, items: &[CatalogItem]) -> std::collections::BTreeSet<GlobalId> {
        let mut timed = std::collections::BTreeSet::new();
        // creation order: a view only reads older items
        for item in items {
            let ItemDetail::Query { sql } = &item.detail else {
                continue;
            };
            let Ok(plan) = planner::plan_view_query(sql, &self.catalog) else {
                continue;
            };
            let mut dependent = false;
            plan.visit(&mut |p| match p {
                Plan::Temporal { .. } => dependent = true,
                Plan::Get { id, .. } if timed.contains(id) => dependent = true,
                _ => {}
            });
            if dependent {
                timed.insert(item.id);
            }
        }
        timed
    }

    /// Where reads of `id`'s contents go now: a view waiting to rebuild
    /// has only its snapshot.
    pub(super) fn contents_of(&self, id: GlobalId) -> GlobalId {
        match self.snapshots.get(&id) {
            Some(s) if s.deferred.is_some() => s.id,
            _ => id,
        }
    }

    /// Drops snapshots no read can use any more: retired ones older than
    /// every outstanding read, and those of dropped views.
    pub(super) fn drop_spent_snapshots(&mut self, dropped: &[GlobalId]) {
        let oldest = self.holds.keys().next().copied().unwrap_or(u64::MAX);
        let mut gone = vec![];
        self.snapshots.retain(|view, s| {
            let spent = dropped.contains(view)
                || s.retired_at.is_some_and(|t| t < oldest)
                || (s.valid_through < oldest && s.valid_through != u64::MAX);
            if spent {
                gone.push(s.id);
            }
            !spent
        });
        if !gone.is_empty() {
            self.cluster.send(Command::Drop(gone));
        }
    }
}

/// Writes checkpoint `seq` from the rows of the collections `ids` arriving on `rx`,
/// then removes the log segments and checkpoints it replaces.
fn write_checkpoint(
    dir: &Path,
    seq: u64,
    fsync: bool,
    ts: u64,
    catalog: &Catalog,
    ids: &[GlobalId],
    rx: std::sync::mpsc::Receiver<(GlobalId, PeekResult)>,
) -> SqlResult<CheckpointStats> {
    let mut w = CheckpointWriter::create(dir, seq, fsync, ts, catalog, ids)?;
    for _ in ids {
        let written = match rx.recv() {
            Ok((id, Ok(rows))) => w.rows(id, &rows),
            Ok((_, Err(e))) => Err(e),
            Err(_) => Err(SqlError::internal(
                "the workers stopped during a checkpoint",
            )),
        };
        if let Err(e) = written {
            w.abandon();
            return Err(e);
        }
    }
    let stats = w.finish()?;
    wal::remove_before(dir, seq)?;
    Ok(stats)
}
