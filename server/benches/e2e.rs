//! End-to-end benchmark over the wire: ingest into a table feeding a
//! join+aggregate materialized view, INSERT-to-visible latency, the same work
//! on PostgreSQL with `REFRESH MATERIALIZED VIEW`, server memory per stored
//! row, and memory while one row is updated many times (compaction).
//!
//! ```text
//! tests/pg.sh start      # optional: the PostgreSQL comparison
//! cargo bench -p server --bench e2e -- [--rows N] [--updates N] [--workers N]
//!                                      [--pg-port P] [--no-pg]
//!                                      [--only ingest|compaction|minmax|recursive|window|durable|restart|copy|subscribe]
//!                                      [--copy-rows N] [--subscribe-writes N]
//!                                      [--restart-rows 1000000,10000000]
//! ```
//! Prints Markdown tables for docs/benchmarks.md.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

const MV: &str = "CREATE MATERIALIZED VIEW spend AS SELECT c.name, count(*), sum(o.amount) \
                  FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.name";
const CUSTOMERS: u64 = 100;
const BATCH: u64 = 1000;

struct Args {
    rows: u64,
    updates: u64,
    workers: usize,
    pg_port: u16,
    pg: bool,
    only: Option<String>,
    /// Another ripple binary to run (e.g. an older build, to compare).
    ripple_bin: Option<String>,
    /// Rows in the one group of the min/max benchmark.
    group_rows: u64,
    /// Table sizes of the restart benchmark.
    restart_rows: Vec<u64>,
    /// Rows loaded by the COPY benchmark.
    copy_rows: u64,
    /// Committed INSERTs timed by the SUBSCRIBE latency benchmark.
    subscribe_writes: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        rows: 200_000,
        updates: 1_000_000,
        workers: 2,
        pg_port: 54329,
        pg: true,
        only: None,
        ripple_bin: None,
        group_rows: 200_000,
        restart_rows: vec![1_000_000, 10_000_000],
        copy_rows: 2_000_000,
        subscribe_writes: 5_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--rows" => args.rows = value().parse().expect("--rows"),
            "--updates" => args.updates = value().parse().expect("--updates"),
            "--workers" => args.workers = value().parse().expect("--workers"),
            "--pg-port" => args.pg_port = value().parse().expect("--pg-port"),
            "--only" => args.only = Some(value()),
            "--ripple-bin" => args.ripple_bin = Some(value()),
            "--group-rows" => args.group_rows = value().parse().expect("--group-rows"),
            "--restart-rows" => {
                args.restart_rows = value()
                    .split(',')
                    .map(|n| n.parse().expect("--restart-rows"))
                    .collect()
            }
            "--copy-rows" => args.copy_rows = value().parse().expect("--copy-rows"),
            "--subscribe-writes" => {
                args.subscribe_writes = value().parse().expect("--subscribe-writes")
            }
            "--no-pg" => args.pg = false,
            // `cargo bench` passes --bench to every bench target.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args.rows = args.rows.div_ceil(BATCH) * BATCH;
    args
}

