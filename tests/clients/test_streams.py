#!/usr/bin/env python3
"""Streams in and out, against a real `ripple`: COPY FROM STDIN / TO STDOUT
(checked byte for byte and row for row against PostgreSQL) and SUBSCRIBE
(as COPY OUT and through DECLARE … CURSOR FOR SUBSCRIBE + FETCH).

The central SUBSCRIBE check runs a writer that commits random transactions
(inserts, updates and deletes in one block) while a subscriber follows the
table: the subscriber must see, per timestamp, exactly each transaction's
net changes, in commit order, each followed by progress, with nothing
missed, duplicated or split.

Usage:
  python3 tests/clients/test_streams.py --ripple-bin target/debug/ripple \
      [--workers N] [--pg-port 54329]
"""

import argparse
import collections
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ripple_server import (  # noqa: E402
    PG_HOST, PG_PORT, PG_USER, CheckFailed, Checks, Server, check)

PG_DB = "ripple_streams"


class Ctx:
    def __init__(self, server, pg):
        self.server = server
        self.pg = pg

    def connect(self, autocommit=True):
        return psycopg.connect(host="127.0.0.1", port=self.server.port, user="ripple",
                               dbname="ripple", autocommit=autocommit)


def both(ctx, sql):
    """Runs `sql` on Ripple and on PostgreSQL."""
    with ctx.connect() as r:
        r.execute(sql)
    ctx.pg.execute(sql)


def rows_of(conn, sql):
    return conn.execute(sql).fetchall()


def copy_in(conn, sql, data):
    with conn.cursor() as cur:
        with cur.copy(sql) as cp:
            cp.write(data)
        return cur.rowcount


def copy_out(conn, sql):
    with conn.cursor() as cur:
        with cur.copy(sql) as cp:
            return b"".join(bytes(b) for b in cp)


def expect_error(fn, sqlstate, contains=None):
    try:
        fn()
    except psycopg.Error as e:
        check(e.sqlstate == sqlstate, f"expected SQLSTATE {sqlstate}, got {e.sqlstate}: {e}")
        if contains:
            text = str(e) + " " + str(getattr(e.diag, "context", "") or "")
            check(contains in text, f"expected {contains!r} in the error, got {text!r}")
        return e
    raise CheckFailed(f"expected an error with SQLSTATE {sqlstate}, got none")


# ---------------------------------------------------------------- COPY

COPY_TABLE = ("CREATE TABLE cp (id int NOT NULL, name text DEFAULT 'none', price numeric(8,2),"
              " at timestamp, ok boolean)")


def c_copy_in_text(ctx):
    both(ctx, "DROP TABLE IF EXISTS cp")
    both(ctx, COPY_TABLE)
    data = (b"1\tplain\t1.50\t2024-01-02 03:04:05\tt\n"
            b"2\ttab\\there, back\\\\slash, nl\\nend\t\\N\t\\N\tf\n"
            b"3\t\xc3\xa9t\xc3\xa9 \\x41\\101\t-0.5\t2024-02-29 00:00:00\t\\N\n")
    with ctx.connect() as r:
        n = copy_in(r, "COPY cp FROM STDIN", data)
        check(n == 3, f"COPY reported {n} rows, want 3")
        copy_in(r, "COPY cp (id, price) FROM STDIN", b"4\t9.99\n5\t\\N\n")
        got = rows_of(r, "SELECT * FROM cp ORDER BY id")
    copy_in(ctx.pg, "COPY cp FROM STDIN", data)
    copy_in(ctx.pg, "COPY cp (id, price) FROM STDIN", b"4\t9.99\n5\t\\N\n")
    want = rows_of(ctx.pg, "SELECT * FROM cp ORDER BY id")
    check(got == want, f"rows differ from PostgreSQL:\n ripple {got}\n pg     {want}")


