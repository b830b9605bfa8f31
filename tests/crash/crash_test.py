#!/usr/bin/env python3
"""Crash test: concurrent writers, SIGKILL at random moments, restart, check.

Each round starts the real `ripple` binary on the same data directory, runs
concurrent clients for a random while, and kills the server with SIGKILL:

  * writers insert rows with unique ids, and delete some of their own rows;
  * a DDL client creates tables, one per step;
  * every statement whose reply arrived is "acknowledged"; the one in flight
    when the server died may or may not have happened.

After each restart it checks that every acknowledged insert is there and
every acknowledged delete gone, that no row exists that no client ever
sent, that acknowledged tables exist, and that each materialized view
equals the same query computed ad hoc.

Usage:
  python3 tests/crash/crash_test.py --ripple-bin target/debug/ripple [--rounds 6] [--seed 1]
"""

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
from test_psycopg import CheckFailed, Server, check  # noqa: E402

WRITERS = 4
VIEWS = {
    "per_writer": "SELECT writer, count(*) AS n, sum(v) AS total FROM t GROUP BY writer",
    "big": "SELECT id, v FROM t WHERE v > 500",
    "overall": "SELECT count(*) AS n, coalesce(sum(v), 0) AS total FROM t",
}


def connect(port):
    c = psycopg2.connect(host="127.0.0.1", port=port, user="ripple", dbname="ripple",
                         connect_timeout=5)
    c.autocommit = True
    return c


class Writer(threading.Thread):
    """Inserts and deletes its own rows until the server goes away."""

    def __init__(self, port, writer, first_id, rng, state):
        super().__init__(daemon=True)
        self.port, self.writer, self.next_id, self.rng = port, writer, first_id, rng
        self.state = state  # shared per-writer record, kept across rounds

    def run(self):
        try:
            conn = connect(self.port)
            cur = conn.cursor()
        except psycopg2.Error:
            return
        while True:
            live = sorted(self.state["present"])
            if live and self.rng.random() < 0.25:
                victim = self.rng.choice(live)
                self.state["maybe_deleted"] = victim
                try:
                    cur.execute("DELETE FROM t WHERE id = %s", (victim,))
                except psycopg2.Error:
                    return
                self.state["present"].discard(victim)
                self.state["maybe_deleted"] = None
            else:
                i, v = self.next_id, self.rng.randrange(1000)
                self.next_id += WRITERS
                self.state["maybe_inserted"] = i
                try:
                    cur.execute("INSERT INTO t VALUES (%s, %s, %s)", (i, self.writer, v))
                except psycopg2.Error:
                    return
                self.state["present"].add(i)
                self.state["sent"].add(i)
                self.state["maybe_inserted"] = None


class Ddl(threading.Thread):
    """Creates one table per step until the server goes away."""

    def __init__(self, port, state):
        super().__init__(daemon=True)
        self.port, self.state = port, state

    def run(self):
        try:
            conn = connect(self.port)
            cur = conn.cursor()
        except psycopg2.Error:
            return
        while True:
            n = self.state["next"]
            self.state["maybe"] = n
            try:
                cur.execute(f"CREATE TABLE ddl_{n} (a int)")
            except psycopg2.Error:
                return
            self.state["acked"].add(n)
            self.state["next"] = n + 1
            self.state["maybe"] = None
            time.sleep(0.05)


def verify(port, writers, ddl):
    conn = connect(port)
    cur = conn.cursor()
    cur.execute("SELECT id, writer FROM t")
    rows = cur.fetchall()
    ids = [r[0] for r in rows]
    check(len(ids) == len(set(ids)), "a row appears twice")
    got = set(ids)
    lost = []
    for w, st in enumerate(writers):
        mine = {i for i, wr in rows if wr == w}
        # the insert in flight may have happened: it counts as sent either way
        if st["maybe_inserted"] is not None and st["maybe_inserted"] in mine:
            st["present"].add(st["maybe_inserted"])
            st["sent"].add(st["maybe_inserted"])
        if st["maybe_deleted"] is not None and st["maybe_deleted"] not in mine:
            st["present"].discard(st["maybe_deleted"])
        st["maybe_inserted"] = st["maybe_deleted"] = None
        lost += sorted(st["present"] - mine)
        extra = mine - st["present"]
        check(not extra - st["sent"], f"writer {w}: rows nobody sent: {sorted(extra - st['sent'])}")
        check(not extra, f"writer {w}: acknowledged deletes came back: {sorted(extra)}")
    check(not lost, f"acknowledged rows lost: {lost[:20]} ({len(lost)} in all)")
    cur.execute("SELECT relname FROM pg_class WHERE relname LIKE 'ddl\\_%'")
    tables = {int(r[0][4:]) for r in cur.fetchall()}
    if ddl["maybe"] is not None:
        if ddl["maybe"] in tables:
            ddl["acked"].add(ddl["maybe"])
            ddl["next"] = ddl["maybe"] + 1
        ddl["maybe"] = None
    check(ddl["acked"] <= tables, f"acknowledged tables lost: {sorted(ddl['acked'] - tables)}")
    check(tables <= ddl["acked"], f"tables nobody created: {sorted(tables - ddl['acked'])}")
    for name, sql in VIEWS.items():
        cur.execute(f"SELECT * FROM {name}")
        view = sorted(cur.fetchall())
        cur.execute(sql)
        adhoc = sorted(cur.fetchall())
        check(view == adhoc, f"view {name} differs from its query after restart:\n"
                             f"  view:   {view[:5]}…\n  ad hoc: {adhoc[:5]}…")
    conn.close()
    return len(got), len(tables)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ripple-bin", default="target/debug/ripple")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="ripple-crash-")
    data = os.path.join(tmp, "data")
    log = os.path.join(tmp, "ripple.log")
    server = Server(os.path.abspath(args.ripple_bin), args.workers, data, log)
    writers = [{"present": set(), "sent": set(), "maybe_inserted": None, "maybe_deleted": None}
               for _ in range(WRITERS)]
    ddl = {"acked": set(), "next": 0, "maybe": None}
    next_ids = list(range(WRITERS))
    try:
        server.start()
        conn = connect(server.port)
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id int NOT NULL, writer int NOT NULL, v int)")
        for name, sql in VIEWS.items():
            cur.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        conn.close()
        for rnd in range(args.rounds):
            threads = [Writer(server.port, w, next_ids[w], random.Random(rng.random()), writers[w])
                       for w in range(WRITERS)]
            threads.append(Ddl(server.port, ddl))
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.5, 2.5))
            server.stop(signal.SIGKILL)
            for t in threads:
                t.join(timeout=10)
                check(not t.is_alive(), "a client did not notice the server died")
            for w, t in enumerate(threads[:WRITERS]):
                next_ids[w] = t.next_id
            server.start()
            rows, tables = verify(server.port, writers, ddl)
            print(f"ok   round {rnd + 1}: {rows} rows and {tables} tables after SIGKILL, "
                  f"views equal their queries")
    except (CheckFailed, psycopg2.Error) as e:
        print(f"FAIL {e}\n{server.log_tail()}", file=sys.stderr)
        print(f"crash test: failed (seed {args.seed}); log in {tmp}", file=sys.stderr)
        return 1
    finally:
        server.stop(signal.SIGKILL)
    print(f"crash test: {args.rounds} rounds, no acknowledged write lost (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