/// A ripple process on a free port with a throwaway data directory.
struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(args: &Args, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let data = std::env::temp_dir().join(format!("ripple-bench-{}-{port}", std::process::id()));
        let child = Server::spawn(args, port, &data, extra);
        Server { child, port, data }
    }

    fn spawn(args: &Args, port: u16, data: &std::path::Path, extra: &[&str]) -> Child {
        let bin = args
            .ripple_bin
            .clone()
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_ripple").to_string());
        Command::new(bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .args(["--workers", &args.workers.to_string()])
            .args(extra)
            .stderr(Stdio::null())
            .spawn()
            .expect("start ripple")
    }

    /// SIGKILL, then a new process on the same data directory and port.
    fn kill_and_restart(&mut self, args: &Args, extra: &[&str]) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Server::spawn(args, self.port, &self.data, extra);
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

async fn connect(port: u16, user: &str, db: &str) -> Result<Client, tokio_postgres::Error> {
    let conf = format!("host=127.0.0.1 port={port} user={user} dbname={db}");
    let (client, conn) = tokio_postgres::connect(&conf, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn connect_ripple(server: &Server) -> Client {
    for _ in 0..600 {
        if let Ok(c) = connect(server.port, "ripple", "ripple").await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("ripple did not start on port {}", server.port);
}

async fn exec(c: &Client, sql: &str) {
    c.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn first_value(c: &Client, sql: &str) -> String {
    for msg in c.simple_query(sql).await.expect(sql) {
        if let SimpleQueryMessage::Row(row) = msg {
            return row.get(0).unwrap_or("").to_string();
        }
    }
    panic!("{sql}: no row");
}

async fn setup(c: &Client) {
    exec(c, "CREATE TABLE customers (id bigint, name text)").await;
    exec(
        c,
        "CREATE TABLE orders (id bigint, customer_id bigint, amount numeric)",
    )
    .await;
    let values: Vec<String> = (0..CUSTOMERS).map(|i| format!("({i}, 'c{i}')")).collect();
    exec(
        c,
        &format!("INSERT INTO customers VALUES {}", values.join(",")),
    )
    .await;
}

/// Loads `rows` orders in 1000-row INSERT statements; returns seconds taken.
async fn ingest(c: &Client, rows: u64) -> f64 {
    let start = Instant::now();
    for b in (0..rows).step_by(BATCH as usize) {
        let values: Vec<String> = (b..b + BATCH)
            .map(|i| format!("({i}, {}, {}.25)", i % CUSTOMERS, i % 997))
            .collect();
        exec(
            c,
            &format!("INSERT INTO orders VALUES {}", values.join(",")),
        )
        .await;
    }
    start.elapsed().as_secs_f64()
}

/// INSERT one order, then SELECT from the view until it is seen (once, as a
/// consistent read must). Returns (p50, p99) in milliseconds.
async fn latency(c: &Client, n: u64, refresh: bool) -> (f64, f64) {
    let mut samples = Vec::new();
    let mut expected: u64 = first_value(c, "SELECT count FROM spend WHERE name = 'c7'")
        .await
        .parse()
        .expect("count");
    for i in 0..n {
        let start = Instant::now();
        exec(
            c,
            &format!("INSERT INTO orders VALUES ({}, 7, 1.00)", 1_000_000_000 + i),
        )
        .await;
        if refresh {
            exec(c, "REFRESH MATERIALIZED VIEW spend").await;
        }
        let seen: u64 = first_value(c, "SELECT count FROM spend WHERE name = 'c7'")
            .await
            .parse()
            .expect("count");
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        expected += 1;
        assert_eq!(
            seen, expected,
            "the read did not see the acknowledged insert"
        );
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (pick(0.5), pick(0.99))
}

struct IngestResult {
    rows_per_s: f64,
    p50: f64,
    p99: f64,
    bytes_per_row: f64,
}

async fn bench_ripple(args: &Args) -> IngestResult {
    let server = Server::start(args, &[]);
    let c = connect_ripple(&server).await;
    setup(&c).await;
    exec(&c, MV).await;
    let base = server.rss_mb();
    let secs = ingest(&c, args.rows).await;
    let total: u64 = first_value(&c, "SELECT sum(count) FROM spend")
        .await
        .parse()
        .expect("sum");
    assert_eq!(total, args.rows, "view does not count every row");
    let loaded = server.rss_mb();
    let (p50, p99) = latency(&c, 500, false).await;
    IngestResult {
        rows_per_s: args.rows as f64 / secs,
        p50,
        p99,
        bytes_per_row: (loaded - base) * 1024.0 * 1024.0 / args.rows as f64,
    }
}

struct PgResult {
    rows_per_s: f64,
    refresh_ms: f64,
    p50: f64,
    p99: f64,
}

async fn bench_postgres(args: &Args) -> Option<PgResult> {
    let admin = match connect(args.pg_port, "postgres", "postgres").await {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "PostgreSQL on port {} not reachable ({e}); skipping it",
                args.pg_port
            );
            return None;
        }
    };
    exec(&admin, "DROP DATABASE IF EXISTS ripple_bench").await;
    exec(&admin, "CREATE DATABASE ripple_bench").await;
    let c = connect(args.pg_port, "postgres", "ripple_bench")
        .await
        .expect("connect bench db");
    setup(&c).await;
    exec(&c, MV).await;
    let secs = ingest(&c, args.rows).await;
    let start = Instant::now();
    exec(&c, "REFRESH MATERIALIZED VIEW spend").await;
    let refresh_ms = start.elapsed().as_secs_f64() * 1000.0;
    let (p50, p99) = latency(&c, 100, true).await;
    drop(c);
    exec(&admin, "DROP DATABASE IF EXISTS ripple_bench").await;
    Some(PgResult {
        rows_per_s: args.rows as f64 / secs,
        refresh_ms,
        p50,
        p99,
    })
}

/// One row updated `updates` times under a sum/count view; RSS sampled ten
/// times along the way, each after a compaction tick has passed.
async fn bench_compaction(args: &Args) -> (Vec<(u64, f64)>, f64) {
    let server = Server::start(args, &["--unsafe-no-fsync"]);
    let c = connect_ripple(&server).await;
    exec(&c, "CREATE TABLE one (k int, v bigint)").await;
    exec(
        &c,
        "CREATE MATERIALIZED VIEW agg AS SELECT k, sum(v), count(*) FROM one GROUP BY k",
    )
    .await;
    exec(&c, "INSERT INTO one VALUES (1, 0)").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut samples = vec![(0, server.rss_mb())];
    const PER_QUERY: u64 = 100;
    let update = "UPDATE one SET v = v + 1 WHERE k = 1;".repeat(PER_QUERY as usize);
    let step = (args.updates / 10).max(PER_QUERY);
    let start = Instant::now();
    let mut paused = Duration::ZERO;
    let mut done = 0;
    while done < args.updates {
        exec(&c, &update).await;
        done += PER_QUERY;
        if done % step == 0 || done >= args.updates {
            let pause = Instant::now();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            paused += pause.elapsed();
            samples.push((done, server.rss_mb()));
        }
    }
    let rate = done as f64 / (start.elapsed() - paused).as_secs_f64();
    let v: u64 = first_value(&c, "SELECT sum FROM agg WHERE k = 1")
        .await
        .parse()
        .expect("sum");
    assert_eq!(v, done, "view lost updates");
    (samples, rate)
}

/// One group of `group_rows` rows under the view `ext` (`aggregates` per
/// `g`); then a new maximum is inserted and `read` from the view, which
/// must give `expect(i)` for the `i`-th insert, repeatedly (an INSERT, so
/// the write itself costs the same at any table size). Returns (p50, p99)
/// of that write-and-read in milliseconds.
async fn bench_big_group(
    args: &Args,
    aggregates: &str,
    read: &str,
    expect: impl Fn(u64) -> String,
) -> (f64, f64) {
    let server = Server::start(args, &["--unsafe-no-fsync"]);
    let c = connect_ripple(&server).await;
    exec(&c, "CREATE TABLE big (g int, v bigint)").await;
    exec(
        &c,
        &format!("CREATE MATERIALIZED VIEW ext AS SELECT g, {aggregates} FROM big GROUP BY g"),
    )
    .await;
    for b in (0..args.group_rows).step_by(BATCH as usize) {
        let values: Vec<String> = (b..(b + BATCH).min(args.group_rows))
            .map(|i| format!("(1, {})", (i * 7919) % 1_000_003))
            .collect();
        exec(&c, &format!("INSERT INTO big VALUES {}", values.join(","))).await;
    }
    let mut samples = vec![];
    for i in 0..200u64 {
        let start = Instant::now();
        exec(
            &c,
            &format!("INSERT INTO big VALUES (1, {})", 2_000_000 + i),
        )
        .await;
        let seen = first_value(&c, read).await;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(seen, expect(i), "the view did not follow");
    }
    percentiles(samples)
}

/// p50 and p99 of `samples` (milliseconds).
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

/// Loads `rows` (SQL tuples) into `table` in 1000-row INSERTs.
async fn load(c: &Client, table: &str, rows: impl Iterator<Item = String>) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(BATCH as usize) {
        exec(
            c,
            &format!("INSERT INTO {table} VALUES {}", chunk.join(",")),
        )
        .await;
    }
}

/// COPY FROM STDIN of `copy_rows` rows (4 columns, text format, sent in
/// 1 MB chunks) into a table feeding a GROUP BY materialized view: the rate
/// to the COPY's acknowledgement, the rate until the view has every row, and
/// the rate of `COPY … TO STDOUT` of the table.
async fn bench_copy(args: &Args) -> (f64, f64, f64) {
    use futures::SinkExt;
    let server = Server::start(args, &[]);
    let c = connect_ripple(&server).await;
    exec(
        &c,
        "CREATE TABLE lines (id bigint, customer int, amount numeric(10,2), note text)",
    )
    .await;
    exec(
        &c,
        "CREATE MATERIALIZED VIEW by_customer AS \
         SELECT customer, count(*) AS n, sum(amount) AS total FROM lines GROUP BY customer",
    )
    .await;
    let n = args.copy_rows;
    let mut data = Vec::with_capacity(n as usize * 32);
    for i in 0..n {
        use std::io::Write;
        let _ = writeln!(
            data,
            "{i}\t{}\t{}.{:02}\tnote {i}",
            i % 1000,
            i % 500,
            i % 100
        );
    }
    let start = Instant::now();
    let sink = c
        .copy_in::<_, bytes::Bytes>("COPY lines FROM STDIN")
        .await
        .expect("COPY starts");
    futures::pin_mut!(sink);
    for chunk in data.chunks(1 << 20) {
        sink.send(bytes::Bytes::copy_from_slice(chunk))
            .await
            .expect("COPY data");
    }
    let copied = sink.finish().await.expect("COPY finishes");
    assert_eq!(copied, n);
    let acked = start.elapsed().as_secs_f64();
    loop {
        let seen: u64 = first_value(&c, "SELECT sum(n) FROM by_customer")
            .await
            .parse()
            .unwrap_or(0);
        if seen == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let in_view = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let out = c
        .copy_out("COPY lines TO STDOUT")
        .await
        .expect("COPY TO starts");
    futures::pin_mut!(out);
    let mut lines = 0u64;
    while let Some(chunk) = futures::StreamExt::next(&mut out).await {
        lines += chunk
            .expect("COPY data")
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
    }
    assert_eq!(lines, n);
    let out_s = start.elapsed().as_secs_f64();
    (n as f64 / acked, n as f64 / in_view, n as f64 / out_s)
}

/// Commit-to-delivery latency of SUBSCRIBE: one client commits single-row
/// INSERTs one after another into a table under a materialized view (a
/// filter and a computed column); a second client follows the view with
/// `COPY (SUBSCRIBE …) TO STDOUT`. For each row: from the INSERT's
/// acknowledgement (and from sending it) to its arrival at the subscriber,
/// in ms (p50, p99, max).
async fn bench_subscribe(args: &Args) -> ([f64; 3], [f64; 3]) {
    let server = Server::start(args, &[]);
    let w = connect_ripple(&server).await;
    let s = connect_ripple(&server).await;
    exec(&w, "CREATE TABLE ticks (id bigint, v int)").await;
    exec(
        &w,
        "CREATE MATERIALIZED VIEW doubled AS SELECT id, v * 2 AS w FROM ticks WHERE v >= 0",
    )
    .await;
    let out = s
        .copy_out("COPY (SUBSCRIBE doubled WITH (SNAPSHOT = false)) TO STDOUT")
        .await
        .expect("SUBSCRIBE starts");
    let n = args.subscribe_writes;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let reader = tokio::spawn(async move {
        futures::pin_mut!(out);
        let mut got = 0;
        while let Some(chunk) = futures::StreamExt::next(&mut out).await {
            let now = Instant::now();
            let chunk = chunk.expect("subscription data");
            for line in chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let text = String::from_utf8_lossy(line);
                let id: u64 = text
                    .split('\t')
                    .nth(2)
                    .and_then(|f| f.parse().ok())
                    .expect("id");
                let _ = tx.send((id, now));
                got += 1;
            }
            if got == n {
                break;
            }
        }
    });
    let mut sent = Vec::with_capacity(n as usize);
    let mut acked = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t0 = Instant::now();
        exec(&w, &format!("INSERT INTO ticks VALUES ({i}, 1)")).await;
        acked.push(Instant::now());
        sent.push(t0);
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    reader.await.expect("reader");
    let (mut from_ack, mut from_send) = (vec![], vec![]);
    while let Ok((id, at)) = rx.try_recv() {
        let i = id as usize;
        let ms = |t: Instant| {
            if at >= t {
                at.duration_since(t).as_secs_f64() * 1e3
            } else {
                -(t.duration_since(at).as_secs_f64() * 1e3)
            }
        };
        from_ack.push(ms(acked[i]));
        from_send.push(ms(sent[i]));
    }
    assert_eq!(from_ack.len() as u64, n);
    let stats = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        [v[v.len() / 2], v[v.len() * 99 / 100], v[v.len() - 1]]
    };
    (stats(from_ack), stats(from_send))
}

/// Transitive closure (WITH RECURSIVE … UNION) over 40 chains of 50 edges
/// as a materialized view: the time to build it, then the write-and-read
/// latency of adding an edge at a chain's end (50 new paths) and of
/// deleting an edge in a chain's middle and putting it back (625 paths
/// retracted, then derived again).
async fn bench_recursive(args: &Args) -> (f64, u64, (f64, f64), (f64, f64)) {
    const CHAINS: u64 = 40;
    const LEN: u64 = 50;
    let server = Server::start(args, &["--unsafe-no-fsync"]);
    let c = connect_ripple(&server).await;
    exec(&c, "CREATE TABLE edges (src bigint, dst bigint)").await;
    load(
        &c,
        "edges",
        (0..CHAINS).flat_map(|k| {
            (0..LEN).map(move |i| format!("({}, {})", k * 1000 + i, k * 1000 + i + 1))
        }),
    )
    .await;
    let start = Instant::now();
    exec(
        &c,
        "CREATE MATERIALIZED VIEW reach AS WITH RECURSIVE r(a, b) AS (SELECT src, dst FROM edges \
         UNION SELECT r.a, e.dst FROM r JOIN edges e ON r.b = e.src) SELECT a, b FROM r",
    )
    .await;
    let paths: u64 = first_value(&c, "SELECT count(*) FROM reach")
        .await
        .parse()
        .expect("count");
    let build_s = start.elapsed().as_secs_f64();
    let mut grow = vec![];
    let mut cut = vec![];
    for i in 0..20u64 {
        let k = i % CHAINS;
        let start = Instant::now();
        exec(
            &c,
            &format!(
                "INSERT INTO edges VALUES ({}, {})",
                k * 1000 + LEN + i / CHAINS,
                k * 1000 + LEN + i / CHAINS + 1
            ),
        )
        .await;
        let _ = first_value(
            &c,
            &format!("SELECT count(*) FROM reach WHERE a = {}", k * 1000),
        )
        .await;
        grow.push(start.elapsed().as_secs_f64() * 1000.0);
        let mid = k * 1000 + LEN / 2;
        let start = Instant::now();
        exec(&c, &format!("DELETE FROM edges WHERE src = {mid}")).await;
        let _ = first_value(
            &c,
            &format!("SELECT count(*) FROM reach WHERE a = {}", k * 1000),
        )
        .await;
        cut.push(start.elapsed().as_secs_f64() * 1000.0);
        exec(
            &c,
            &format!("INSERT INTO edges VALUES ({mid}, {})", mid + 1),
        )
        .await;
    }
    let after: u64 = first_value(&c, "SELECT count(*) FROM reach")
        .await
        .parse()
        .expect("count");
    assert!(after > paths, "the closure did not grow");
    (build_s, paths, percentiles(grow), percentiles(cut))
}

/// Window functions in views over `rows` rows in 100 partitions, each view
/// on its own server: built over the loaded table, then the write-and-read
/// latency of an insert into one partition. Returns, per view, (build
/// seconds, p50, p99).
async fn bench_window(args: &Args) -> Vec<(f64, f64, f64)> {
    let views = [
        "CREATE MATERIALIZED VIEW w AS SELECT g, v, sum(v) OVER (PARTITION BY g ORDER BY v) AS s FROM m",
        "CREATE MATERIALIZED VIEW w AS SELECT g, v FROM (SELECT g, v, row_number() OVER \
         (PARTITION BY g ORDER BY v DESC) AS rn FROM m) x WHERE rn <= 3",
    ];
    let mut out = vec![];
    for view in views {
        let server = Server::start(args, &["--unsafe-no-fsync"]);
        let c = connect_ripple(&server).await;
        exec(&c, "CREATE TABLE m (g int, v bigint)").await;
        load(
            &c,
            "m",
            (0..args.rows).map(|i| format!("({}, {})", i % 100, (i * 7919) % 1_000_003)),
        )
        .await;
        let start = Instant::now();
        exec(&c, view).await;
        let _ = first_value(&c, "SELECT count(*) FROM w").await;
        let build = start.elapsed().as_secs_f64();
        // reads of a view are peeks of its arrangement; this one waits for
        // `w` to take each change
        exec(
            &c,
            "CREATE MATERIALIZED VIEW probe AS SELECT max(v) AS m FROM w WHERE g = 7",
        )
        .await;
        let mut samples = vec![];
        for i in 0..100u64 {
            let start = Instant::now();
            exec(&c, &format!("INSERT INTO m VALUES (7, {})", 2_000_000 + i)).await;
            let seen: i64 = first_value(&c, "SELECT m FROM probe")
                .await
                .parse()
                .expect("max");
            samples.push(start.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(seen, 2_000_000 + i as i64, "the view did not follow");
        }
        let (p50, p99) = percentiles(samples);
        out.push((build, p50, p99));
    }
    out
}

/// Single-row INSERTs from 16 concurrent connections (prepared, each waiting
/// for its acknowledgement): throughput and per-statement latency, durable
/// (group commit) or with `--unsafe-no-fsync`.
async fn bench_durable(args: &Args, fsync: bool) -> (f64, f64, f64) {
    const CLIENTS: usize = 16;
    const EACH: usize = 300;
    let extra: &[&str] = if fsync { &[] } else { &["--unsafe-no-fsync"] };
    let server = Server::start(args, extra);
    let c = connect_ripple(&server).await;
    exec(&c, "CREATE TABLE events (id bigint, client int, v text)").await;
    let start = Instant::now();
    let mut tasks = vec![];
    for k in 0..CLIENTS {
        let port = server.port;
        tasks.push(tokio::spawn(async move {
            let c = connect(port, "ripple", "ripple").await.expect("connect");
            let stmt = c
                .prepare("INSERT INTO events VALUES ($1, $2, 'x')")
                .await
                .expect("prepare");
            let mut lat = Vec::with_capacity(EACH);
            for i in 0..EACH {
                let t = Instant::now();
                c.execute(&stmt, &[&((k * EACH + i) as i64), &(k as i32)])
                    .await
                    .expect("insert");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let n = all.len();
    assert_eq!(
        first_value(&c, "SELECT count(*) FROM events").await,
        n.to_string()
    );
    (n as f64 / secs, all[n / 2], all[n * 99 / 100])
}

/// What one restart took.
struct Restart {
    /// Until the server accepted a connection.
    accept_s: f64,
    /// Until all three views answered with their contents from before.
    ready_s: f64,
    /// From an INSERT made once ready until all three views showed it.
    first_write_s: f64,
    rss_mb: f64,
}

const RESTART_VIEWS: [(&str, &str, &str); 3] = [
    (
        "v_agg",
        "SELECT g, count(*) AS n, sum(x) AS sx FROM t GROUP BY g",
        "SELECT sum(n)::text || '/' || sum(sx)::text FROM v_agg",
    ),
    (
        "v_filter",
        "SELECT id, s FROM t WHERE x % 10 = 0",
        "SELECT count(*)::text || '/' || sum(id)::text FROM v_filter",
    ),
    (
        "v_join",
        "SELECT d.name, count(*) AS n FROM t JOIN dim d ON t.g = d.id GROUP BY d.name",
        "SELECT sum(n)::text || '/' || count(*)::text FROM v_join",
    ),
];

async fn view_state(c: &Client) -> Vec<String> {
    let mut out = vec![];
    for (_, _, check) in RESTART_VIEWS {
        out.push(first_value(c, check).await);
    }
    out
}

/// `rows` rows in a table under three materialized views (aggregate,
/// filter, join + aggregate), a CHECKPOINT, then SIGKILL and restart, with
/// and without view checkpoints. Returns (load s, checkpoint s, data MB,
/// restarts, and the INSERTs made during the checkpoint: count, p50, p99,
/// max ms).
async fn bench_restart(
    args: &Args,
    rows: u64,
) -> (f64, f64, f64, Vec<Restart>, (usize, f64, f64, f64)) {
    let mut server = Server::start(args, &[]);
    let c = connect_ripple(&server).await;
    exec(&c, "CREATE TABLE t (id bigint, g int, x bigint, s text)").await;
    exec(&c, "CREATE TABLE dim (id int, name text)").await;
    exec(
        &c,
        "INSERT INTO dim SELECT g, 'name' || (g % 37) FROM generate_series(0, 999) g",
    )
    .await;
    for (name, sql, _) in RESTART_VIEWS {
        exec(&c, &format!("CREATE MATERIALIZED VIEW {name} AS {sql}")).await;
    }
    let start = Instant::now();
    let step = 1_000_000;
    for lo in (0..rows).step_by(step as usize) {
        let hi = (lo + step).min(rows) - 1;
        exec(
            &c,
            &format!(
                "INSERT INTO t SELECT g, g % 1000, g * 7 % 1000, 'row ' || g \
                 FROM generate_series({lo}, {hi}) g"
            ),
        )
        .await;
    }
    let load_s = start.elapsed().as_secs_f64();
    let before = view_state(&c).await;
    // a writer keeps inserting (into a table no view reads) during the
    // CHECKPOINT: its latencies show what the checkpoint costs writers
    exec(&c, "CREATE TABLE side (i int)").await;
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let writer = tokio::spawn(async move {
        let c = connect(port, "ripple", "ripple").await.expect("connect");
        let mut lat = vec![];
        let mut i = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            exec(&c, &format!("INSERT INTO side VALUES ({i})")).await;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            i += 1;
        }
        lat
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    exec(&c, "CHECKPOINT").await;
    let checkpoint_s = start.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lat = writer.await.expect("writer");
    lat.sort_by(f64::total_cmp);
    let writes = (
        lat.len(),
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat[lat.len() - 1],
    );
    let data_mb = std::fs::read_dir(&server.data)
        .expect("data dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len() as f64)
        .sum::<f64>()
        / 1e6;
    drop(c);
    let mut out = vec![];
    let mut next_id = rows as i64;
    for extra in [&[][..], &["--no-view-checkpoints"][..]] {
        let start = Instant::now();
        server.kill_and_restart(args, extra);
        let c = connect_ripple(&server).await;
        let accept_s = start.elapsed().as_secs_f64();
        assert_eq!(view_state(&c).await, before, "views differ after restart");
        let ready_s = start.elapsed().as_secs_f64();
        let rss_mb = server.rss_mb();
        let write = Instant::now();
        exec(
            &c,
            &format!("INSERT INTO t VALUES ({next_id}, 1, 0, 'new')"),
        )
        .await;
        next_id += 1;
        assert_ne!(view_state(&c).await, before, "views missed a write");
        let first_write_s = write.elapsed().as_secs_f64();
        // the row goes again, so the next restart sees the same state
        exec(&c, &format!("DELETE FROM t WHERE id = {}", next_id - 1)).await;
        assert_eq!(view_state(&c).await, before);
        exec(&c, "CHECKPOINT").await;
        out.push(Restart {
            accept_s,
            ready_s,
            first_write_s,
            rss_mb,
        });
    }
    (load_s, checkpoint_s, data_mb, out, writes)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse_args();
    let want = |part: &str| args.only.as_deref().is_none_or(|o| o == part);
    if want("ingest") {
        let r = bench_ripple(&args).await;
        let p = if args.pg {
            bench_postgres(&args).await
        } else {
            None
        };
        let (pg_rate, pg_refresh, pg_lat) = match &p {
            Some(p) => (
                format!("{:.0} (MV stale)", p.rows_per_s),
                format!("{:.0} ms", p.refresh_ms),
                format!("{:.2} / {:.2} ms (with REFRESH)", p.p50, p.p99),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!("| measure | Ripple | PostgreSQL |\n|---|---|---|");
        println!(
            "| ingest, rows/s ({} rows, 1000-row INSERTs, MV maintained) | {:.0} | {pg_rate} |",
            args.rows, r.rows_per_s
        );
        println!("| REFRESH MATERIALIZED VIEW after the load | not needed | {pg_refresh} |");
        println!(
            "| INSERT then SELECT from the view, p50 / p99 | {:.2} / {:.2} ms | {pg_lat} |",
            r.p50, r.p99
        );
        println!(
            "| server memory per stored row (RSS growth / rows) | {:.0} B | - |",
            r.bytes_per_row
        );
    }
    if want("minmax") {
        let (p50, p99) = bench_big_group(&args, "min(v), max(v)", "SELECT max FROM ext", |i| {
            (2_000_000 + i).to_string()
        })
        .await;
        println!(
            "\nmin/max view over one group of {} rows: insert a new max, then read it, p50 / p99: {p50:.2} / {p99:.2} ms",
            args.group_rows
        );
    }
    if want("sum") {
        let rows = args.group_rows;
        let count = move |i: u64| (rows + i + 1).to_string();
        let read = "SELECT n FROM ext";
        let exact = bench_big_group(&args, "count(*) AS n, sum(v)", read, count).await;
        let mixed = bench_big_group(&args, "count(*) AS n, sum(v), max(v)", read, count).await;
        let float = bench_big_group(&args, "count(*) AS n, sum(v::float8)", read, count).await;
        println!(
            "\ncount/sum view over one group of {rows} rows: insert a row, then read the count, p50 / p99:\n\n\
             | view | p50 / p99 |\n|---|---|\n\
             | count(*), sum(bigint): accumulated in the differences | {:.2} / {:.2} ms |\n\
             | count(*), sum(bigint), max(bigint): accumulated, and min/max in stages, joined | {:.2} / {:.2} ms |\n\
             | count(*), sum(double): one reduce per group (floats are not accumulated) | {:.2} / {:.2} ms |",
            exact.0, exact.1, mixed.0, mixed.1, float.0, float.1
        );
    }
    if want("recursive") {
        let (build, paths, grow, cut) = bench_recursive(&args).await;
        println!(
            "\nWITH RECURSIVE closure view over 40 chains of 50 edges ({paths} paths): built in {build:.2} s; \
             add an edge at a chain's end then read, p50 / p99: {:.2} / {:.2} ms; delete a middle edge then read: {:.2} / {:.2} ms",
            grow.0, grow.1, cut.0, cut.1
        );
    }
    if want("window") {
        let r = bench_window(&args).await;
        println!(
            "\nwindow views over {} rows in 100 partitions, insert into one partition then read:\n\n\
             | view | build | p50 / p99 |\n|---|---|---|\n\
             | running sum OVER (PARTITION BY g ORDER BY v) | {:.2} s | {:.2} / {:.2} ms |\n\
             | row_number() OVER (PARTITION BY g ORDER BY v DESC) <= 3 | {:.2} s | {:.2} / {:.2} ms |",
            args.rows, r[0].0, r[0].1, r[0].2, r[1].0, r[1].1, r[1].2
        );
    }
    if want("durable") {
        let on = bench_durable(&args, true).await;
        let off = bench_durable(&args, false).await;
        println!(
            "\nsingle-row INSERTs, 16 concurrent clients (prepared), each acknowledged:\n\n\
             | log | INSERTs/s | p50 / p99 |\n|---|---|---|\n\
             | fsync before acknowledging (group commit) | {:.0} | {:.2} / {:.2} ms |\n\
             | `--unsafe-no-fsync` | {:.0} | {:.2} / {:.2} ms |",
            on.0, on.1, on.2, off.0, off.1, off.2
        );
    }
    if want("restart") {
        println!(
            "\nrestart after SIGKILL: a table of N rows (4 columns) and a 1000-row one under three \
             materialized views (GROUP BY aggregate, filter, join + GROUP BY), checkpointed:\n\n\
             | rows | load | CHECKPOINT | data dir | view checkpoints | accepting | views ready | first write in views | RSS |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        let mut during = vec![];
        for &rows in &args.restart_rows {
            let (load, ckpt, mb, r, w) = bench_restart(&args, rows).await;
            for (mode, r) in ["on", "off"].iter().zip(&r) {
                println!(
                    "| {rows} | {load:.1} s | {ckpt:.1} s | {mb:.0} MB | {mode} | {:.2} s | {:.2} s | {:.2} s | {:.0} MB |",
                    r.accept_s, r.ready_s, r.first_write_s, r.rss_mb
                );
            }
            during.push((rows, ckpt, w));
        }
        println!(
            "\nsingle-row INSERTs from one client while the CHECKPOINT ran:\n\n\
             | rows | CHECKPOINT | INSERTs | p50 / p99 / max |\n|---|---|---|---|"
        );
        for (rows, ckpt, (n, p50, p99, max)) in during {
            println!("| {rows} | {ckpt:.1} s | {n} | {p50:.2} / {p99:.2} / {max:.1} ms |");
        }
    }
    if want("copy") {
        let (acked, in_view, out) = bench_copy(&args).await;
        println!(
            "\nCOPY of {} rows (4 columns, text) into a table feeding a GROUP BY materialized view:\n\n\
             | measure | rows/s |\n|---|---|\n\
             | COPY FROM STDIN, to its acknowledgement | {acked:.0} |\n\
             | COPY FROM STDIN, until the view has every row | {in_view:.0} |\n\
             | COPY lines TO STDOUT | {out:.0} |",
            args.copy_rows
        );
    }
    if want("subscribe") {
        let (ack, send) = bench_subscribe(&args).await;
        println!(
            "\nSUBSCRIBE commit-to-delivery, {} single-row INSERTs through a materialized view:\n\n\
             | from | p50 | p99 | max |\n|---|---|---|---|\n\
             | INSERT acknowledged | {:.3} ms | {:.3} ms | {:.3} ms |\n\
             | INSERT sent | {:.3} ms | {:.3} ms | {:.3} ms |",
            args.subscribe_writes, ack[0], ack[1], ack[2], send[0], send[1], send[2]
        );
    }
    if want("compaction") {
        let (samples, rate) = bench_compaction(&args).await;
        println!(
            "\nOne row updated {} times (view: sum/count by key), {rate:.0} updates/s, RSS:\n",
            args.updates
        );
        println!("| updates | RSS MB |\n|---|---|");
        for (n, mb) in samples {
            println!("| {n} | {mb:.1} |");
        }
    }
}