def c_copy_in_csv(ctx):
    both(ctx, "DROP TABLE IF EXISTS cp")
    both(ctx, COPY_TABLE)
    data = (b"id;name;price;at;ok\r\n"
            b"1;\"semi;colon \"\"quoted\"\"\";1;2024-01-01 00:00:00;true\r\n"
            b"2;\"multi\nline\";NA;NA;false\r\n"
            b"3;\"\";NA;NA;NA\r\n"
            b"4;NA;2.25;2024-03-01 12:00:00;t\r\n")
    sql = "COPY cp FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'NA')"
    with ctx.connect() as r:
        copy_in(r, sql, data)
        got = rows_of(r, "SELECT * FROM cp ORDER BY id")
    copy_in(ctx.pg, sql, data)
    want = rows_of(ctx.pg, "SELECT * FROM cp ORDER BY id")
    check(got == want, f"rows differ from PostgreSQL:\n ripple {got}\n pg     {want}")


def c_copy_bad_rows_apply_nothing(ctx):
    both(ctx, "DROP TABLE IF EXISTS cp")
    both(ctx, COPY_TABLE)
    cases = [
        (b"1\ta\t1\t\\N\tt\n2\tb\tnot-a-number\t\\N\tt\n", "22P02", "line 2, column price"),
        (b"1\ta\t1\t\\N\tt\n2\tb\n", "22P04", "line 2"),
        (b"1\ta\t1\t\\N\tt\tsurplus\n", "22P04", "line 1"),
        (b"1\ta\t1\t\\N\tt\n\\N\tb\t1\t\\N\tt\n", "23502", "line 2"),
        (b"1\ta\t1\t2024-13-45 00:00:00\tt\n", "22008", "line 1, column at"),
    ]
    with ctx.connect() as r:
        for data, state, where in cases:
            expect_error(lambda: copy_in(r, "COPY cp FROM STDIN", data), state, where)
            pg_err = expect_error(lambda: copy_in(ctx.pg, "COPY cp FROM STDIN", data), state)
            check(where in (pg_err.diag.context or ""),
                  f"PostgreSQL's context {pg_err.diag.context!r} does not say {where!r}")
            n = rows_of(r, "SELECT count(*) FROM cp")[0][0]
            check(n == 0, f"a failed COPY left {n} rows")
        # the connection is usable afterwards
        check(rows_of(r, "SELECT 1") == [(1,)], "connection not usable after a failed COPY")
    expect_error(lambda: copy_in(ctx.connect(), "COPY cp FROM STDIN WITH (FORMAT csv)",
                                 b"1,\"open quote\n"), "22P04", "unterminated CSV")


def c_copy_out_matches_postgres(ctx):
    both(ctx, "DROP TABLE IF EXISTS cp")
    both(ctx, COPY_TABLE)
    both(ctx, "INSERT INTO cp VALUES (1, 'a\tb\\c', 1.5, '2024-01-01 10:00:00', true),"
              " (2, NULL, NULL, NULL, NULL), (3, 'x,\"y\"', -2, '2024-06-30 23:59:59', false),"
              " (4, '', 0, NULL, true)")
    with ctx.connect() as r:
        for sql in [
            "COPY (SELECT * FROM cp ORDER BY id) TO STDOUT",
            "COPY (SELECT * FROM cp ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
            "COPY (SELECT id, name FROM cp ORDER BY id) TO STDOUT WITH (DELIMITER '|', NULL 'nil')",
            "COPY (SELECT name, id FROM cp WHERE id > 1 ORDER BY id) TO STDOUT CSV HEADER",
        ]:
            got, want = copy_out(r, sql), copy_out(ctx.pg, sql)
            check(got == want, f"{sql}\n ripple {got!r}\n pg     {want!r}")
        got = sorted(copy_out(r, "COPY cp (id, ok) TO STDOUT").splitlines())
        want = sorted(copy_out(ctx.pg, "COPY cp (id, ok) TO STDOUT").splitlines())
        check(got == want, f"COPY cp (id, ok): ripple {got} pg {want}")
        expect_error(lambda: copy_out(r, "COPY cp TO STDOUT WITH (FORMAT binary)"), "0A000")
        for bad, state in [("COPY cp (id, id) TO STDOUT", "42701"),
                           ("COPY cp (nope) TO STDOUT", "42703")]:
            expect_error(lambda: copy_out(ctx.pg, bad), state)
            expect_error(lambda: copy_out(r, bad), state)


