"""First Ripple benchmark: ingest into a table feeding a join+aggregate
materialized view, INSERT-to-visible latency, the same work on PostgreSQL
with REFRESH MATERIALIZED VIEW, memory per stored row, and memory while one
row is updated many times (compaction).

Usage: python3 tests/bench/bench.py --ripple-bin target/release/ripple \
           [--rows 200000] [--pg-port 54329]
Prints a Markdown table for docs/benchmarks.md.
"""
import argparse, os, signal, socket, statistics, subprocess, tempfile, time
import psycopg2

MV = ("CREATE MATERIALIZED VIEW spend AS SELECT c.name, count(*), sum(o.amount) "
      "FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.name")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ripple(binary, extra):
    port, data = free_port(), tempfile.mkdtemp(prefix="ripple-bench-")
    proc = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--data-dir", data, *extra],
                            stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="ripple", dbname="ripple")
            conn.autocommit = True
            return proc, conn
        except psycopg2.OperationalError:
            time.sleep(0.1)
    raise SystemExit("ripple did not start")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def setup(cur, customers=100):
    cur.execute("CREATE TABLE customers (id bigint, name text)")
    cur.execute("CREATE TABLE orders (id bigint, customer_id bigint, amount numeric)")
    cur.execute("INSERT INTO customers VALUES " + ",".join(f"({i}, 'c{i}')" for i in range(customers)))


def ingest(cur, rows, batch=1000, start=0):
    t0 = time.perf_counter()
    for b in range(start, start + rows, batch):
        values = ",".join(f"({i}, {i % 100}, {i % 997}.25)" for i in range(b, b + batch))
        cur.execute("INSERT INTO orders VALUES " + values)
    return time.perf_counter() - t0


def latency(cur, n, after_insert=None):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        cur.execute(f"INSERT INTO orders VALUES ({10**9 + i}, 7, 1.00)")
        if after_insert:
            after_insert(cur)
        cur.execute("SELECT count FROM spend WHERE name = 'c7'")
        cur.fetchall()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), sorted(out)[int(0.99 * len(out)) - 1]


def bench_ripple(args):
    proc, conn = start_ripple(args.ripple_bin, ["--workers", "2"])
    cur = conn.cursor()
    setup(cur)
    cur.execute(MV)
    base = rss_mb(proc.pid)
    secs = ingest(cur, args.rows)
    cur.execute("SELECT sum(count) FROM spend")
    assert int(cur.fetchone()[0]) == args.rows
    loaded = rss_mb(proc.pid)
    p50, p99 = latency(cur, 200)
    proc.send_signal(signal.SIGTERM); proc.wait()
    return {"rows_per_s": args.rows / secs, "p50": p50, "p99": p99,
            "bytes_per_row": (loaded - base) * 1024 * 1024 / args.rows}


def bench_compaction(args):
    proc, conn = start_ripple(args.ripple_bin, ["--workers", "2", "--unsafe-no-fsync"])
    cur = conn.cursor()
    cur.execute("CREATE TABLE one (k int, v bigint)")
    cur.execute("CREATE MATERIALIZED VIEW agg AS SELECT k, sum(v), count(*) FROM one GROUP BY k")
    cur.execute("INSERT INTO one VALUES (1, 0)")
    samples = []
    for i in range(1, args.updates + 1):
        cur.execute("UPDATE one SET v = v + 1 WHERE k = 1")
        if i % (args.updates // 4) == 0:
            time.sleep(1.5)  # let a compaction tick pass
            samples.append((i, rss_mb(proc.pid)))
    proc.send_signal(signal.SIGTERM); proc.wait()
    return samples


def bench_postgres(args):
    conn = psycopg2.connect(host="127.0.0.1", port=args.pg_port, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("DROP DATABASE IF EXISTS bench")
    cur.execute("CREATE DATABASE bench")
    conn = psycopg2.connect(host="127.0.0.1", port=args.pg_port, user="postgres", dbname="bench")
    conn.autocommit = True
    cur = conn.cursor()
    setup(cur)
    cur.execute(MV)
    secs = ingest(cur, args.rows)
    t0 = time.perf_counter()
    cur.execute("REFRESH MATERIALIZED VIEW spend")
    refresh = time.perf_counter() - t0
    p50, p99 = latency(cur, 50, lambda c: c.execute("REFRESH MATERIALIZED VIEW spend"))
    return {"rows_per_s": args.rows / secs, "refresh_s": refresh, "p50": p50, "p99": p99}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ripple-bin", required=True)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--updates", type=int, default=20_000)
    ap.add_argument("--pg-port", type=int, default=54329)
    args = ap.parse_args()
    r = bench_ripple(args)
    p = bench_postgres(args)
    c = bench_compaction(args)
    print(f"| measure | Ripple | PostgreSQL 15 |\n|---|---|---|")
    print(f"| ingest, rows/s ({args.rows} rows, 1000-row INSERTs, MV maintained) | {r['rows_per_s']:.0f} | {p['rows_per_s']:.0f} (MV stale) |")
    print(f"| REFRESH MATERIALIZED VIEW after the load | not needed | {p['refresh_s']*1000:.0f} ms |")
    print(f"| INSERT then SELECT from the view, p50 / p99 | {r['p50']:.2f} / {r['p99']:.2f} ms | {p['p50']:.2f} / {p['p99']:.2f} ms (with REFRESH) |")
    print(f"| server memory per stored row (RSS growth / rows) | {r['bytes_per_row']:.0f} B | - |")
    print("\nOne row updated repeatedly (view: sum/count by key), RSS after N updates:\n")
    print("| updates | RSS MB |\n|---|---|")
    for n, mb in c:
        print(f"| {n} | {mb:.1f} |")


if __name__ == "__main__":
    main()
