#!/usr/bin/env python3
"""Client test: the psql binary (15) against a real `ripple`.

psql answers its meta-commands (\\d, \\dt, \\dm, \\d+ NAME, \\l, \\du, …) with
queries over pg_catalog whose shape depends on the server version Ripple
reports; tab completion queries pg_class, pg_namespace, pg_attribute and
pg_settings. Each check runs psql as a user would (`psql -X -c …`) and
requires it to succeed and to show Ripple's objects: tables, views,
materialized views (under \\dm) and indexes, with their columns and types.
It also checks \\x, \\timing, \\copy-free output formats and Ctrl-C's
CancelRequest (a second psql process sends it with SIGINT).

Usage:
  python3 tests/clients/test_psql.py --ripple-bin target/debug/ripple [--workers N]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_psycopg import CheckFailed, Server, check  # noqa: E402

SETUP = [
    "CREATE TABLE orders (id bigint, customer varchar(20) DEFAULT 'anon',"
    " amount numeric(10,2), at timestamp, tags text[])",
    "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100",
    "CREATE MATERIALIZED VIEW spend AS SELECT customer, sum(amount) AS total"
    " FROM orders GROUP BY customer",
    "CREATE INDEX orders_id ON orders (id)",
    "INSERT INTO orders VALUES (1, 'ann', 150, '2024-01-01 10:00', '{a}'),"
    " (2, 'bob', 20, '2024-01-02 11:00', NULL)",
]

# meta-command -> substrings its output must contain
META = [
    ("\\d", ["orders", "big_orders", "spend", "table", "view", "materialized view", "ripple"]),
    ("\\dt", ["orders", "table"]),
    ("\\dv", ["big_orders", "view"]),
    ("\\dm", ["spend", "materialized view"]),
    ("\\di", ["orders_id", "index", "orders"]),
    ("\\dn", ["public"]),
    ("\\l", ["ripple", "UTF8"]),
    ("\\du", ["ripple", "Superuser"]),
    ("\\df", ["List of functions"]),
    ("\\dx", ["List of installed extensions"]),
    ("\\dt+", ["orders", "permanent", "heap"]),
    ("\\d orders", ['Table "public.orders"', "id", "bigint", "character varying(20)",
                    "numeric(10,2)", "timestamp without time zone", "text[]", "'anon'",
                    "Indexes:", '"orders_id" btree (id)']),
    ("\\d+ orders", ['Table "public.orders"', "Storage", "Access method: heap"]),
    ("\\d big_orders", ['View "public.big_orders"', "amount", "numeric(10,2)"]),
    ("\\d+ big_orders", ["View definition:", "amount > 100"]),
    ("\\d spend", ['Materialized view "public.spend"', "customer", "total"]),
    ("\\d+ spend", ["View definition:", "GROUP BY customer"]),
    ("\\d orders_id", ['Index "public.orders_id"', "btree, for table \"public.orders\""]),
    ("\\dt public.*", ["orders"]),
    ("\\d pg_catalog.pg_class", ['Table "pg_catalog.pg_class"', "relname"]),
    ("\\dS pg_class", ["pg_class"]),
]

# the queries psql 15 sends for tab completion (captured from a real session)
COMPLETION = [
    ("SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN"
     " ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'o%' AND"
     " pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM"
     " pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')\nUNION ALL\nSELECT"
     " NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname"
     " LIKE 'o%' AND n.nspname NOT LIKE E'pg\\\\_%'\nLIMIT 1000", "orders"),
    ("SELECT a.attname, NULL::pg_catalog.text FROM pg_catalog.pg_attribute a,"
     " pg_catalog.pg_class c WHERE c.oid = a.attrelid and a.attnum > 0 and not"
     " a.attisdropped AND (a.attname) LIKE 'cu%' AND c.relname = 'orders' AND"
     " pg_catalog.pg_table_is_visible(c.oid)\nLIMIT 1000", "customer"),
    ("SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings  WHERE context IN ('user',"
     " 'superuser')    AND pg_catalog.lower(name) LIKE pg_catalog.lower('app%')\nLIMIT 1000",
     "application_name"),
]


def psql(port, *args, stdin=None, timeout=30):
    """Runs psql against the server; returns (exit status, stdout + stderr)."""
    cmd = ["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "ripple",
           "-d", "ripple", "-v", "ON_ERROR_STOP=1", *args]
    env = dict(os.environ, PGCONNECT_TIMEOUT="5", PAGER="", PSQL_PAGER="")
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                       env=env)
    return r.returncode, r.stdout + r.stderr


def run(server):
    port = server.port
    for stmt in SETUP:
        status, out = psql(port, "-c", stmt)
        check(status == 0, f"setup {stmt!r} failed:\n{out}")

    for cmd, expected in META:
        status, out = psql(port, "-c", cmd)
        check(status == 0 and "ERROR" not in out, f"{cmd} failed:\n{out}")
        for e in expected:
            check(e in out, f"{cmd}: expected {e!r} in:\n{out}")
        print(f"ok  psql {cmd}")

    for sql, expected in COMPLETION:
        status, out = psql(port, "-At", "-c", sql)
        check(status == 0 and expected in out, f"tab completion query failed:\n{sql}\n{out}")
    print("ok  tab completion queries")

    status, out = psql(port, "-c", "\\x on", "-c", "SELECT id, customer FROM orders WHERE id = 1")
    check(status == 0 and "-[ RECORD 1 ]" in out and "customer | ann" in out,
          f"\\x expanded output:\n{out}")
    status, out = psql(port, "-c", "\\timing on", "-c", "SELECT count(*) FROM spend")
    check(status == 0 and "Time:" in out, f"\\timing:\n{out}")
    print("ok  \\x and \\timing")

    # a materialized view follows writes, as seen from psql
    status, out = psql(port, "-At", "-c", "INSERT INTO orders VALUES (3, 'ann', 5, now(), NULL)",
                       "-c", "SELECT total FROM spend WHERE customer = 'ann'")
    check(status == 0 and out.strip().endswith("155.00"), f"view after insert:\n{out}")
    print("ok  materialized view follows writes")

    # \copy in and out through COPY FROM STDIN / TO STDOUT, and a bad line
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("x,y\n1,one\n2,\"t,wo\"\n")
        path = f.name
    status, out = psql(port, "-c", "CREATE TABLE copied (x int, y text)",
                       "-c", f"\\copy copied FROM '{path}' WITH (FORMAT csv, HEADER)",
                       "-c", "\\copy (SELECT * FROM copied ORDER BY x) TO STDOUT WITH (FORMAT csv)")
    check(status == 0 and "COPY 2" in out and '2,"t,wo"' in out, f"\\copy:\n{out}")
    status, out = psql(port, "-c", "\\copy copied FROM STDIN", stdin="3\tthree\nfour\t4\n\\.\n")
    check(status != 0 and 'COPY copied, line 2, column x: "four"' in out, f"\\copy bad line:\n{out}")
    os.unlink(path)
    print("ok  \\copy in and out, and a bad line with its line number")

    # Ctrl-C: psql sends a CancelRequest on a new connection; the query
    # fails with 57014 and psql keeps the session
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    proc = subprocess.Popen(
        ["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "ripple", "-d", "ripple",
         "-c", "SELECT count(*) FROM generate_series(1, 4000) AS a, generate_series(1, 4000) AS b"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    # Ctrl-C once the query runs (a cancel that comes before it does
    # nothing, in PostgreSQL too)
    watcher = server.connect()
    cur = watcher.cursor()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                    " AND query LIKE '%generate_series(1, 4000) AS b%'"
                    " AND pid <> pg_backend_pid()")
        if cur.fetchone()[0] == 1:
            break
        time.sleep(0.1)
    watcher.close()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise CheckFailed("psql did not return within 20 s of Ctrl-C")
    check("canceling statement due to user request" in out, f"Ctrl-C:\n{out}")
    # and the server stops computing it: its dataflow is dropped within a tick
    deadline = time.monotonic() + 10
    while "dropped the dataflows of abandoned reads" not in server.log_tail() \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    check("dropped the dataflows of abandoned reads" in server.log_tail(),
          "the cancelled read's dataflow was not dropped")
    print("ok  Ctrl-C cancels a running query (57014) and drops its dataflow")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ripple-bin", required=True)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    if shutil.which("psql") is None:
        print("psql is not installed (tests/install-deps.sh installs it)")
        return 1
    with tempfile.TemporaryDirectory(prefix="ripple-psql-") as tmp:
        server = Server(os.path.abspath(args.ripple_bin), args.workers,
                        os.path.join(tmp, "data"), os.path.join(tmp, "server.log"))
        server.start()
        try:
            run(server)
        except CheckFailed as e:
            print(f"FAIL {e}\n{server.log_tail()}")
            return 1
        finally:
            server.stop()
    print("psql: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
