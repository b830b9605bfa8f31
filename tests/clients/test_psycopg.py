#!/usr/bin/env python3
"""Client test: drive a real `ripple` server with psycopg2, as a user would.

Starts the binary given by --ripple-bin on a free port with a fresh data
directory, then checks over the wire:

  * the example session (orders / spend): exact values after INSERT, UPDATE
    and DELETE, read back through an incrementally maintained view;
  * SQLSTATEs (e.pgcode) of common errors, and that the session stays usable
    after each one: 42601, 42P01, 42703, 22012 (an evaluation error inside a
    materialized view, which clears once the bad row is deleted), 2BP01, and
    3D000 for a connection to an unknown database;
  * psycopg2's default transaction mode (autocommit=False): commit() makes a
    write visible, rollback() discards it, an error aborts the block (25P02);
  * durability: after SIGTERM and restart, and after SIGKILL and restart, the
    tables, views and every acknowledged row are back.

Usage:
  python3 tests/clients/test_psycopg.py --ripple-bin target/debug/ripple [--workers N]

Exits non-zero on the first failure of each check group with a message that
names the SQL, what was expected and what came back; prints a one-line
summary at the end. Needs psycopg2 (tests/install-deps.sh installs it).
"""

import argparse
import datetime
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import psycopg2
import psycopg2.errors

USER = "ripple"
DATABASE = "ripple"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class CheckFailed(Exception):
    """One expectation did not hold; the message says which and how."""


def check(condition, message):
    """Raises CheckFailed with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ripple process on a data directory that outlives restarts."""

    def __init__(self, binary, workers, data_dir, log_path, extra_args=(), host="127.0.0.1"):
        self.host = host
        self.binary = binary
        self.workers = workers
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.proc = None

    def start(self):
        """Starts the server and waits until it accepts a connection."""
        log = open(self.log_path, "ab")
        cmd = [self.binary, "--listen", f"{self.host}:{self.port}",
               "--data-dir", self.data_dir, "--workers", str(self.workers)] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"ripple exited with status {self.proc.returncode} "
                                  f"during start-up\n{self.log_tail()}")
            try:
                self.connect(autocommit=True).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.1)
        raise CheckFailed(f"ripple did not accept connections within "
                          f"{START_TIMEOUT_S:.0f} s\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` and waits for the process to exit; returns its status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            status = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise CheckFailed(f"ripple did not exit within {STOP_TIMEOUT_S:.0f} s "
                              f"of signal {sig.name}\n{self.log_tail()}")
        return status

    def connect(self, autocommit=True, dbname=DATABASE):
        """A new psycopg2 connection to this server."""
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=USER,
                                dbname=dbname, connect_timeout=5)
        conn.autocommit = autocommit
        return conn

    def log_tail(self, lines=30):
        """The last lines of the server's log, for failure messages."""
        try:
            with open(self.log_path, "r", errors="replace") as f:
                tail = f.readlines()[-lines:]
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "".join(tail)


def query(cur, sql):
    """Runs `sql` and returns all rows, failing the check on any error."""
    try:
        cur.execute(sql)
    except psycopg2.Error as e:
        raise CheckFailed(f"{sql}\n  expected: success\n  actual: "
                          f"{e.pgcode} {str(e).strip()}") from None
    return cur.fetchall() if cur.description is not None else None


def expect_rows(cur, sql, expected):
    """Runs `sql` and compares rows exactly; Decimals must match in scale too."""
    actual = query(cur, sql)
    same = actual == expected and [tuple(map(repr, r)) for r in actual] == \
        [tuple(map(repr, r)) for r in expected]
    check(same, f"{sql}\n  expected: {expected!r}\n  actual:   {actual!r}")


def expect_error(cur, sql, code):
    """Runs `sql` expecting an error with SQLSTATE `code`."""
    try:
        cur.execute(sql)
    except psycopg2.Error as e:
        check(e.pgcode == code, f"{sql}\n  expected: error {code}\n  actual:   "
                                f"error {e.pgcode} {str(e).strip()}")
        return
    rows = cur.fetchall() if cur.description is not None else cur.statusmessage
    raise CheckFailed(f"{sql}\n  expected: error {code}\n  actual:   success {rows!r}")


def expect_usable(cur):
    """The session still answers after an error (autocommit)."""
    expect_rows(cur, "SELECT 1", [(1,)])


