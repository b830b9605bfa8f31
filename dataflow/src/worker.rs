//! One timely worker: it applies coordinator commands in order, keeps table
//! inputs and the traces of every arranged collection, answers peeks once
//! its traces have passed the peek time, and compacts history.

use crate::render::{Imports, RenderCtx};
use crate::{Command, Export, PeekResponse};
use catalog::{GlobalId, Row, SqlError};
use differential_dataflow::input::InputSession;
use differential_dataflow::operators::arrange::{ShutdownButton, TraceAgent};
use differential_dataflow::trace::cursor::cursor_list;
use differential_dataflow::trace::implementations::{KeySpine, ValSpine};
use differential_dataflow::trace::{Cursor, TraceReader};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};
use timely::dataflow::operators::CapabilitySet;
use timely::progress::Antichain;
use timely::worker::Worker;

/// How long a worker with a waiting read steps without parking.
const SPIN: Duration = Duration::from_millis(5);

/// Rows a write hands to the inputs per turn of the worker loop. A larger
/// write (a restart's table contents, a big INSERT … SELECT) is fed in
/// slices, with reads answered and dataflows stepped in between, so reads
/// that do not need it are not stuck behind its arrangement.
const FEED: usize = 100_000;

/// A large write being fed to the inputs.
struct Feeding {
    ts: u64,
    rest: std::vec::IntoIter<(GlobalId, Row, isize)>,
}

pub type RowTrace = TraceAgent<ValSpine<Row, Row, u64, isize>>;
pub type ErrTrace = TraceAgent<KeySpine<SqlError, u64, isize>>;

/// A dataflow this worker maintains, and what it exports.
struct Installed {
    dataflow: usize,
    _buttons: Vec<ShutdownButton<CapabilitySet<u64>>>,
}

/// Where a dataflow's output goes.
enum Output {
    /// Arranged and kept, for reads and other dataflows.
    Arrange(Export),
    /// Streamed to a subscriber.
    Subscribe(crate::SubscribeSink),
}

struct PendingPeek {
    uuid: u64,
    target: GlobalId,
    ts: u64,
    /// Only wait for completeness; read no rows.
    probe: bool,
}

/// Everything a worker holds between commands.
pub struct WorkerState {
    index: usize,
    /// Current time of every input: all updates before it are final.
    time: u64,
    inputs: HashMap<GlobalId, InputSession<u64, Row, isize>>,
    /// Row arrangements by id; `true` marks an index (value = full row).
    rows: HashMap<GlobalId, (RowTrace, bool)>,
    errs: HashMap<GlobalId, ErrTrace>,
    dataflows: HashMap<GlobalId, Installed>,
    peeks: Vec<PendingPeek>,
    /// When the oldest waiting read arrived (reset when none wait).
    peek_wait: Instant,
    responses: Sender<PeekResponse>,
    /// Rounds a WITH RECURSIVE may take.
    max_recursion_rounds: u64,
    /// The write being fed in slices, if any.
    feeding: Option<Feeding>,
    /// Commands that wait for it (those that move time).
    waiting: std::collections::VecDeque<Command>,
}

impl WorkerState {
    pub fn new(index: usize, responses: Sender<PeekResponse>, max_recursion_rounds: u64) -> Self {
        WorkerState {
            index,
            time: 0,
            inputs: HashMap::new(),
            rows: HashMap::new(),
            errs: HashMap::new(),
            dataflows: HashMap::new(),
            peeks: vec![],
            peek_wait: Instant::now(),
            responses,
            max_recursion_rounds,
            feeding: None,
            waiting: Default::default(),
        }
    }

