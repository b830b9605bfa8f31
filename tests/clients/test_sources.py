#!/usr/bin/env python3
"""Sources against a real `ripple`: the COUNTER and AUCTION load generators,
a file source following a CSV and a JSON-lines file as they grow, views over
them, DROP SOURCE, and restarts (SIGKILL included) that neither repeat nor
lose what a source had written.

Usage:
  python3 tests/clients/test_sources.py --ripple-bin target/debug/ripple [--workers N]
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ripple_server import CheckFailed, Checks, Server, check  # noqa: E402


class Ctx:
    def __init__(self, server):
        self.server = server
        self.tmp = tempfile.mkdtemp(prefix="ripple-sources-files-")

    def connect(self):
        return psycopg.connect(host="127.0.0.1", port=self.server.port, user="ripple",
                               dbname="ripple", autocommit=True)

    def restart(self, sig=signal.SIGKILL):
        self.server.stop(sig)
        self.server.start()


def one(conn, sql):
    return conn.execute(sql).fetchone()


def wait_for(conn, sql, ok, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        row = one(conn, sql)
        if ok(row):
            return row
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: still {row} after {timeout} s")
        time.sleep(0.1)


def expect_error(fn, sqlstate):
    try:
        fn()
    except psycopg.Error as e:
        check(e.sqlstate == sqlstate, f"expected SQLSTATE {sqlstate}, got {e.sqlstate}: {e}")
        return
    raise CheckFailed(f"expected an error with SQLSTATE {sqlstate}")


def counter_consistent(c, name):
    """count = max = distinct: every value once, none missing."""
    n, mx, distinct = one(c, f"SELECT count(*), coalesce(max(counter), 0),"
                             f" count(DISTINCT counter) FROM {name}")
    check(n == mx == distinct, f"{name}: {n} rows, max {mx}, {distinct} distinct")
    return n


def c_counter_ticks_and_feeds_a_view(ctx):
    with ctx.connect() as c:
        c.execute("CREATE SOURCE ticker FROM LOAD GENERATOR COUNTER (TICK INTERVAL '100ms')")
        c.execute("CREATE MATERIALIZED VIEW ticked AS SELECT count(*) AS n, max(counter) AS top"
                  " FROM ticker")
        wait_for(c, "SELECT n FROM ticked", lambda r: r and r[0] >= 5, "counter rows")
        counter_consistent(c, "ticker")
        n, top = one(c, "SELECT n, top FROM ticked")
        check(n == top, f"view says {n} rows up to {top}")
        row = one(c, "SELECT connector, status, rows >= 5, position = rows, error IS NULL,"
                     " written_at > now() - INTERVAL '1 minute'"
                     " FROM ripple_catalog.source_status WHERE name = 'ticker'")
        check(row == ("counter", "running", True, True, True, True), f"ticker's status: {row}")
        check(one(c, "SHOW SOURCES") is not None, "SHOW SOURCES lists nothing")
        names = [r[0] for r in c.execute("SHOW SOURCES").fetchall()]
        check("ticker" in names, f"SHOW SOURCES: {names}")
        expect_error(lambda: c.execute("INSERT INTO ticker VALUES (1)"), "42809")
        expect_error(lambda: c.execute("DROP TABLE ticker"), "42809")
        expect_error(lambda: c.execute("CREATE SOURCE ticker FROM LOAD GENERATOR COUNTER"), "42P07")
        c.execute("CREATE SOURCE IF NOT EXISTS ticker FROM LOAD GENERATOR COUNTER")


def c_auction_generator_keeps_nexmark_proportions(ctx):
    with ctx.connect() as c:
        c.execute("CREATE SOURCE house FROM LOAD GENERATOR AUCTION (TICK INTERVAL '50ms')"
                  " FOR ALL TABLES")
        c.execute("CREATE MATERIALIZED VIEW hot AS SELECT a.category, count(*) AS bids,"
                  " max(b.price) AS top FROM bids b JOIN auctions a ON b.auction = a.id"
                  " GROUP BY a.category")
        wait_for(c, "SELECT ticks FROM house", lambda r: r and r[0] >= 10, "auction ticks")
        # one consistent read: every count matches the tick count
        ticks, persons, auctions, bids = one(
            c, "SELECT (SELECT ticks FROM house), (SELECT count(*) FROM persons),"
               " (SELECT count(*) FROM auctions), (SELECT count(*) FROM bids)")
        check((persons, auctions, bids) == (ticks, 3 * ticks, 46 * ticks),
              f"{ticks} ticks gave {persons} persons, {auctions} auctions, {bids} bids")
        check(one(c, "SELECT count(*) FROM house") == (1,), "the progress relation has one row")
        with c.cursor() as cur:  # a source (and a subsource) copies out like a table
            for name in ["house", "persons"]:
                with cur.copy(f"COPY {name} TO STDOUT") as cp:
                    lines = b"".join(bytes(b) for b in cp).decode().splitlines()
                check(len(lines) >= 1 and all(line.split("\t")[0].isdigit() for line in lines),
                      f"COPY {name} TO STDOUT: {lines[:3]}")
        # the generator keeps ticking: the view and the ad hoc join are read in one
        # statement, so at one timestamp (two statements may straddle a tick)
        for _ in range(5):
            total, joined = one(
                c, "SELECT (SELECT sum(bids) FROM hot),"
                   " (SELECT count(*) FROM bids b JOIN auctions a ON b.auction = a.id)")
            check(total == joined, f"view {total} vs query {joined}")
            time.sleep(0.03)
        expect_error(lambda: c.execute("DROP SOURCE house"), "2BP01")
        c.execute("DROP SOURCE house CASCADE")
        check(one(c, "SELECT count(*) FROM ripple_catalog.source_status WHERE name = 'house'")
              == (0,), "a dropped source keeps its status row")
        expect_error(lambda: c.execute("SELECT 1 FROM bids"), "42P01")
        expect_error(lambda: c.execute("SELECT 1 FROM hot"), "42P01")


def c_file_sources_follow_growing_files(ctx):
    csv_path = os.path.join(ctx.tmp, "events.csv")
    json_path = os.path.join(ctx.tmp, "events.jsonl")
    with open(csv_path, "w") as f:
        f.write("id,kind,amount\n1,buy,10.5\n2,sell,3\n")
    with ctx.connect() as c:
        c.execute(f"CREATE SOURCE csv_events (id int NOT NULL, kind text, amount numeric)"
                  f" FROM FILE '{csv_path}' (FORMAT CSV, HEADER, TICK INTERVAL '100ms')")
        c.execute(f"CREATE SOURCE json_events (id int, tags jsonb, at timestamptz)"
                  f" FROM FILE '{json_path}' WITH (FORMAT JSON, TICK INTERVAL '100ms')")
        c.execute("CREATE MATERIALIZED VIEW by_kind AS SELECT kind, count(*) AS n, sum(amount) AS s"
                  " FROM csv_events GROUP BY kind")
        wait_for(c, "SELECT count(*) FROM csv_events", lambda r: r[0] == 2, "first CSV lines")
        with open(csv_path, "a") as f:
            f.write("3,buy,1.5\nnot-a-number,buy,1\n4,sell")  # a bad line, then a partial one
        wait_for(c, "SELECT count(*) FROM csv_events", lambda r: r[0] == 3, "appended CSV lines")
        time.sleep(0.3)
        check(one(c, "SELECT count(*) FROM csv_events") == (3,), "a partial line was read")
        with open(csv_path, "a") as f:
            f.write(",2\n")
        wait_for(c, "SELECT count(*) FROM csv_events", lambda r: r[0] == 4, "completed line")
        # the skipped line shows in the source's status, and the position is the
        # end of the last complete line
        status, position, rows, skipped, error = one(
            c, "SELECT status, position, rows, skipped, error FROM ripple_catalog.source_status"
               " WHERE name = 'csv_events'")
        check((status, position, rows, skipped) == ("running", os.path.getsize(csv_path), 4, 1)
              and "not-a-number" in (error or ""),
              f"csv_events status: {status}, {position}, {rows} rows, {skipped} skipped, {error}")
        # the JSON file does not exist yet: that source is stalled, and says why
        row = wait_for(c, "SELECT status, error FROM ripple_catalog.source_status"
                          " WHERE name = 'json_events'", lambda r: r and r[0] == "stalled",
                       "json_events stalled")
        check("No such file" in (row[1] or ""), f"json_events stalled because: {row[1]}")
        got = c.execute("SELECT kind, n, s FROM by_kind ORDER BY kind").fetchall()
        check([(k, n, float(s)) for k, n, s in got] == [("buy", 2, 12.0), ("sell", 2, 5.0)],
              f"view over the CSV source: {got}")
        # the JSON file appears after the source was created
        with open(json_path, "w") as f:
            f.write(json.dumps({"id": 1, "tags": ["a", "b"], "at": "2024-01-01 00:00:00+00"}) + "\n")
            f.write(json.dumps({"id": "oops"}) + "\n")
            f.write(json.dumps({"id": 2}) + "\n")
        wait_for(c, "SELECT count(*) FROM json_events", lambda r: r[0] == 2, "JSON lines")
        row = one(c, "SELECT status, rows, skipped, connector FROM ripple_catalog.source_status"
                     " WHERE name = 'json_events'")
        check(row == ("running", 2, 1, "file (json)"), f"json_events status: {row}")
        tags = one(c, "SELECT tags FROM json_events WHERE id = 1")[0]
        check(tags == ["a", "b"], f"jsonb column: {tags!r}")
    # after SIGKILL, nothing is read twice, and new lines still arrive
    ctx.restart()
    with ctx.connect() as c:
        time.sleep(0.5)
        check(one(c, "SELECT count(*) FROM csv_events") == (4,), "CSV rows repeated or lost")
        check(one(c, "SELECT count(*) FROM json_events") == (2,), "JSON rows repeated or lost")
        with open(csv_path, "a") as f:
            f.write('5,sell,1\n6,"two\nlines",2\n7,"open\n')
        wait_for(c, "SELECT count(*) FROM csv_events", lambda r: r[0] == 6, "lines after restart")
        kind = one(c, "SELECT kind FROM csv_events WHERE id = 6")[0]
        check(kind == "two\nlines", f"a quoted CSV field spanning lines: {kind!r}")
        time.sleep(0.3)
        check(one(c, "SELECT count(*) FROM csv_events") == (6,), "a record still open was read")
        with open(csv_path, "a") as f:
            f.write('quote",0\n')
        wait_for(c, "SELECT count(*) FROM csv_events WHERE kind = 'open\nquote'",
                 lambda r: r[0] == 1, "the record completed")
        wait_for(c, "SELECT n FROM by_kind WHERE kind = 'sell'", lambda r: r and r[0] == 3,
                 "the view after restart")
        expect_error(lambda: c.execute("CREATE SOURCE rel (a int) FROM FILE 'relative.csv'"), "22023")
        expect_error(lambda: c.execute(f"CREATE SOURCE nocols FROM FILE '{csv_path}'"), "42601")


def c_generators_survive_restarts_without_repeats(ctx):
    with ctx.connect() as c:
        c.execute("CREATE SOURCE survivor FROM LOAD GENERATOR COUNTER (TICK INTERVAL '20ms')")
        wait_for(c, "SELECT count(*) FROM survivor", lambda r: r[0] >= 10, "counter rows")
    before = 0
    for sig, checkpoint in [(signal.SIGKILL, False), (signal.SIGKILL, True), (signal.SIGTERM, False)]:
        if checkpoint:
            with ctx.connect() as c:
                c.execute("CHECKPOINT")
        ctx.restart(sig)
        with ctx.connect() as c:
            n = counter_consistent(c, "survivor")
            check(n >= before, f"rows went from {before} to {n} over a restart")
            wait_for(c, "SELECT count(*) FROM survivor", lambda r, n=n: r[0] > n + 5,
                     "the counter after restart")
            before = counter_consistent(c, "survivor")
    with ctx.connect() as c:
        c.execute("DROP SOURCE survivor")
        expect_error(lambda: c.execute("SELECT 1 FROM survivor"), "42P01")


CHECKS = [
    c_counter_ticks_and_feeds_a_view,
    c_auction_generator_keeps_nexmark_proportions,
    c_file_sources_follow_growing_files,
    c_generators_survive_restarts_without_repeats,
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--only", help="run only checks whose name contains this")
    args = p.parse_args()
    server = Server(args.ripple_bin, args.workers, prefix="ripple-sources-")
    checks = Checks(f"test_sources (workers={args.workers})", server)
    try:
        server.start()
        checks.run(CHECKS, Ctx(server), only=args.only)
    finally:
        server.stop()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