def test_orders_session(server):
    """The example session: a view over orders follows INSERT, UPDATE, DELETE."""
    conn = server.connect()
    cur = conn.cursor()
    query(cur, "CREATE TABLE orders (id bigint, customer text, amount numeric, at timestamp)")
    query(cur, "CREATE MATERIALIZED VIEW spend AS "
               "SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer")
    expect_rows(cur, "SELECT * FROM spend", [])
    query(cur, "INSERT INTO orders VALUES (1, 'ann', 9.50, now()), (2, 'bob', 3, now())")
    check(cur.rowcount == 2, f"INSERT rowcount: expected 2, got {cur.rowcount}")
    spend = "SELECT * FROM spend ORDER BY customer"
    expect_rows(cur, spend, [("ann", 1, Decimal("9.50")), ("bob", 1, Decimal("3"))])
    names = [d.name for d in cur.description]
    check(names == ["customer", "count", "sum"], f"{spend}: columns {names}")
    query(cur, "UPDATE orders SET amount = amount * 2 WHERE customer = 'ann'")
    check(cur.rowcount == 1, f"UPDATE rowcount: expected 1, got {cur.rowcount}")
    expect_rows(cur, spend, [("ann", 1, Decimal("19.00")), ("bob", 1, Decimal("3"))])
    query(cur, "DELETE FROM orders WHERE id = 2")
    check(cur.rowcount == 1, f"DELETE rowcount: expected 1, got {cur.rowcount}")
    expect_rows(cur, spend, [("ann", 1, Decimal("19.00"))])
    rows = query(cur, "SELECT id, customer, amount, at FROM orders")
    check(len(rows) == 1 and rows[0][:3] == (1, "ann", Decimal("19.00")),
          f"SELECT … FROM orders: {rows!r}")
    at = rows[0][3]
    utc_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    check(isinstance(at, datetime.datetime) and abs(at - utc_now).total_seconds() < 300,
          f"orders.at should be now() in UTC, got {at!r} (UTC now {utc_now})")
    conn.close()


def test_error_codes(server):
    """Syntax, unknown table and unknown column errors keep the session usable."""
    conn = server.connect()
    cur = conn.cursor()
    for sql, code in [("SELEC 1", "42601"),
                      ("SELECT * FROM no_such_table", "42P01"),
                      ("SELECT no_such_column FROM orders", "42703"),
                      ("SELECT 1/0", "22012")]:
        expect_error(cur, sql, code)
        expect_usable(cur)
    conn.close()


def test_column_names(server):
    """Unaliased result columns carry PostgreSQL's names (clients key rows by them)."""
    conn = server.connect()
    conn.autocommit = True
    cur = conn.cursor()
    # (expression, the name PostgreSQL 15 gives it)
    cases = [("substr('abc', 1, 2)", "substr"), ("substring('abc' from 1 for 2)", "substring"),
             ("1 + 1", "?column?"), ("count(*)", "count"), ("sum(1)", "sum"),
             ("cast(1 as text)", "text"), ("1::int", "int4"), ("coalesce(1, 2)", "coalesce"),
             ("case when true then 1 end", "case"), ("upper('a')", "upper"),
             ("trim(' a ')", "btrim"), ("trim(leading 'a' from 'ab')", "ltrim"),
             ("round(1.5)", "round"), ("1.5::numeric(4,1)", "numeric"), ("7 AS seven", "seven")]
    query(cur, "SELECT " + ", ".join(e for e, _ in cases))
    names = [d.name for d in cur.description]
    check(names == [n for _, n in cases], f"column names: {names}")
    conn.close()


def test_view_errors(server):
    """Division by zero inside a materialized view is data: reads fail with
    22012 while the bad row exists, other views stay readable."""
    conn = server.connect()
    cur = conn.cursor()
    query(cur, "CREATE TABLE ratios (id int, num int, den int)")
    query(cur, "INSERT INTO ratios VALUES (1, 10, 2), (2, 5, 0)")
    query(cur, "CREATE MATERIALIZED VIEW quotients AS SELECT id, num / den AS q FROM ratios")
    query(cur, "CREATE MATERIALIZED VIEW ratio_ids AS SELECT id FROM ratios")
    expect_error(cur, "SELECT * FROM quotients", "22012")
    expect_usable(cur)
    expect_rows(cur, "SELECT id FROM ratio_ids ORDER BY id", [(1,), (2,)])
    query(cur, "DELETE FROM ratios WHERE den = 0")
    expect_rows(cur, "SELECT id, q FROM quotients", [(1, 5)])
    # The incremental path: a bad row arriving later, then leaving again.
    query(cur, "INSERT INTO ratios VALUES (3, 1, 0)")
    expect_error(cur, "SELECT * FROM quotients", "22012")
    expect_rows(cur, "SELECT id FROM ratio_ids ORDER BY id", [(1,), (3,)])
    query(cur, "DELETE FROM ratios WHERE id = 3")
    expect_rows(cur, "SELECT id, q FROM quotients", [(1, 5)])
    conn.close()