    /// The worker loop: commands, peeks, then a step of the dataflows.
    pub fn run(mut self, worker: &mut Worker, commands: Receiver<Command>) {
        loop {
            loop {
                match commands.try_recv() {
                    Ok(Command::Shutdown) | Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        // Timely steps a worker until its dataflows finish:
                        // drop them so shutdown does not wait on open inputs.
                        self.inputs.clear();
                        for (_, df) in self.dataflows.drain() {
                            worker.drop_dataflow(df.dataflow);
                        }
                        return;
                    }
                    Ok(cmd) => self.dispatch(worker, cmd),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                }
            }
            self.feed(worker);
            self.answer_peeks();
            if self.feeding.is_some() {
                worker.step();
                continue;
            }
            match self.peeks.first() {
                None => {
                    worker.step_or_park(Some(Duration::from_millis(100)));
                }
                // A read is waiting on a frontier: frontier changes do not
                // always wake a parked worker, so spin for a short while
                // before parking in short naps.
                Some(_) if self.peek_wait.elapsed() < SPIN => {
                    worker.step();
                }
                Some(_) => {
                    worker.step_or_park(Some(Duration::from_millis(1)));
                }
            }
        }
    }

    /// Commands that move time (writes, advances, compaction) wait for a
    /// write being fed, in order; all others go ahead of it. In particular
    /// every command that builds a dataflow (a table, a view, a read) is
    /// handled as it arrives, so every worker builds them in the same order
    /// whether or not it is feeding (its share of a write may be just above
    /// or below the slice size while another worker's is not).
    fn dispatch(&mut self, worker: &mut Worker, cmd: Command) {
        let waits = matches!(
            cmd,
            Command::Write { .. } | Command::AdvanceTo(_) | Command::AllowCompaction(_)
        );
        if waits && (self.feeding.is_some() || !self.waiting.is_empty()) {
            self.waiting.push_back(cmd);
        } else {
            self.handle(worker, cmd);
        }
    }

    /// Hands the next slice of the write being fed to the inputs; once it
    /// is all in, closes its time and runs the commands that waited.
    fn feed(&mut self, worker: &mut Worker) {
        let Some(f) = &mut self.feeding else {
            return;
        };
        for (id, row, diff) in f.rest.by_ref().take(FEED) {
            if let Some(input) = self.inputs.get_mut(&id) {
                input.update(row, diff);
            }
        }
        for input in self.inputs.values_mut() {
            input.flush();
        }
        if f.rest.len() > 0 {
            return;
        }
        let ts = f.ts;
        self.feeding = None;
        self.advance(ts + 1);
        while self.feeding.is_none() {
            match self.waiting.pop_front() {
                Some(cmd) => self.handle(worker, cmd),
                None => break,
            }
        }
    }

    fn handle(&mut self, worker: &mut Worker, cmd: Command) {
        match cmd {
            Command::CreateTable { id } => self.create_table(worker, id),
            Command::CreateDataflow {
                id,
                plan,
                export,
                as_of,
            } => self.create_dataflow(worker, id, &plan, Output::Arrange(export), as_of),
            Command::Subscribe {
                id,
                plan,
                as_of,
                sink,
            } => self.create_dataflow(worker, id, &plan, Output::Subscribe(sink), as_of),
            Command::Write { ts, updates } => {
                for input in self.inputs.values_mut() {
                    input.advance_to(ts);
                }
                if updates.len() > FEED {
                    self.feeding = Some(Feeding {
                        ts,
                        rest: updates.into_iter(),
                    });
                    return;
                }
                // this worker's share (see `Cluster::send`)
                for (id, row, diff) in updates {
                    if let Some(input) = self.inputs.get_mut(&id) {
                        input.update(row, diff);
                    }
                }
                self.advance(ts + 1);
            }
            Command::AdvanceTo(ts) => self.advance(ts),
            Command::AllowCompaction(since) => {
                let frontier = Antichain::from_elem(since);
                for (trace, _) in self.rows.values_mut() {
                    trace.set_logical_compaction(frontier.borrow());
                    trace.set_physical_compaction(frontier.borrow());
                }
                for trace in self.errs.values_mut() {
                    trace.set_logical_compaction(frontier.borrow());
                    trace.set_physical_compaction(frontier.borrow());
                }
            }
            Command::Peek { uuid, target, ts } | Command::Probe { uuid, target, ts } => {
                if self.peeks.is_empty() {
                    self.peek_wait = Instant::now();
                }
                let probe = matches!(cmd, Command::Probe { .. });
                self.peeks.push(PendingPeek {
                    uuid,
                    target,
                    ts,
                    probe,
                })
            }
            Command::Drop(ids) => {
                for id in ids {
                    self.inputs.remove(&id);
                    self.rows.remove(&id);
                    self.errs.remove(&id);
                    if let Some(df) = self.dataflows.remove(&id) {
                        worker.drop_dataflow(df.dataflow);
                    }
                }
            }
            Command::Shutdown => {}
        }
    }

    fn advance(&mut self, ts: u64) {
        if ts <= self.time {
            return;
        }
        self.time = ts;
        for input in self.inputs.values_mut() {
            input.advance_to(ts);
            input.flush();
        }
    }

    fn create_table(&mut self, worker: &mut Worker, id: GlobalId) {
        let mut input = InputSession::new();
        let dataflow = worker.next_dataflow_index();
        let trace = worker.dataflow_named::<u64, _, _>(&format!("table {id}"), |scope| {
            input
                .to_collection(scope)
                .map(|r| (r, Row::empty()))
                .arrange_by_key()
                .trace
        });
        input.advance_to(self.time);
        input.flush();
        self.inputs.insert(id, input);
        self.rows.insert(id, (trace, false));
        self.dataflows.insert(
            id,
            Installed {
                dataflow,
                _buttons: vec![],
            },
        );
    }

    fn create_dataflow(
        &mut self,
        worker: &mut Worker,
        id: GlobalId,
        plan: &planner::Plan,
        output: Output,
        as_of: u64,
    ) {
        let dataflow = worker.next_dataflow_index();
        let (index, rows, errs) = (self.index, &self.rows, &self.errs);
        let max_recursion_rounds = self.max_recursion_rounds;
        let result = worker.dataflow_named::<u64, _, _>(&format!("dataflow {id}"), |scope| {
            let mut ctx = RenderCtx {
                scope,
                as_of,
                imports: Imports { rows, errs },
                worker_index: index,
                errs: vec![],
                buttons: vec![],
                memo: HashMap::new(),
                max_recursion_rounds,
            };
            let out = match ctx.render(plan) {
                Ok(out) => out,
                Err(e) => {
                    // Cannot happen for plans the planner made; keep the worker alive.
                    tracing::error!(%id, error = %e, "could not render dataflow");
                    return (None, None, ctx.buttons);
                }
            };
            let export = match output {
                Output::Arrange(export) => export,
                Output::Subscribe(sink) => {
                    let errs = ctx.errs.drain(..).reduce(|a, b| a.concat(b));
                    crate::subscribe::attach(out, errs, sink, as_of, index);
                    return (None, None, ctx.buttons);
                }
            };
            let (keys, is_index) = match &export {
                Export::Primary => (None, false),
                Export::Index { keys } => (Some(keys.clone()), true),
            };
            let rows = out
                .map(move |r| match &keys {
                    Some(k) => (crate::render::join_key(&r, k), r),
                    None => (r, Row::empty()),
                })
                .arrange_by_key()
                .trace;
            let errs = ctx
                .errs
                .drain(..)
                .reduce(|a, b| a.concat(b))
                .map(|e| e.arrange_by_self().trace);
            (Some((rows, is_index)), errs, ctx.buttons)
        });
        let (rows, errs, buttons) = result;
        if let Some(r) = rows {
            self.rows.insert(id, r);
        }
        if let Some(e) = errs {
            self.errs.insert(id, e);
        }
        self.dataflows.insert(
            id,
            Installed {
                dataflow,
                _buttons: buttons,
            },
        );
    }

    /// Answers every peek whose traces are complete through its time.
    fn answer_peeks(&mut self) {
        let mut i = 0;
        while i < self.peeks.len() {
            let p = &self.peeks[i];
            match self.try_peek(p.target, p.ts, p.probe) {
                None => i += 1,
                Some(result) => {
                    let p = self.peeks.swap_remove(i);
                    let _ = self.responses.send(PeekResponse {
                        uuid: p.uuid,
                        result,
                    });
                }
            }
        }
    }

    fn try_peek(
        &mut self,
        target: GlobalId,
        ts: u64,
        probe: bool,
    ) -> Option<Result<Vec<(Row, isize)>, SqlError>> {
        let Some((trace, is_index)) = self.rows.get_mut(&target) else {
            return Some(Err(SqlError::internal(format!(
                "collection {target} was dropped during the read"
            ))));
        };
        let is_index = *is_index;
        let mut upper = Antichain::new();
        trace.read_upper(&mut upper);
        if upper.less_equal(&ts) {
            return None;
        }
        if let Some(errs) = self.errs.get_mut(&target) {
            let mut upper = Antichain::new();
            errs.read_upper(&mut upper);
            if upper.less_equal(&ts) {
                return None;
            }
            if probe {
                return Some(Ok(vec![]));
            }
            if let Some(e) = read_errors(errs, ts) {
                return Some(Err(e));
            }
        }
        if probe {
            return Some(Ok(vec![]));
        }
        let (trace, _) = self.rows.get_mut(&target).expect("checked above");
        Some(read_rows(trace, ts, is_index))
    }
}

