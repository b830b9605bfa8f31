//! Renders plans into timely/differential dataflows on worker threads and
//! serves reads from their arrangements. The coordinator talks to the
//! workers only through [`Cluster`]: every command goes to every worker in
//! one order, so each builds the same dataflows (what timely requires, and
//! what keeps a later move to timely's multi-process mode a matter of
//! configuration).
//!
//! In the life of a statement: a table write becomes `Command::Write`, a
//! materialized view `Command::CreateDataflow`, and a read
//! `Command::Peek`, answered once every worker's trace has passed the read
//! time.

pub mod accum;
pub mod render;
pub mod subscribe;
pub mod window;

pub use subscribe::{Deliver, SubscribeEvent, SubscribeSink};
pub mod worker;

use catalog::{GlobalId, Row, SqlError};
use planner::Plan;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

/// What a dataflow exports as its arrangement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// Arranged by the whole row (tables, materialized views, transient reads).
    Primary,
    /// Arranged by `keys`, carrying the full row (an index).
    Index { keys: Vec<usize> },
}

/// Instructions from the coordinator, applied by every worker in order.
#[derive(Debug, Clone)]
pub enum Command {
    /// A table input, arranged by row.
    CreateTable {
        id: GlobalId,
    },
    /// Renders `plan` over imported arrangements, complete from `as_of`.
    CreateDataflow {
        id: GlobalId,
        plan: Plan,
        export: Export,
        as_of: u64,
    },
    /// Renders `plan` from `as_of` and streams its changes to `sink`
    /// (gathered on worker 0).
    Subscribe {
        id: GlobalId,
        plan: Plan,
        as_of: u64,
        sink: SubscribeSink,
    },
    /// Table updates at `ts`; afterwards every input is at `ts + 1`.
    /// [`Cluster::send`] hands each worker its own share of `updates`.
    Write {
        ts: u64,
        updates: Vec<(GlobalId, Row, isize)>,
    },
    /// Moves every input to `ts` (time passes even without writes).
    AdvanceTo(u64),
    /// Nobody will read before `since`: history may be merged up to it.
    AllowCompaction(u64),
    /// Read `target`'s contents as of `ts`; each worker answers for its shard.
    Peek {
        uuid: u64,
        target: GlobalId,
        ts: u64,
    },
    /// Answer (with no rows) once `target` is complete through `ts`.
    Probe {
        uuid: u64,
        target: GlobalId,
        ts: u64,
    },
    /// Removes collections and their dataflows.
    Drop(Vec<GlobalId>),
    Shutdown,
}

/// One worker's share of a peek.
pub struct PeekResponse {
    pub uuid: u64,
    pub result: Result<Vec<(Row, isize)>, SqlError>,
}

/// The rows of a completed read, or the error it met.
pub type PeekResult = Result<Vec<(Row, isize)>, SqlError>;
type Callback = Box<dyn FnOnce(PeekResult) + Send>;

/// A peek waiting for the rest of the workers.
struct Gather {
    remaining: usize,
    rows: Vec<(Row, isize)>,
    error: Option<SqlError>,
    done: Option<Callback>,
}

/// Handle to the timely workers.
pub struct Cluster {
    /// One command queue per worker.
    senders: Vec<Sender<Command>>,
    /// Worker threads, unparked after each command.
    threads: Vec<std::thread::Thread>,
    /// Peeks in flight, by uuid.
    pending: Arc<Mutex<HashMap<u64, Gather>>>,
    next_uuid: AtomicU64,
    /// Joined on drop.
    guards: Option<timely::communication::WorkerGuards<()>>,
}