def test_recursion_limit(server):
    """A WITH RECURSIVE that never converges stops after the server's
    --max-recursion-rounds with 54000; in a view the error is data and
    other views stay readable; a bounded recursion under the limit works."""
    limited = Server(server.binary, server.workers, server.data_dir + "-limited",
                     server.log_path + ".limited", ["--max-recursion-rounds", "40"])
    limited.start()
    try:
        conn = limited.connect()
        cur = conn.cursor()
        expect_error(cur, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) "
                          "SELECT count(*) FROM t", "54000")
        expect_usable(cur)
        expect_rows(cur, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
                         "WHERE n < 30) SELECT count(*) FROM t", [(30,)])
        query(cur, "CREATE TABLE edges (a int, b int)")
        query(cur, "INSERT INTO edges VALUES (1, 2), (2, 1)")
        # UNION ALL over a cycle never converges; UNION does
        query(cur, "CREATE MATERIALIZED VIEW walks AS WITH RECURSIVE w(a, b) AS "
                   "(SELECT a, b FROM edges UNION ALL SELECT w.a, e.b FROM w JOIN edges e ON w.b = e.a) "
                   "SELECT * FROM w")
        query(cur, "CREATE MATERIALIZED VIEW reach AS WITH RECURSIVE w(a, b) AS "
                   "(SELECT a, b FROM edges UNION SELECT w.a, e.b FROM w JOIN edges e ON w.b = e.a) "
                   "SELECT * FROM w")
        expect_error(cur, "SELECT count(*) FROM walks", "54000")
        expect_rows(cur, "SELECT a, b FROM reach ORDER BY a, b", [(1, 1), (1, 2), (2, 1), (2, 2)])
        conn.close()
    finally:
        limited.stop()


def test_drop_dependency(server):
    """DROP TABLE with a dependent view fails with 2BP01 and changes nothing."""
    conn = server.connect()
    cur = conn.cursor()
    expect_error(cur, "DROP TABLE orders", "2BP01")
    expect_usable(cur)
    expect_rows(cur, "SELECT customer FROM spend", [("ann",)])
    expect_rows(cur, "SELECT id FROM orders", [(1,)])
    conn.close()


def startup_error_code(port, database):
    """Sends a raw StartupMessage and returns the SQLSTATE of the server's
    ErrorResponse (psycopg2 does not expose it for connection failures)."""
    params = f"user\0{USER}\0database\0{database}\0\0".encode()
    packet = struct.pack("!ii", 8 + len(params), 196608) + params
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(packet)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    while len(data) >= 5:
        kind, length = data[:1], struct.unpack("!i", data[1:5])[0]
        body, data = data[5:1 + length], data[1 + length:]
        if kind == b"E":
            for field in body.split(b"\0"):
                if field[:1] == b"C":
                    return field[1:].decode()
    return None


def test_unknown_database(server):
    """Connecting to database "nope" fails with 3D000."""
    try:
        server.connect(dbname="nope").close()
        raise CheckFailed('connect(dbname="nope")\n  expected: error 3D000\n  actual: connected')
    except psycopg2.OperationalError as e:
        check('database "nope" does not exist' in str(e),
              f'connect(dbname="nope")\n  expected: database "nope" does not exist\n'
              f"  actual: {str(e).strip()}")
    code = startup_error_code(server.port, "nope")
    check(code == "3D000", f'startup with database "nope"\n  expected: 3D000\n  actual: {code}')
    conn = server.connect()
    expect_usable(conn.cursor())
    conn.close()


def test_transactions(server):
    """psycopg2's default mode: writes wait for commit(), rollback() discards,
    an error aborts the block until rollback()."""
    conn = server.connect(autocommit=False)
    cur = conn.cursor()
    query(cur, "INSERT INTO orders VALUES (10, 'cy', 4.25, now())")
    conn.commit()
    expect_rows(cur, "SELECT id, amount FROM orders WHERE id = 10", [(10, Decimal("4.25"))])
    conn.commit()
    query(cur, "INSERT INTO orders VALUES (11, 'dee', 1, now())")
    conn.rollback()
    expect_rows(cur, "SELECT id FROM orders WHERE id = 11", [])
    conn.commit()
    expect_error(cur, "SELECT * FROM no_such_table", "42P01")
    expect_error(cur, "SELECT 1", "25P02")
    conn.rollback()
    expect_rows(cur, "SELECT 1", [(1,)])
    conn.commit()
    other = server.connect().cursor()
    expect_rows(other, "SELECT * FROM spend ORDER BY customer",
                [("ann", 1, Decimal("19.00")), ("cy", 1, Decimal("4.25"))])
    other.connection.close()
    conn.close()


