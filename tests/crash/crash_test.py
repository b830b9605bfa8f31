#!/usr/bin/env python3
"""Crash test: concurrent writers, SIGKILL at random moments, restart, check.

Each round starts the real `ripple` binary on the same data directory, runs
concurrent clients for a random while, and kills the server with SIGKILL:

  * writers insert rows with unique ids, update and delete some of their
    own rows;
  * a DDL client creates tables, one per step, and now and then asks for a
    CHECKPOINT (the server also checkpoints on its own every 64 KiB of log,
    so kills land before, during and after checkpoints);
  * every statement whose reply arrived is "acknowledged"; the one in flight
    when the server died may or may not have happened.

After each restart it checks that every acknowledged insert is there with
its last acknowledged value and every acknowledged delete gone, that no row
exists that no client ever sent, that acknowledged tables exist, and that
each materialized view equals the same query computed ad hoc.

Every third round also takes a CHECKPOINT with the writers stopped, kills
the server right after it, and checks that the views come back from their
checkpointed snapshots (ripple_catalog.recovery) with the right contents,
and follow a write made right after the restart.

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
    """Inserts, updates and deletes its own rows until the server goes away."""

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
            roll = self.rng.random()
            if live and roll < 0.2:
                victim = self.rng.choice(live)
                self.state["maybe_deleted"] = victim
                try:
                    cur.execute("DELETE FROM t WHERE id = %s", (victim,))
                except psycopg2.Error:
                    return
                del self.state["present"][victim]
                self.state["maybe_deleted"] = None
            elif live and roll < 0.4:
                victim, v = self.rng.choice(live), self.rng.randrange(1000)
                self.state["maybe_updated"] = (victim, v)
                try:
                    cur.execute("UPDATE t SET v = %s WHERE id = %s", (v, victim))
                except psycopg2.Error:
                    return
                self.state["present"][victim] = v
                self.state["maybe_updated"] = None
            else:
                i, v = self.next_id, self.rng.randrange(1000)
                self.next_id += WRITERS
                self.state["maybe_inserted"] = (i, v)
                try:
                    cur.execute("INSERT INTO t VALUES (%s, %s, %s)", (i, self.writer, v))
                except psycopg2.Error:
                    return
                self.state["present"][i] = v
                self.state["sent"].add(i)
                self.state["maybe_inserted"] = None


class Ddl(threading.Thread):
    """Creates one table per step (and now and then asks for a CHECKPOINT)
    until the server goes away."""

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
            if n % 7 == 3:
                try:
                    cur.execute("CHECKPOINT")
                except psycopg2.Error:
                    return
            time.sleep(0.05)


def verify(port, writers, ddl):
    conn = connect(port)
    cur = conn.cursor()
    cur.execute("SELECT id, writer, v FROM t")
    rows = cur.fetchall()
    ids = [r[0] for r in rows]
    check(len(ids) == len(set(ids)), "a row appears twice")
    got = set(ids)
    lost, wrong = [], []
    for w, st in enumerate(writers):
        mine = {i: v for i, wr, v in rows if wr == w}
        # the statement in flight may have happened: it counts either way
        if st["maybe_inserted"] is not None and st["maybe_inserted"][0] in mine:
            i, v = st["maybe_inserted"]
            st["present"][i] = v
            st["sent"].add(i)
        if st["maybe_deleted"] is not None and st["maybe_deleted"] not in mine:
            st["present"].pop(st["maybe_deleted"], None)
        if st["maybe_updated"] is not None:
            i, v = st["maybe_updated"]
            if i in st["present"] and mine.get(i) == v:
                st["present"][i] = v
        st["maybe_inserted"] = st["maybe_deleted"] = st["maybe_updated"] = None
        lost += sorted(set(st["present"]) - set(mine))
        wrong += [(i, mine[i], v) for i, v in st["present"].items() if i in mine and mine[i] != v]
        extra = set(mine) - set(st["present"])
        check(not extra - st["sent"], f"writer {w}: rows nobody sent: {sorted(extra - st['sent'])}")
        check(not extra, f"writer {w}: acknowledged deletes came back: {sorted(extra)}")
    check(not wrong, f"rows whose last acknowledged update is lost (id, found, expected): {wrong[:10]}")
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


def restart_from_snapshots(server, writers, ddl, next_ids):
    """CHECKPOINT with no writer running, SIGKILL, restart: the views answer
    from their checkpointed contents, then follow a write."""
    conn = connect(server.port)
    conn.cursor().execute("CHECKPOINT")
    conn.close()
    server.stop(signal.SIGKILL)
    server.start()
    conn = connect(server.port)
    cur = conn.cursor()
    cur.execute("SELECT name, source FROM ripple_catalog.recovery WHERE kind = 'materialized view'")
    sources = dict(cur.fetchall())
    check(sources == {v: "snapshot" for v in VIEWS},
          f"views did not come back from snapshots: {sources}")
    verify(server.port, writers, ddl)
    i, v = next_ids[0], 999
    next_ids[0] += WRITERS
    cur.execute("INSERT INTO t VALUES (%s, 0, %s)", (i, v))
    writers[0]["present"][i] = v
    writers[0]["sent"].add(i)
    conn.close()
    verify(server.port, writers, ddl)


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
    server = Server(os.path.abspath(args.ripple_bin), args.workers, data, log,
                    extra_args=["--checkpoint-log-bytes", str(64 << 10)])
    writers = [{"present": {}, "sent": set(), "maybe_inserted": None, "maybe_deleted": None,
                "maybe_updated": None} for _ in range(WRITERS)]
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
            if rnd % 3 == 2:
                restart_from_snapshots(server, writers, ddl, next_ids)
                print(f"ok   round {rnd + 1}: CHECKPOINT then SIGKILL: views came back from "
                      f"their snapshots and follow new writes")
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
