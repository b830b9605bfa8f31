#!/usr/bin/env python3
"""Replays the BI-tool catalog corpus (corpus.sql next to this file) against Ripple or PostgreSQL.

Each `-- @@ <tool>: <what>` block is sent as one simple-protocol Query (so multi-statement
batches go over the wire the way psqlODBC, Npgsql and pgAdmin send them) on one autocommit
connection per tool.  A block passes when the server answers without error and the result
satisfies the block's `-- expect: <substring>` / `-- rows>=N` / `-- rows=N` lines.  Result
cells are rendered as the server's text (no Python conversion), '|'-joined, NULL as 'NULL'.

Usage:
  python3 tests/clients/bi/run_corpus.py --pg 127.0.0.1:54329          # PostgreSQL oracle
  python3 tests/clients/bi/run_corpus.py --ripple-bin /tmp/ripple-snapshot
  ... [--only metabase[,grafana]] [--verbose] [--show-rows N] [--corpus FILE]

Exit status: 0 if every block passed, 1 otherwise, 2 on set-up failure.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import psycopg
from psycopg.types.string import TextLoader

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "corpus.sql")
PG_DATABASE = "ripple_bi_corpus"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 120

FIXTURE = [
    "CREATE TABLE orders (id int, customer text, amount numeric(10,2), at timestamp)",
    "INSERT INTO orders VALUES (1, 'alice', 50.00, '2024-01-05 10:00:00'),"
    " (2, 'bob', 150.00, '2024-02-01 11:30:00'),"
    " (3, 'alice', 250.50, '2024-03-10 09:15:00'),"
    " (4, 'carol', 99.99, '2024-03-11 12:00:00')",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100",
    "CREATE MATERIALIZED VIEW spend AS SELECT customer, sum(amount) AS total FROM orders GROUP BY customer",
    "CREATE INDEX orders_id ON orders (id)",
]

HEADER = re.compile(r"^--\s*@@\s*([A-Za-z0-9_.-]+)\s*:\s*(.*?)\s*$")
EXPECT = re.compile(r"^--\s*expect:\s?(.*?)\s*$")
ROWS = re.compile(r"^--\s*rows\s*(>=|=)\s*(\d+)\s*$")
# `-- ripple-gap: why`: a block Ripple does not serve yet (docs/clients.md);
# against Ripple its failure is reported, not counted
GAP = re.compile(r"^--\s*ripple-gap:\s*(.*?)\s*$")
PLACEHOLDER = re.compile(r"\{\{(oid|nspoid|db)(?::([A-Za-z0-9_]+))?\}\}")


class Block:
    def __init__(self, tool, title, line):
        self.tool, self.title, self.line = tool, title, line
        self.lines, self.expects, self.rows = [], [], None
        self.gap = None

    @property
    def sql(self):
        return "\n".join(self.lines).strip() + "\n"


def parse_corpus(path):
    """Splits the corpus into blocks; text before the first header is ignored."""
    blocks, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            m = HEADER.match(line)
            if m:
                cur = Block(m.group(1).lower(), m.group(2), n)
                blocks.append(cur)
                continue
            if cur is None:
                continue
            m = EXPECT.match(line)
            if m:
                cur.expects.append(m.group(1))
                continue
            m = ROWS.match(line)
            if m:
                cur.rows = (m.group(1), int(m.group(2)))
                continue
            m = GAP.match(line)
            if m:
                cur.gap = m.group(1)
                continue
            if line.startswith("-- ====="):
                continue
            cur.lines.append(line)
    for b in blocks:  # drop trailing section comments that belong to the next section
        while b.lines and (not b.lines[-1].strip() or b.lines[-1].lstrip().startswith("--")):
            b.lines.pop()
    return blocks


# ----------------------------------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RippleServer:
    """A fresh ripple process on a temporary data directory."""

    def __init__(self, binary, workers=1, max_memory_gb=8.0):
        self.binary = binary
        self.workers = workers
        self.max_memory = int(max_memory_gb * 2**30) if max_memory_gb else 0
        self.dir = tempfile.mkdtemp(prefix="ripple-bi-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.port = free_port()
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}",
               "--data-dir", os.path.join(self.dir, "data"), "--workers", str(self.workers)]
        limit = self.max_memory

        def cap_memory():  # some catalog queries make ripple allocate until the kernel OOM-kills it
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=cap_memory)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ripple exited with status {self.proc.returncode} "
                                   f"during start-up\n{self.log_tail()}")
            try:
                self.connect().close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError(f"ripple did not accept connections within {START_TIMEOUT_S:.0f} s\n"
                           f"{self.log_tail()}")

    def connect(self):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="ripple", dbname="ripple",
                               connect_timeout=5, autocommit=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, keep=False):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "--- server log (tail) ---\n" + "".join(f.readlines()[-lines:])
        except OSError:
            return "(no server log)"


class PgServer:
    """An existing PostgreSQL; the corpus runs in a freshly created database."""

    def __init__(self, hostport, user="postgres"):
        host, _, port = hostport.rpartition(":")
        self.host, self.port, self.user = host or "127.0.0.1", int(port), user

    def start(self):
        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres",
                             connect_timeout=5, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")

    def connect(self):
        return psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=PG_DATABASE,
                               connect_timeout=5, autocommit=True)

    def alive(self):
        return True

    def stop(self, keep=False):
        pass

    def log_tail(self, lines=30):
        return ""


# ----------------------------------------------------------------------------------------- running

def text_connection(server):
    """A connection whose every column comes back as the server's text representation."""
    conn = server.connect()
    for t in psycopg.postgres.types:
        conn.adapters.register_loader(t.oid, TextLoader)
        if getattr(t, "array_oid", 0):
            conn.adapters.register_loader(t.array_oid, TextLoader)
    return conn