def c_copy_feeds_a_view_and_respects_blocks(ctx):
    with ctx.connect() as r:
        r.execute("DROP TABLE IF EXISTS big CASCADE")
        r.execute("CREATE TABLE big (k int, v bigint)")
        r.execute("CREATE MATERIALIZED VIEW big_sum AS SELECT k % 10 AS g, count(*) AS n,"
                  " sum(v) AS s FROM big GROUP BY k % 10")
        n = 50_000
        data = "".join(f"{i}\t{i * 3}\n" for i in range(n)).encode()
        # chunks that split lines
        with r.cursor() as cur:
            with cur.copy("COPY big FROM STDIN") as cp:
                for i in range(0, len(data), 7777):
                    cp.write(data[i:i + 7777])
        got = rows_of(r, "SELECT g, n, s FROM big_sum ORDER BY g")
        want = [(g, n // 10, sum(i * 3 for i in range(g, n, 10))) for g in range(10)]
        check(got == want, f"view after COPY: {got[:3]}… want {want[:3]}…")
    with ctx.connect(autocommit=False) as r:
        copy_in(r, "COPY big FROM STDIN", b"-1\t1\n")
        r.rollback()
        copy_in(r, "COPY big FROM STDIN", b"-2\t1\n-3\t1\n")
        r.execute("INSERT INTO big VALUES (-4, 1)")
        r.commit()
        got = rows_of(r, "SELECT k FROM big WHERE k < 0 ORDER BY k")
        check(got == [(-4,), (-3,), (-2,)], f"COPY in blocks: {got}")


# ---------------------------------------------------------------- SUBSCRIBE

def subscribe_rows(conn, sql, until, timeout=20.0):
    """Reads `COPY (SUBSCRIBE …) TO STDOUT` rows until `until(rows)` holds."""
    rows = []
    deadline = time.monotonic() + timeout
    try:
        with conn.cursor() as cur:
            with cur.copy(sql) as cp:
                for row in cp.rows():
                    rows.append(row)
                    if until(rows):
                        break
                    if time.monotonic() > deadline:
                        raise CheckFailed(f"subscription did not reach its goal in {timeout} s; "
                                          f"last rows {rows[-5:]}")
                # end the subscription (as psql's Ctrl-C would) and read to its end
                conn.cancel()
                for _ in cp.rows():
                    pass
    except psycopg.errors.QueryCanceled:
        pass
    return rows


def c_subscribe_snapshot_then_changes(ctx):
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS s1 CASCADE")
        w.execute("CREATE TABLE s1 (k text, v int)")
        w.execute("INSERT INTO s1 VALUES ('a', 1), ('a', 2), ('b', 3)")
        w.execute("CREATE MATERIALIZED VIEW s1v AS SELECT k, sum(v) AS total FROM s1 GROUP BY k")

        def write():
            time.sleep(0.5)
            w.execute("INSERT INTO s1 VALUES ('b', 10)")
            w.execute("DELETE FROM s1 WHERE k = 'a'")

        t = threading.Thread(target=write)
        t.start()
        sub = ctx.connect()
        rows = subscribe_rows(sub, "COPY (SUBSCRIBE s1v WITH (PROGRESS)) TO STDOUT",
                              lambda rs: sum(1 for r in rs if r[1] == "f") >= 5)
        t.join()
    data = [(int(r[0]), int(r[2]), r[3], r[4]) for r in rows if r[1] == "f"]
    snap_ts = data[0][0]
    snapshot = sorted((k, v, d) for ts, d, k, v in data if ts == snap_ts)
    check(snapshot == [("a", "3", 1), ("b", "3", 1)], f"snapshot {snapshot}")
    later = [(k, v, d) for ts, d, k, v in data if ts != snap_ts]
    check(sorted(later[:2]) == [("b", "13", 1), ("b", "3", -1)], f"first change {later}")
    check(later[2:] == [("a", "3", -1)], f"second change {later}")
    progress = [int(r[0]) for r in rows if r[1] == "t"]
    check(progress == sorted(set(progress)), f"progress not strictly increasing: {progress}")
    check(progress and progress[0] > snap_ts, "no progress after the snapshot")


def c_subscribe_sees_exactly_a_concurrent_writer(ctx):
    """Every committed transaction appears once, whole, at its own
    timestamp, in commit order, before the next progress row."""
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS s2 CASCADE")
        w.execute("CREATE TABLE s2 (id int, v int)")
    rng = random.Random(7)
    txns = []
    live = {}
    for t in range(60):
        net = collections.Counter()
        stmts = []
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.5 or not live:
                i = rng.randint(0, 10_000)
                if i in live:
                    continue
                v = rng.randint(0, 99)
                stmts.append(f"INSERT INTO s2 VALUES ({i}, {v})")
                live[i] = v
                net[(i, v)] += 1
            elif op < 0.8:
                i = rng.choice(sorted(live))
                v = rng.randint(0, 99)
                stmts.append(f"UPDATE s2 SET v = {v} WHERE id = {i}")
                net[(i, live[i])] -= 1
                net[(i, v)] += 1
                live[i] = v
            else:
                i = rng.choice(sorted(live))
                stmts.append(f"DELETE FROM s2 WHERE id = {i}")
                net[(i, live[i])] -= 1
                del live[i]
        net = {k: d for k, d in net.items() if d != 0}
        if stmts and net:
            txns.append((stmts, net))
    started = threading.Event()

    def writer():
        started.wait(10)
        with ctx.connect(autocommit=False) as c:
            for stmts, _ in txns:
                for s in stmts:
                    c.execute(s)
                c.commit()
                time.sleep(rng.random() * 0.01)

    t = threading.Thread(target=writer)
    t.start()
    sub = ctx.connect()
    seen = []

    def until(rows):
        if len(rows) == 1:
            started.set()
        return len({r[0] for r in rows if r[1] == "f"}) >= len(txns) and rows[-1][1] == "t"

    rows = subscribe_rows(sub, "COPY (SUBSCRIBE s2 WITH (PROGRESS, SNAPSHOT = false)) TO STDOUT",
                          until, timeout=60)
    t.join()
    last_progress = 0
    by_ts = collections.OrderedDict()
    for r in rows:
        ts = int(r[0])
        if r[1] == "t":
            check(ts > last_progress, f"progress went from {last_progress} to {ts}")
            last_progress = ts
            continue
        check(ts >= last_progress, f"a change at {ts} after progress {last_progress}")
        by_ts.setdefault(ts, {})
        key = (int(r[3]), int(r[4]))
        check(key not in by_ts[ts], f"row {key} twice at {ts}")
        by_ts[ts][key] = int(r[2])
    seen = list(by_ts.values())
    want = [net for _, net in txns]
    check(len(seen) == len(want), f"{len(seen)} timestamps for {len(want)} transactions")
    for i, (a, b) in enumerate(zip(seen, want)):
        check(a == b, f"transaction {i}: subscription saw {a}, writer committed {b}")


def c_subscribe_cursor_fetch(ctx):
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS s3 CASCADE")
        w.execute("CREATE TABLE s3 (x int)")
        w.execute("INSERT INTO s3 VALUES (1)")
        c = ctx.connect(autocommit=False)
        cur = c.cursor()
        cur.execute("DECLARE sc CURSOR FOR SUBSCRIBE (SELECT x FROM s3 WHERE x > 0)")
        cur.execute("FETCH ALL sc")
        cols = [d.name for d in cur.description]
        check(cols == ["mz_timestamp", "mz_diff", "x"], f"columns {cols}")
        got = [(r[1], r[2]) for r in cur.fetchall()]
        check(got == [(1, 1)], f"snapshot {got}")
        t0 = time.monotonic()
        cur.execute("FETCH 10 sc WITH (timeout = '300ms')")
        waited = time.monotonic() - t0
        check(cur.fetchall() == [] and 0.25 < waited < 5, f"empty FETCH took {waited:.2f} s")
        w.execute("INSERT INTO s3 VALUES (2), (-3)")
        cur.execute("FETCH 10 sc WITH (timeout = '5s')")
        got = [(r[1], r[2]) for r in cur.fetchall()]
        check(got == [(1, 2)], f"after insert {got}")
        # FETCH without a timeout waits for the next change
        threading.Timer(0.3, lambda: w.execute("DELETE FROM s3 WHERE x = 1")).start()
        cur.execute("FETCH sc")
        got = [(r[1], r[2]) for r in cur.fetchall()]
        check(got == [(-1, 1)], f"after delete {got}")
        cur.execute("CLOSE sc")
        c.commit()
        expect_error(lambda: cur.execute("FETCH 1 sc WITH (timeout = '0s')"), "34000")
        c.rollback()
        # an ordinary cursor takes the timeout too
        cur.execute("DECLARE plain CURSOR FOR SELECT x FROM s3 ORDER BY x")
        cur.execute("FETCH ALL plain WITH (timeout = '1s')")
        check(cur.fetchall() == [(-3,), (2,)], "FETCH … WITH on an ordinary cursor")
        c.rollback()
        expect_error(lambda: ctx.connect().execute("DECLARE x CURSOR FOR SUBSCRIBE s3"), "25P01")
        c.close()


def c_subscribe_ends_cleanly(ctx):
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS s4 CASCADE")
        w.execute("CREATE TABLE s4 (x int)")
        w.execute("INSERT INTO s4 VALUES (0), (1)")
        w.execute("CREATE MATERIALIZED VIEW s4v AS SELECT x FROM s4")
        # a dropped input ends the subscription with an error
        sub = ctx.connect()
        threading.Timer(0.5, lambda: w.execute("DROP MATERIALIZED VIEW s4v")).start()
        expect_error(lambda: subscribe_rows(sub, "COPY (SUBSCRIBE s4v) TO STDOUT",
                                            lambda rs: False), "42P01", "was dropped")
        check(rows_of(sub, "SELECT 1") == [(1,)], "connection unusable after the error")
        # so does dropping a plain view it names (inlined in its plan)
        w.execute("CREATE VIEW s4plain AS SELECT x + 1 AS y FROM s4")
        threading.Timer(0.5, lambda: w.execute("DROP VIEW s4plain")).start()
        expect_error(lambda: subscribe_rows(sub, "COPY (SUBSCRIBE s4plain) TO STDOUT",
                                            lambda rs: False), "42P01", "was dropped")
        # an evaluation error ends it too
        expect_error(lambda: subscribe_rows(sub, "COPY (SUBSCRIBE (SELECT 1 / x FROM s4)) TO STDOUT",
                                            lambda rs: False), "22012")
        # a cancel ends it and leaves the connection usable
        def follow_until_canceled():
            with sub.cursor() as cur:
                with cur.copy("COPY (SUBSCRIBE s4) TO STDOUT") as cp:
                    for _ in cp.rows():
                        pass

        threading.Timer(0.5, sub.cancel).start()
        expect_error(follow_until_canceled, "57014")
        check(rows_of(sub, "SELECT count(*) FROM s4") == [(2,)], "connection unusable after cancel")
        expect_error(lambda: sub.execute("SUBSCRIBE nosuch"), "42P01")
        expect_error(lambda: sub.execute("SUBSCRIBE s4 AS OF 1"), "22023")
        expect_error(lambda: sub.execute("SUBSCRIBE s4 WITH (bogus = true)"), "42601")


class RawSubscriber:
    """A wire-protocol client with a small receive buffer that starts a
    SUBSCRIBE and then does not read: the slow client the backlog bound
    is for (libpq would let the kernel buffer megabytes for it)."""

    def __init__(self, port, sql):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        params = b"user\0ripple\0database\0ripple\0\0"
        self.sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        self.buf = b""
        self.wait_for(b"Z")
        q = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", 4 + len(q)) + q)
        self.wait_for(b"H")

    def message(self):
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!i", self.buf[1:5])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise CheckFailed("the server closed the connection")
            self.buf += chunk
        n = struct.unpack("!i", self.buf[1:5])[0]
        tag, body, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return tag, body

    def wait_for(self, want):
        while True:
            tag, body = self.message()
            if tag == want:
                return body
            if tag == b"E":
                raise CheckFailed(f"error instead of {want!r}: {body!r}")

    def drain_to_error(self):
        """Reads everything; returns (data rows seen, SQLSTATE of the error)."""
        rows = 0
        while True:
            tag, body = self.message()
            if tag == b"d":
                rows += 1
            elif tag == b"E":
                fields = dict((f[:1], f[1:]) for f in body.split(b"\0") if f)
                return rows, fields.get(b"C", b"").decode()
            elif tag in (b"c", b"C", b"Z"):
                return rows, None


def c_slow_subscriber_is_cut_off(ctx):
    """With --subscribe-backlog 20000, a subscriber that stops reading is
    ended with 53000, while writers and a subscriber that reads go on (its
    backlog stays far below the bound, even with this process's threads
    sharing one interpreter)."""
    rows_total = 50_000  # of 1 kB each: far more than the socket buffers hold
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS s5 CASCADE")
        w.execute("CREATE TABLE s5 (x int, pad text)")
    fast = ctx.connect()
    fast_seen = []
    fast_done = threading.Event()

    def follow():
        try:
            subscribe_rows(fast, "COPY (SUBSCRIBE s5 WITH (SNAPSHOT = false)) TO STDOUT",
                           lambda rs: (fast_seen.append(1) or len(fast_seen) >= rows_total),
                           timeout=120)
        finally:
            fast_done.set()

    threading.Thread(target=follow).start()
    slow = RawSubscriber(ctx.server.port, "COPY (SUBSCRIBE s5 WITH (SNAPSHOT = false)) TO STDOUT")
    time.sleep(0.3)
    t0 = time.monotonic()
    with ctx.connect() as w:
        for i in range(rows_total // 200):
            w.execute("INSERT INTO s5 SELECT g, repeat('x', 1000) FROM generate_series(1, 200) g")
    took = time.monotonic() - t0
    check(took < 60, f"writers were held up: the inserts took {took:.1f} s")
    check(fast_done.wait(120) and len(fast_seen) >= rows_total,
          f"the reading subscriber saw {len(fast_seen)} of {rows_total} rows")
    rows, state = slow.drain_to_error()
    check(state == "53000", f"the slow subscriber got {rows} rows and then {state}, not 53000")
    check(rows < rows_total, f"the slow subscriber got all {rows} rows")


def c_temporal_filter_drops_and_admits_rows_on_time(ctx):
    """A view keeping rows for 3 s after their time, and one holding rows
    back until their time: a subscription sees each change at exactly the
    millisecond its bound names (the retraction is scheduled in the
    dataflow), and reads see it within a tick of the clock."""
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS ev CASCADE")
        w.execute("CREATE TABLE ev (id int, at timestamptz)")
        w.execute("CREATE MATERIALIZED VIEW fresh AS"
                  " SELECT id, at FROM ev WHERE at + INTERVAL '3 seconds' > now()")
        w.execute("CREATE MATERIALIZED VIEW due AS SELECT id, at FROM ev WHERE at <= now()")
        w.execute("INSERT INTO ev VALUES (1, now()), (2, now() + INTERVAL '2 seconds')")
        at1, at2 = [r[0] for r in w.execute("SELECT at FROM ev ORDER BY id").fetchall()]
        ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
        expire = ms(at1) + 3000
        check(rows_of(w, "SELECT id FROM due") == [(1,)], "a future row was not held back")

        # the subscription: row 1 leaves `fresh` at at1 + 3 s exactly
        sub = ctx.connect()
        rows = subscribe_rows(sub, "COPY (SUBSCRIBE (SELECT id FROM fresh WHERE id = 1)) TO STDOUT",
                              lambda rs: any(r[1] == "-1" for r in rs), timeout=20)
        gone = [int(r[0]) for r in rows if r[1] == "-1"]
        check(gone == [expire], f"retraction at {gone}, want {expire} (at + 3 s)")
        deadline = time.monotonic() + 10
        while rows_of(w, "SELECT count(*) FROM fresh WHERE id = 1") != [(0,)]:
            check(time.monotonic() < deadline, "row 1 still in the view 10 s after it expired")
            time.sleep(0.1)
        late = time.time() * 1000 - expire
        check(late < 3000, f"reads saw the row leave {late:.0f} ms late")
        # row 2 entered `due` at its time
        rows = subscribe_rows(sub, "COPY (SUBSCRIBE (SELECT id FROM due WHERE id = 2)) TO STDOUT",
                              lambda rs: len(rs) >= 1, timeout=20)
        check(int(rows[0][0]) >= ms(at2), f"row 2 entered at {rows[0][0]}, before {ms(at2)}")


def c_temporal_views_are_not_served_stale_after_a_restart(ctx):
    """A checkpointed view with a temporal filter is recomputed after a
    restart, not served from its checkpointed rows (which the clock has
    since changed): its row leaves on time with no write to the table."""
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS ttl CASCADE")
        w.execute("CREATE TABLE ttl (id int, at timestamptz)")
        w.execute("CREATE MATERIALIZED VIEW live AS"
                  " SELECT id FROM ttl WHERE at + INTERVAL '3 seconds' > now()")
        w.execute("INSERT INTO ttl VALUES (1, now())")
        check(rows_of(w, "SELECT id FROM live") == [(1,)], "the row is not live")
        w.execute("CHECKPOINT")
    ctx.server.stop(signal.SIGKILL)
    ctx.server.start()
    deadline = time.monotonic() + 15
    with ctx.connect() as r:
        while rows_of(r, "SELECT count(*) FROM live") != [(0,)]:
            check(time.monotonic() < deadline, "the expired row is still served after the restart")
            time.sleep(0.2)
        source = rows_of(r, "SELECT source FROM ripple_catalog.recovery WHERE name = 'live'")
        check(source and source[0][0] != "snapshot", f"the view came back as {source}")


def c_a_shorter_tick_moves_time_sooner(ctx):
    """`--tick-interval-ms 50`: with no writes, an idle subscription gets
    progress about every 50 ms (ten take a second at most, against ten
    seconds with the default 1 s tick), and a temporal filter's row leaves
    reads within a fraction of a second of its bound. Out-of-range values
    are refused at start-up."""
    bad = subprocess.run([ctx.server.binary, "--tick-interval-ms", "5", "--data-dir",
                          os.path.join(ctx.server.tmp, "never")],
                         capture_output=True, text=True, timeout=30)
    check(bad.returncode != 0 and "tick-interval-ms" in bad.stderr,
          f"--tick-interval-ms 5 was accepted: {bad.returncode} {bad.stderr[-300:]}")
    with Server(ctx.server.binary, 1, prefix="ripple-tick-",
                extra_args=["--tick-interval-ms", "50", "--http-listen", "off"]) as fast:
        fctx = Ctx(fast, ctx.pg)
        with fctx.connect() as w:
            w.execute("CREATE TABLE quiet (id int, at timestamptz)")
            w.execute("CREATE MATERIALIZED VIEW recent AS"
                      " SELECT id FROM quiet WHERE at + INTERVAL '1 second' > now()")
            w.execute("INSERT INTO quiet VALUES (1, now())")
            at = w.execute("SELECT at FROM quiet").fetchone()[0]
            started = time.monotonic()
            rows = subscribe_rows(fctx.connect(),
                                  "COPY (SUBSCRIBE quiet WITH (SNAPSHOT = false, PROGRESS))"
                                  " TO STDOUT", lambda rs: len(rs) >= 10, timeout=20)
            took = time.monotonic() - started
            check(all(r[1] == "t" for r in rows) and took < 3,
                  f"10 progress rows took {took:.2f} s: {rows}")
            stamps = [int(r[0]) for r in rows]
            check(stamps == sorted(set(stamps)), f"progress not strictly increasing: {stamps}")
            while rows_of(w, "SELECT count(*) FROM recent") != [(0,)]:
                time.sleep(0.01)
            late = time.time() - (at.timestamp() + 1)
            check(late < 0.4, f"the row left reads {late * 1000:.0f} ms after its bound")


def c_retained_history_lets_a_subscriber_resume(ctx):
    """`--retain-history-ms`: a subscriber that saw progress up to T and
    went away resumes with `AS OF T WITH (SNAPSHOT = false)` and gets
    exactly the changes after T (or, with the snapshot, the contents at T
    first); the default keeps no history, so a past AS OF is refused."""
    with Server(ctx.server.binary, 2, prefix="ripple-history-",
                extra_args=["--retain-history-ms", "600000", "--http-listen", "off"]) as keep:
        kctx = Ctx(keep, ctx.pg)
        with kctx.connect() as w:
            w.execute("CREATE TABLE h (id int)")
            w.execute("CREATE MATERIALIZED VIEW hv AS SELECT id, id * 10 AS x FROM h")
            w.execute("INSERT INTO h VALUES (1)")
            rows = subscribe_rows(kctx.connect(), "COPY (SUBSCRIBE hv) TO STDOUT",
                                  lambda rs: len(rs) >= 1)
            seen = int(rows[0][0])  # the snapshot's time
            time.sleep(1.5)  # ticks pass: without retention this time is compacted
            w.execute("INSERT INTO h VALUES (2)")
            w.execute("DELETE FROM h WHERE id = 1")
            rows = subscribe_rows(
                kctx.connect(),
                f"COPY (SUBSCRIBE hv WITH (SNAPSHOT = false) AS OF {seen}) TO STDOUT",
                lambda rs: len(rs) >= 2)
            changes = [(r[1], r[2], r[3]) for r in rows]
            check(changes == [("1", "2", "20"), ("-1", "1", "10")],
                  f"resumed after {seen}: {rows}")
            check(all(int(r[0]) > seen for r in rows), f"a change at or before {seen}: {rows}")
            rows = subscribe_rows(kctx.connect(), f"COPY (SUBSCRIBE hv AS OF {seen}) TO STDOUT",
                                  lambda rs: len(rs) >= 3)
            check(rows[0] == (str(seen), "1", "1", "10") and len(rows) == 3,
                  f"with the snapshot at {seen}: {rows}")
    with ctx.connect() as w:
        w.execute("DROP TABLE IF EXISTS h0")
        w.execute("CREATE TABLE h0 (id int)")
        rows = subscribe_rows(ctx.connect(), "COPY (SUBSCRIBE h0 WITH (PROGRESS)) TO STDOUT",
                              lambda rs: len(rs) >= 1)
        old = int(rows[0][0])
        time.sleep(1.5)
        expect_error(lambda: w.execute(f"SUBSCRIBE h0 AS OF {old}"), "22023")


CHECKS = [
    c_copy_in_text,
    c_copy_in_csv,
    c_copy_bad_rows_apply_nothing,
    c_copy_out_matches_postgres,
    c_copy_feeds_a_view_and_respects_blocks,
    c_subscribe_snapshot_then_changes,
    c_subscribe_sees_exactly_a_concurrent_writer,
    c_subscribe_cursor_fetch,
    c_subscribe_ends_cleanly,
    c_slow_subscriber_is_cut_off,
    c_temporal_filter_drops_and_admits_rows_on_time,
    c_temporal_views_are_not_served_stale_after_a_restart,
    c_a_shorter_tick_moves_time_sooner,
    c_retained_history_lets_a_subscriber_resume,
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pg-port", type=int, default=PG_PORT)
    p.add_argument("--only", help="run only checks whose name contains this")
    args = p.parse_args()
    admin = psycopg.connect(host=PG_HOST, port=args.pg_port, user=PG_USER, dbname="postgres",
                            autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    admin.execute(f"CREATE DATABASE {PG_DB}")
    pg = psycopg.connect(host=PG_HOST, port=args.pg_port, user=PG_USER, dbname=PG_DB,
                         autocommit=True)
    server = Server(args.ripple_bin, args.workers, prefix="ripple-streams-",
                    extra_args=["--subscribe-backlog", "20000"])
    checks = Checks(f"test_streams (workers={args.workers})", server)
    try:
        server.start()
        checks.run(CHECKS, Ctx(server, pg), only=args.only)
    finally:
        server.stop()
        pg.close()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