STATE_QUERIES = [
    "SHOW TABLES",
    "SHOW MATERIALIZED VIEWS",
    "SELECT id, customer, amount, at FROM orders ORDER BY id",
    "SELECT * FROM spend ORDER BY customer",
    "SELECT id, q FROM quotients ORDER BY id",
    "SELECT id FROM ratio_ids ORDER BY id",
]


def snapshot(server):
    """The results of STATE_QUERIES, to compare across a restart."""
    conn = server.connect()
    cur = conn.cursor()
    state = {sql: query(cur, sql) for sql in STATE_QUERIES}
    conn.close()
    return state


def compare_snapshots(before, after, what):
    """Every state query returns what it returned before `what`."""
    for sql in STATE_QUERIES:
        check(before[sql] == after[sql], f"after {what}: {sql}\n  expected: "
                                         f"{before[sql]!r}\n  actual:   {after[sql]!r}")


def test_restart(server):
    """SIGTERM, restart on the same data directory: everything is back, and
    the views keep following new writes."""
    before = snapshot(server)
    check(("orders",) in before["SHOW TABLES"] and ("spend",) in before["SHOW MATERIALIZED VIEWS"],
          f"catalog before restart: {before['SHOW TABLES']!r} {before['SHOW MATERIALIZED VIEWS']!r}")
    status = server.stop(signal.SIGTERM)
    check(status == 0, f"ripple exited with status {status} on SIGTERM\n{server.log_tail()}")
    server.start()
    compare_snapshots(before, snapshot(server), "SIGTERM and restart")
    conn = server.connect()
    cur = conn.cursor()
    query(cur, "INSERT INTO orders VALUES (12, 'ann', 1.00, now())")
    expect_rows(cur, "SELECT * FROM spend WHERE customer = 'ann'", [("ann", 2, Decimal("20.00"))])
    conn.close()


def test_kill9(server):
    """Rows acknowledged before SIGKILL survive it."""
    conn = server.connect()
    cur = conn.cursor()
    for i in range(20, 25):
        query(cur, f"INSERT INTO orders VALUES ({i}, 'kim', {i}, now())")
    query(cur, "DELETE FROM orders WHERE id = 20")
    conn.close()
    before = snapshot(server)
    server.stop(signal.SIGKILL)
    server.start()
    compare_snapshots(before, snapshot(server), "SIGKILL and restart")
    conn = server.connect()
    expect_rows(conn.cursor(), "SELECT * FROM spend WHERE customer = 'kim'",
                [("kim", 4, Decimal("90"))])
    expect_rows(conn.cursor(), "SELECT id FROM orders WHERE customer = 'kim' ORDER BY id",
                [(21,), (22,), (23,), (24,)])
    conn.close()


TESTS = [
    test_orders_session,
    test_error_codes,
    test_column_names,
    test_view_errors,
    test_recursion_limit,
    test_drop_dependency,
    test_unknown_database,
    test_transactions,
    test_restart,
    test_kill9,
]


def run_all(server):
    """Runs every test in order; returns the names of those that failed."""
    failed = []
    for test in TESTS:
        try:
            test(server)
            print(f"ok   {test.__name__}")
        except (CheckFailed, psycopg2.Error, OSError) as e:
            failed.append(test.__name__)
            print(f"FAIL {test.__name__}: {e}", file=sys.stderr)
            if server.proc is None or server.proc.poll() is not None:
                print(server.log_tail(), file=sys.stderr)
                break
    return failed


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple", help="the ripple binary")
    p.add_argument("--workers", type=int, default=1, help="timely worker threads")
    p.add_argument("--keep", action="store_true", help="keep the data directory and log")
    return p.parse_args()


def main():
    args = parse_args()
    binary = os.path.abspath(args.ripple_bin)
    if not os.access(binary, os.X_OK):
        print(f"test_psycopg: {binary} is not an executable", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="ripple-psycopg-")
    server = Server(binary, args.workers, os.path.join(tmp, "data"), os.path.join(tmp, "ripple.log"))
    failed = []
    try:
        server.start()
        failed = run_all(server)
    except CheckFailed as e:
        failed = ["start-up"]
        print(f"FAIL start-up: {e}", file=sys.stderr)
    finally:
        server.stop(signal.SIGTERM)
        if args.keep or failed:
            print(f"test_psycopg: data and log kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    total = len(TESTS)
    if failed:
        print(f"test_psycopg: FAILED {len(failed)} of {total} (workers={args.workers}): "
              f"{', '.join(failed)}")
        return 1
    print(f"test_psycopg: all {total} passed (workers={args.workers})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