def render(value):
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def run_sql(conn, sql, timeout=None):
    """Runs `sql` as one simple Query; returns a list of result sets (each a list of row tuples).
    With `timeout` (seconds) the query is cancelled (CancelRequest) when it runs longer."""
    results = []
    timer = None
    if timeout:
        timer = threading.Timer(timeout, conn.cancel)
        timer.daemon = True
        timer.start()
    try:
        return _run_sql(conn, sql, results)
    finally:
        if timer is not None:
            timer.cancel()


def _run_sql(conn, sql, results):
    with conn.cursor() as cur:
        cur.execute(sql.encode("utf-8"))  # bytes: no client-side parameter parsing, simple protocol
        while True:
            if cur.description is not None:
                results.append([tuple(render(v) for v in row) for row in cur.fetchall()])
            if not cur.nextset():
                break
    return results


def reset(conn):
    """After a failure leave no transaction open, so the next block starts clean."""
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
    except psycopg.Error:
        pass


def resolve(sql, conn, cache):
    def sub(m):
        kind, name = m.group(1), m.group(2)
        key = (kind, name)
        if key not in cache:
            if kind == "db":
                q = "SELECT current_database()"
            elif kind == "oid":
                q = f"SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = '{name}'"
            else:
                q = f"SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = '{name}'"
            try:
                rows = run_sql(conn, q)
                cache[key] = rows[0][0][0]
            except Exception as e:  # noqa: BLE001 - reported as the block's failure
                reset(conn)
                raise LookupError(f"cannot resolve placeholder {m.group(0)} with `{q}`: "
                                  f"{type(e).__name__}: {str(e).strip()}") from e
        return cache[key]
    return PLACEHOLDER.sub(sub, sql)


def check(block, results, conn, cache):
    """Returns None when the answer is sensible, else a description of what is wrong."""
    text = "\n".join("|".join(row) for rs in results for row in rs)
    problems = []
    for e in block.expects:
        want = resolve(e, conn, cache)
        if want not in text:
            problems.append(f"missing {want!r}")
    if block.rows is not None:
        op, n = block.rows
        got = len(results[-1]) if results else 0
        if (op == "=" and got != n) or (op == ">=" and got < n):
            problems.append(f"rows {got}, want {op}{n}")
    return "; ".join(problems) or None


def run_fixture(server):
    errors = []
    with text_connection(server) as conn:
        for stmt in FIXTURE:
            try:
                run_sql(conn, stmt)
            except psycopg.Error as e:
                reset(conn)
                errors.append(f"{stmt.split('(')[0].strip()}: {describe_error(e)}")
    return errors