fn read_rows(trace: &mut RowTrace, ts: u64, is_index: bool) -> Result<Vec<(Row, isize)>, SqlError> {
    if !trace.get_logical_compaction().less_equal(&ts) {
        return Err(SqlError::internal(format!(
            "read at {ts} is before the compaction frontier"
        )));
    }
    let batches = trace
        .batches_through(Antichain::new().borrow())
        .unwrap_or_default();
    let (mut cursor, storage) = cursor_list(batches);
    let mut out = vec![];
    while let Some(key) = cursor.get_key(&storage) {
        while let Some(val) = cursor.get_val(&storage) {
            let mut n: isize = 0;
            cursor.map_times(&storage, |t, d| {
                if *t <= ts {
                    n += *d;
                }
            });
            if n < 0 {
                return Err(SqlError::internal(
                    "negative multiplicity in an arrangement",
                ));
            }
            if n > 0 {
                out.push((if is_index { val.clone() } else { key.clone() }, n));
            }
            cursor.step_val(&storage);
        }
        cursor.step_key(&storage);
    }
    Ok(out)
}

fn read_errors(trace: &mut ErrTrace, ts: u64) -> Option<SqlError> {
    let batches = trace
        .batches_through(Antichain::new().borrow())
        .unwrap_or_default();
    let (mut cursor, storage) = cursor_list(batches);
    while let Some(key) = cursor.get_key(&storage) {
        let mut n: isize = 0;
        cursor.map_times(&storage, |t, d| {
            if *t <= ts {
                n += *d;
            }
        });
        if n > 0 {
            return Some(key.clone());
        }
        cursor.step_key(&storage);
    }
    None
}