impl Cluster {
    /// Starts `workers` timely worker threads in this process; a WITH
    /// RECURSIVE stops after `max_recursion_rounds` rounds.
    pub fn start(workers: usize, max_recursion_rounds: u64) -> Result<Cluster, String> {
        let workers = workers.max(1);
        let mut config = timely::Config::process(workers);
        let dd_config = differential_dataflow::Config::default().idle_merge_effort(Some(1000));
        differential_dataflow::configure(&mut config.worker, &dd_config);
        let (resp_tx, resp_rx) = channel::<PeekResponse>();
        let (thread_tx, thread_rx) = channel::<(usize, std::thread::Thread)>();
        let mut senders = vec![];
        let mut receivers = vec![];
        for _ in 0..workers {
            let (tx, rx) = channel();
            senders.push(tx);
            receivers.push(Some(rx));
        }
        let receivers = Arc::new(Mutex::new(receivers));
        let resp_tx = Arc::new(Mutex::new(resp_tx));
        let thread_tx = Arc::new(Mutex::new(thread_tx));
        let guards = timely::execute(config, move |worker| {
            let index = worker.index();
            let rx = receivers.lock().expect("lock")[index]
                .take()
                .expect("one receiver per worker");
            let responses = resp_tx.lock().expect("lock").clone();
            let _ = thread_tx
                .lock()
                .expect("lock")
                .send((index, std::thread::current()));
            worker::WorkerState::new(index, responses, max_recursion_rounds).run(worker, rx);
        })?;
        let mut threads: Vec<Option<std::thread::Thread>> = vec![None; workers];
        for _ in 0..workers {
            let (i, t) = thread_rx.recv().map_err(|e| e.to_string())?;
            threads[i] = Some(t);
        }
        let pending: Arc<Mutex<HashMap<u64, Gather>>> = Arc::default();
        let router = pending.clone();
        std::thread::Builder::new()
            .name("peek-router".into())
            .spawn(move || {
                while let Ok(resp) = resp_rx.recv() {
                    route(&router, resp);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Cluster {
            senders,
            threads: threads
                .into_iter()
                .map(|t| t.expect("every worker reported"))
                .collect(),
            pending,
            next_uuid: AtomicU64::new(1),
            guards: Some(guards),
        })
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.senders.len()
    }

    /// Sends `cmd` to every worker and wakes them. A write's updates are
    /// dealt out, each worker getting its share (not a copy of all).
    pub fn send(&self, cmd: Command) {
        match cmd {
            Command::Write { ts, updates } => {
                let n = self.senders.len();
                let mut shares: Vec<Vec<_>> = (0..n)
                    .map(|_| Vec::with_capacity(updates.len() / n + 1))
                    .collect();
                for (i, u) in updates.into_iter().enumerate() {
                    shares[i % n].push(u);
                }
                for (s, updates) in self.senders.iter().zip(shares) {
                    let _ = s.send(Command::Write { ts, updates });
                }
            }
            cmd => {
                for s in &self.senders {
                    let _ = s.send(cmd.clone());
                }
            }
        }
        for t in &self.threads {
            t.unpark();
        }
    }

    /// Reads `target` at `ts`; `done` gets the consolidated rows from all workers.
    pub fn peek(&self, target: GlobalId, ts: u64, done: Callback) {
        self.gather(done, |uuid| Command::Peek { uuid, target, ts });
    }

    /// Calls `done` (with no rows) once every worker's `target` is complete
    /// through `ts`: a view has caught up with its inputs.
    pub fn probe(&self, target: GlobalId, ts: u64, done: Callback) {
        self.gather(done, |uuid| Command::Probe { uuid, target, ts });
    }

    /// Sends the command `ask` makes for a new id; `done` gets the answers
    /// of all workers, gathered.
    fn gather(&self, done: Callback, ask: impl FnOnce(u64) -> Command) {
        let uuid = self.next_uuid.fetch_add(1, Ordering::Relaxed);
        self.pending.lock().expect("lock").insert(
            uuid,
            Gather {
                remaining: self.workers(),
                rows: vec![],
                error: None,
                done: Some(done),
            },
        );
        self.send(ask(uuid));
    }

    /// Stops the workers and waits for them.
    pub fn shutdown(&mut self) {
        self.send(Command::Shutdown);
        if let Some(g) = self.guards.take() {
            drop(g);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn route(pending: &Mutex<HashMap<u64, Gather>>, resp: PeekResponse) {
    let finished = {
        let mut map = pending.lock().expect("lock");
        let Some(g) = map.get_mut(&resp.uuid) else {
            return;
        };
        match resp.result {
            Ok(rows) => g.rows.extend(rows),
            Err(e) => g.error = g.error.take().or(Some(e)),
        }
        g.remaining -= 1;
        if g.remaining == 0 {
            map.remove(&resp.uuid)
        } else {
            None
        }
    };
    if let Some(mut g) = finished {
        let result = match g.error {
            Some(e) => Err(e),
            None => Ok(std::mem::take(&mut g.rows)),
        };
        if let Some(done) = g.done.take() {
            done(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::Datum;

    fn peek(cluster: &Cluster, target: GlobalId, ts: u64) -> Vec<(Row, isize)> {
        let (tx, rx) = std::sync::mpsc::channel();
        cluster.peek(
            target,
            ts,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        let mut rows = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("peek answered")
            .expect("peek succeeded");
        rows.sort();
        rows
    }

    /// A write larger than a feeding slice, then a small one, an index, a
    /// table and a view over it created while it is fed: all apply in
    /// order, and a read of another collection is not held up by the big
    /// write.
    #[test]
    fn large_writes_are_fed_in_order() {
        let cluster = Cluster::start(2, 10).expect("cluster");
        let (big, small) = (GlobalId(1), GlobalId(2));
        cluster.send(Command::CreateTable { id: big });
        cluster.send(Command::CreateTable { id: small });
        let row = |i: i64| Row::new(vec![Datum::Int64(i)]);
        cluster.send(Command::Write {
            ts: 1,
            updates: vec![(small, row(7), 1)],
        });
        let n = 3 * 100_000 + 17;
        cluster.send(Command::Write {
            ts: 2,
            updates: (0..n).map(|i| (big, row(i), 1)).collect(),
        });
        // sent at once, so they reach the workers while the big write is
        // being fed: a later write, an index, and a table with a view over it
        cluster.send(Command::Write {
            ts: 3,
            updates: (0..10).map(|i| (big, row(i), -1)).collect(),
        });
        cluster.send(Command::CreateDataflow {
            id: GlobalId(3),
            plan: Plan::Get {
                id: big,
                name: "big".into(),
                arity: 1,
            },
            export: Export::Index { keys: vec![0] },
            as_of: 3,
        });
        let (later, view) = (GlobalId(4), GlobalId(5));
        cluster.send(Command::CreateTable { id: later });
        cluster.send(Command::Write {
            ts: 4,
            updates: vec![(later, row(1), 1), (later, row(2), 1)],
        });
        cluster.send(Command::CreateDataflow {
            id: view,
            plan: Plan::Get {
                id: later,
                name: "later".into(),
                arity: 1,
            },
            export: Export::Primary,
            as_of: 3,
        });
        cluster.send(Command::AdvanceTo(5));
        // reads of the small table at 1 do not need the big write
        assert_eq!(peek(&cluster, small, 1), vec![(row(7), 1)]);
        assert_eq!(peek(&cluster, view, 4), vec![(row(1), 1), (row(2), 1)]);
        let at2 = peek(&cluster, big, 2);
        assert_eq!(at2.len(), n as usize);
        let at3 = peek(&cluster, big, 3);
        assert_eq!(at3.len(), n as usize - 10);
        assert_eq!(at3.first(), Some(&(row(10), 1)));
        assert_eq!(peek(&cluster, GlobalId(3), 4), at3);
    }

    /// A subscription over two workers: the snapshot at its as-of time,
    /// then each write consolidated at its own time, in order, each
    /// followed by progress past it; an update and its retraction at one
    /// time cancel out.
    #[test]
    fn subscriptions_deliver_each_time_once_in_order() {
        let cluster = Cluster::start(2, 10).expect("cluster");
        let t = GlobalId(1);
        cluster.send(Command::CreateTable { id: t });
        let row = |i: i64| Row::new(vec![Datum::Int64(i)]);
        cluster.send(Command::Write {
            ts: 1,
            updates: (0..10).map(|i| (t, row(i), 1)).collect(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        let deliver: Deliver = Arc::new(move |e| tx.lock().expect("lock").send(e).is_ok());
        let sink = SubscribeSink::new(deliver, Arc::default(), 1_000, true);
        cluster.send(Command::Subscribe {
            id: GlobalId(2),
            plan: Plan::Get {
                id: t,
                name: "t".into(),
                arity: 1,
            },
            as_of: 1,
            sink,
        });
        cluster.send(Command::Write {
            ts: 3,
            updates: vec![(t, row(0), -1), (t, row(100), 1), (t, row(7), 1)],
        });
        cluster.send(Command::Write {
            ts: 5,
            updates: vec![(t, row(55), 1), (t, row(55), -1), (t, row(1), -1)],
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut events = vec![];
        loop {
            match rx.try_recv().ok() {
                Some(SubscribeEvent::Progress(p)) if p >= 6 => break,
                Some(SubscribeEvent::Progress(_)) => {}
                Some(SubscribeEvent::Updates { ts, mut updates }) => {
                    updates.sort();
                    events.push((ts, updates));
                }
                Some(other) => panic!("unexpected {other:?}"),
                None if std::time::Instant::now() > deadline => panic!("no progress to 6"),
                None => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(events[0].0, 1);
        assert_eq!(
            events[0].1,
            (0..10).map(|i| (row(i), 1)).collect::<Vec<_>>()
        );
        assert_eq!(
            events[1],
            (3, vec![(row(0), -1), (row(7), 1), (row(100), 1)])
        );
        assert_eq!(events[2], (5, vec![(row(1), -1)]));
    }
}