def describe_error(e):
    state = getattr(e, "sqlstate", None)
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"[{state}] {msg}" if state else f"{type(e).__name__}: {msg}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = ap.add_mutually_exclusive_group(required=True)
    target.add_argument("--ripple-bin", help="start a fresh ripple from this binary")
    target.add_argument("--pg", metavar="HOST:PORT", help="run against PostgreSQL (user postgres)")
    ap.add_argument("--only", help="comma-separated tools to run (e.g. metabase,grafana)")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--verbose", "-v", action="store_true", help="print the SQL of failing blocks")
    ap.add_argument("--show-rows", type=int, default=0, metavar="N",
                    help="print up to N result rows of every block")
    ap.add_argument("--max-memory-gb", type=float, default=8.0, metavar="G",
                    help="address-space limit for the ripple process (default 8; 0 = none)")
    ap.add_argument("--keep", action="store_true", help="keep ripple's data dir and log")
    ap.add_argument("--timeout", type=float, default=STATEMENT_TIMEOUT_S, metavar="S",
                    help=f"cancel a block after S seconds (default {STATEMENT_TIMEOUT_S}; 0 = never)")
    args = ap.parse_args()

    blocks = parse_corpus(args.corpus)
    if args.only:
        wanted = {t.strip().lower() for t in args.only.split(",") if t.strip()}
        unknown = wanted - {b.tool for b in blocks}
        if unknown:
            print(f"unknown tool(s): {', '.join(sorted(unknown))}; known: "
                  f"{', '.join(sorted({b.tool for b in blocks}))}", file=sys.stderr)
            return 2
        blocks = [b for b in blocks if b.tool in wanted]

    server = (RippleServer(args.ripple_bin, args.workers, args.max_memory_gb) if args.ripple_bin
              else PgServer(args.pg))
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        print(f"SETUP FAILED: {e}", file=sys.stderr)
        server.stop(keep=True)
        return 2

    failures, per_tool = 0, {}
    try:
        fixture_errors = run_fixture(server)
        for err in fixture_errors:
            print(f"FIXTURE ERROR {err}")
        conn, conn_tool, cache = None, None, {}
        for b in blocks:
            if b.tool != conn_tool:  # one session per tool, like a client would have
                if conn is not None:
                    conn.close()
                try:
                    conn = text_connection(server)
                except psycopg.Error as e:
                    conn = None
                conn_tool, cache = b.tool, {}
            ok, why, results, elapsed = False, None, [], 0.0
            if conn is None or conn.closed:
                try:
                    conn = text_connection(server)
                except psycopg.Error as e:
                    why = f"cannot connect: {describe_error(e)}"
            if why is None:
                try:
                    sql = resolve(b.sql, conn, cache)
                    t0 = time.monotonic()
                    try:
                        results = run_sql(conn, sql, timeout=args.timeout)
                    finally:
                        elapsed = time.monotonic() - t0
                    why = check(b, results, conn, cache)
                    ok = why is None
                except LookupError as e:
                    why = str(e)
                except psycopg.Error as e:
                    why = describe_error(e)
                    reset(conn)
            stats = per_tool.setdefault(b.tool, [0, 0])
            stats[0] += 1
            stats[1] += ok
            slow = f" [{elapsed:.1f} s]" if elapsed >= 1.0 else ""
            if not ok and b.gap and args.ripple_bin:
                print(f"GAP  {b.tool}: {b.title} (corpus.sql:{b.line}): {b.gap}\n     -> {why}")
                continue
            if not ok:
                failures += 1
            note = " (a known gap no more: drop its ripple-gap line)" if ok and b.gap and args.ripple_bin else ""
            print(f"{'PASS' if ok else 'FAIL'} {b.tool}: {b.title} (corpus.sql:{b.line}){slow}{note}"
                  + ("" if ok else f"\n     -> {why}"))
            if not ok and args.verbose:
                print("     " + b.sql.strip().replace("\n", "\n     "))
            if args.show_rows and results:
                for rs in results:
                    for row in rs[:args.show_rows]:
                        print("       | " + "|".join(row))
            if not server.alive():
                print(f"SERVER DIED during {b.tool}: {b.title}\n{server.log_tail(8)}")
                print("restarting the server (same data dir) for the remaining blocks")
                try:
                    server.start()
                    conn = None
                except Exception as e:  # noqa: BLE001
                    print(f"restart failed: {e}")
                    failures += 1
                    break
        if conn is not None:
            conn.close()
    finally:
        server.stop(keep=args.keep)

    print()
    print("tool        passed/total")
    for tool, (total, passed) in per_tool.items():
        print(f"{tool:<12}{passed:>3}/{total}")
    total = sum(t for t, _ in per_tool.values())
    passed = sum(p for _, p in per_tool.values())
    print(f"{'all':<12}{passed:>3}/{total} ({failures} failed, the rest known gaps)"
          + (f"   fixture errors: {len(fixture_errors)}" if fixture_errors else ""))
    return 1 if failures or fixture_errors else 0


if __name__ == "__main__":
    sys.exit(main())
