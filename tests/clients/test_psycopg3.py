#!/usr/bin/env python3
"""Client test: psycopg 3 (extended query protocol) against a real `ripple`,
with PostgreSQL as the oracle.

psycopg 3 sends every statement as Parse/Bind/Describe/Execute/Sync, with
parameters as $n (text, or binary int2/int4/int8/numeric), names statements
it runs often (`_pg3_N`), and reads binary results with `cursor(binary=True)`.
This test loads the same rows into Ripple and into PostgreSQL through
parameterised INSERTs, then runs parameterised queries on both, in text and in
binary, and requires the same Python values (Decimal scale included) and the
same result type OIDs. It also checks the issue's orders session, parameter
errors and their SQLSTATEs, prepared-statement reuse and transactions.

Usage:
  python3 tests/clients/test_psycopg3.py --ripple-bin target/debug/ripple \
      [--workers N] [--pg-port 54329]

PostgreSQL must be running (tests/pg.sh start); without it the oracle
comparison fails.
"""

import argparse
import datetime
import os
import signal
import sys
import tempfile
from decimal import Decimal

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_psycopg import CheckFailed, Server, check  # noqa: E402

SCHEMA = [
    "CREATE TABLE items (id bigint NOT NULL, name text, price numeric(10,2), qty integer,"
    " weight double precision, ok boolean, day date, at timestamp, span interval)",
    "CREATE MATERIALIZED VIEW by_ok AS SELECT ok, count(*) AS n, sum(price * qty) AS total"
    " FROM items GROUP BY ok",
]
ROWS = [
    (1, "apple", Decimal("1.25"), 10, 0.5, True, datetime.date(2024, 1, 15),
     datetime.datetime(2024, 1, 15, 10, 30), datetime.timedelta(days=1, hours=2)),
    (2, "pear", Decimal("3"), 2, 1.25, False, datetime.date(2023, 12, 31),
     datetime.datetime(2023, 12, 31, 23, 59, 59, 500000), datetime.timedelta(minutes=5)),
    (3, "fig", None, None, None, None, None, None, None),
    (4, "kiwi", Decimal("0.1"), 7, -2.0, True, datetime.date(2000, 2, 29),
     datetime.datetime(2000, 2, 29, 0, 0), datetime.timedelta(0)),
    (5, "o'range", Decimal("99999.99"), 1, 1e100, False, datetime.date(1999, 1, 1),
     datetime.datetime(1970, 1, 1), datetime.timedelta(days=-3, seconds=1)),
]
QUERIES = [
    ("SELECT * FROM items WHERE id = %s", (1,)),
    ("SELECT * FROM items WHERE id = %s", (2**40,)),
    ("SELECT name, price FROM items WHERE price > %s ORDER BY name", (Decimal("1.00"),)),
    ("SELECT name FROM items WHERE name = %s OR name LIKE %s ORDER BY 1", ("fig", "%an%")),
    ("SELECT id, qty * %s FROM items ORDER BY id", (3,)),
    ("SELECT id, weight / %s FROM items WHERE weight IS NOT NULL ORDER BY id", (2.0,)),
    ("SELECT id FROM items WHERE day >= %s ORDER BY id", (datetime.date(2024, 1, 1),)),
    ("SELECT id, at + %s FROM items WHERE at < %s ORDER BY id",
     (datetime.timedelta(hours=1), datetime.datetime(2024, 1, 1))),
    ("SELECT id FROM items WHERE ok = %s ORDER BY id", (True,)),
    ("SELECT id FROM items WHERE ok IS NULL OR qty = %s ORDER BY id", (None,)),
    ("SELECT id, name FROM items ORDER BY id LIMIT %s OFFSET %s", (2, 1)),
    ("SELECT ok, n, total FROM by_ok ORDER BY ok", None),
    ("SELECT %s::numeric(6,2), %s::text, %s::int + 1", (Decimal("1.005"), "x", 41)),
    ("SELECT sum(price), avg(qty), min(at), max(span), count(*) FROM items", None),
    ("SELECT CASE WHEN qty > %s THEN 'big' ELSE 'small' END FROM items ORDER BY id", (5,)),
    ("SELECT id, coalesce(name, %s) || %s FROM items ORDER BY id", ("?", "!")),
    # arrays and jsonb: types, text and binary formats, array parameters
    ("SELECT array_agg(id ORDER BY id), array_agg(name ORDER BY id), ARRAY[1.5, NULL] FROM items", None),
    ("SELECT id FROM items WHERE id = ANY (%s) ORDER BY id", ([1, 3],)),
    ("SELECT u FROM unnest(%s::text[]) AS u ORDER BY 1", (["b", None, "a b"],)),
    ("SELECT jsonb_build_object('id', id, 'name', name) FROM items ORDER BY id", None),
    ("SELECT jsonb_agg(name ORDER BY id) -> 0, %s::jsonb ->> 'k' FROM items", ('{"k": "v"}',)),
]


def connect_ripple(server, **kw):
    return psycopg.connect(host="127.0.0.1", port=server.port, user="ripple",
                           dbname="ripple", connect_timeout=5, **kw)


def connect_pg(port, dbname="postgres", **kw):
    return psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                           dbname=dbname, connect_timeout=5, **kw)


def fresh_pg_db(port):
    with connect_pg(port, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS ripple_psycopg3")
        admin.execute("CREATE DATABASE ripple_psycopg3")
    return connect_pg(port, dbname="ripple_psycopg3", autocommit=True)


def run(conn, sql, params, binary, refresh):
    if refresh:  # PostgreSQL's materialized views are snapshots
        conn.execute("REFRESH MATERIALIZED VIEW by_ok")
    cur = conn.cursor(binary=binary)
    cur.execute(sql, params)
    types = [d.type_code for d in cur.description]
    return types, [tuple(map(repr, r)) for r in cur.fetchall()]


def test_oracle(server, pg_port):
    """Parameterised writes and reads give PostgreSQL's values, text and binary."""
    rip = connect_ripple(server, autocommit=True)
    pg = fresh_pg_db(pg_port)
    for conn in (rip, pg):
        for stmt in SCHEMA:
            conn.execute(stmt)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
        conn.execute("UPDATE items SET qty = qty + %s WHERE name = %s", (1, "pear"))
        conn.execute("DELETE FROM items WHERE id = %s", (4,))
    for sql, params in QUERIES:
        for binary in (False, True):
            want = run(pg, sql, params, binary, refresh=True)
            got = run(rip, sql, params, binary, refresh=False)
            check(got == want, f"{sql} {params!r} binary={binary}\n"
                               f"  PostgreSQL: {want!r}\n  Ripple:     {got!r}")
    rip.close()
    pg.close()


def test_orders_session(server, _pg_port):
    """The issue's session, through the extended protocol with parameters."""
    conn = connect_ripple(server, autocommit=True)
    conn.execute("CREATE TABLE orders (id bigint, customer text, amount numeric, at timestamp)")
    conn.execute("CREATE MATERIALIZED VIEW spend AS "
                 "SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer")
    cur = conn.execute("INSERT INTO orders VALUES (%s, %s, %s, now()), (%s, %s, %s, now())",
                       (1, "ann", Decimal("9.50"), 2, "bob", 3))
    check(cur.rowcount == 2, f"INSERT rowcount {cur.rowcount}")
    spend = "SELECT * FROM spend ORDER BY customer"
    rows = conn.execute(spend).fetchall()
    check(rows == [("ann", 1, Decimal("9.50")), ("bob", 1, Decimal("3"))], f"{spend}: {rows!r}")
    cur = conn.execute("UPDATE orders SET amount = amount * 2 WHERE customer = %s", ("ann",))
    check(cur.rowcount == 1, f"UPDATE rowcount {cur.rowcount}")
    cur = conn.execute("DELETE FROM orders WHERE id = %s", (2,))
    check(cur.rowcount == 1, f"DELETE rowcount {cur.rowcount}")
    rows = conn.execute(spend).fetchall()
    check(rows == [("ann", 1, Decimal("19.00"))], f"{spend}: {rows!r}")
    conn.close()


def expect_sqlstate(conn, sql, params, code, **kw):
    try:
        conn.execute(sql, params, **kw)
    except psycopg.Error as e:
        check(e.sqlstate == code, f"{sql}: expected {code}, got {e.sqlstate} {e}")
        return
    raise CheckFailed(f"{sql}: expected error {code}, got success")


def test_errors(server, _pg_port):
    """Parse, bind and execute errors carry SQLSTATEs; the session goes on."""
    conn = connect_ripple(server, autocommit=True)
    expect_sqlstate(conn, "SELECT * FROM nosuch WHERE id = %s", (1,), "42P01")
    expect_sqlstate(conn, "SELECT %s::int", ("abc",), "22P02")
    expect_sqlstate(conn, "SELEC %s", (1,), "42601")
    expect_sqlstate(conn, "SELECT 1; SELECT 2", None, "42601", prepare=True)
    expect_sqlstate(conn, "SELECT 1 / %s", (0,), "22012")
    check(conn.execute("SELECT %s + 1", (1,)).fetchone() == (2,), "session usable after errors")
    conn.close()


def test_prepared_reuse(server, _pg_port):
    """A statement prepared once and run many times answers each run."""
    conn = connect_ripple(server, autocommit=True, prepare_threshold=1)
    conn.execute("CREATE TABLE nums (n int)")
    for i in range(10):
        conn.execute("INSERT INTO nums VALUES (%s)", (i,))
    for i in range(10):
        got = conn.execute("SELECT count(*) FROM nums WHERE n < %s", (i,)).fetchone()
        check(got == (i,), f"run {i}: {got!r}")
    conn.close()


def test_transactions(server, _pg_port):
    """psycopg 3's default (non-autocommit) mode: commit applies, rollback discards."""
    conn = connect_ripple(server)
    conn.execute("CREATE TABLE tx (n int)")
    conn.commit()
    conn.execute("INSERT INTO tx VALUES (%s)", (1,))
    conn.execute("INSERT INTO tx VALUES (%s)", (2,))
    conn.commit()
    conn.execute("INSERT INTO tx VALUES (%s)", (3,))
    conn.rollback()
    got = conn.execute("SELECT n FROM tx ORDER BY n").fetchall()
    check(got == [(1,), (2,)], f"after commit and rollback: {got!r}")
    conn.close()


def test_sql_prepare(server, _pg_port):
    """SQL PREPARE / EXECUTE over the extended protocol: EXECUTE's result is
    described, and a bound parameter passed on to the prepared statement
    takes that statement's parameter type (text and binary)."""
    conn = connect_ripple(server, autocommit=True)
    conn.execute("PREPARE doubled (int) AS SELECT $1 * 2 AS d, 'x'::text AS t")
    cur = conn.execute("EXECUTE doubled(21)")
    check([d.name for d in cur.description] == ["d", "t"], f"description {cur.description!r}")
    check(cur.fetchall() == [(42, "x")], "EXECUTE with a literal")
    for binary in (False, True):
        got = conn.execute("EXECUTE doubled(%s)", (5,), binary=binary).fetchall()
        check(got == [(10, "x")], f"EXECUTE with a bound parameter (binary={binary}): {got!r}")
    conn.execute("DEALLOCATE doubled")
    try:
        conn.execute("EXECUTE doubled(1)")
        raise CheckFailed("EXECUTE after DEALLOCATE ran")
    except psycopg.errors.InvalidSqlStatementName:
        pass
    conn.close()


def test_row_description_origins(server, _pg_port):
    """RowDescription names the table (or view) and column number of a
    result column that is a plain column, through subqueries, joins and
    GROUP BY keys, and 0 for computed ones, as PostgreSQL does."""
    conn = connect_ripple(server, autocommit=True)
    conn.execute("CREATE TABLE origin_t (a int, b text)")
    conn.execute("CREATE VIEW origin_v AS SELECT b, a FROM origin_t")
    t = conn.execute("SELECT 'origin_t'::regclass::oid").fetchone()[0]
    v = conn.execute("SELECT 'origin_v'::regclass::oid").fetchone()[0]
    cases = [
        ("SELECT a, b, a + 1 AS c FROM origin_t", [(t, 1), (t, 2), (0, 0)]),
        ("SELECT x.b FROM (SELECT b FROM origin_t) x", [(t, 2)]),
        ("SELECT * FROM origin_v", [(v, 1), (v, 2)]),
        ("SELECT a FROM origin_t UNION SELECT a FROM origin_t", [(0, 0)]),
        ("SELECT o.b, count(*) FROM origin_t o GROUP BY o.b", [(t, 2), (0, 0)]),
        ("SELECT u.a FROM origin_t t JOIN origin_t u ON t.a = u.a", [(t, 1)]),
    ]
    for sql, want in cases:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            cur.execute(sql)
            got = [(cur.pgresult.ftable(i), cur.pgresult.ftablecol(i))
                   for i in range(cur.pgresult.nfields)]
            check(got == want, f"{sql} (binary={binary}): want {want} got {got}")
    conn.close()


def test_time_zone(server, _pg_port):
    """A TimeZone from the startup packet: reported, and timestamptz values
    (text and binary) arrive as the same instants in that zone."""
    import datetime as dt
    conn = connect_ripple(server, autocommit=True, options="-c TimeZone=Asia/Tokyo")
    check(conn.info.parameter_status("TimeZone") == "Asia/Tokyo",
          f"ParameterStatus TimeZone {conn.info.parameter_status('TimeZone')!r}")
    check(conn.execute("SHOW TimeZone").fetchone() == ("Asia/Tokyo",), "SHOW TimeZone")
    want = dt.datetime(2024, 7, 15, 12, 0, tzinfo=dt.timezone.utc)
    for binary in (False, True):
        got = conn.cursor(binary=binary).execute(
            "SELECT '2024-07-15 21:00'::timestamptz").fetchone()[0]
        check(got == want, f"binary={binary}: {got!r}")
        check(got.utcoffset() == dt.timedelta(hours=9) or binary,
              f"text value not in the session zone: {got!r}")
    conn.close()


TESTS = [test_orders_session, test_oracle, test_errors, test_prepared_reuse, test_transactions,
         test_sql_prepare, test_row_description_origins, test_time_zone]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGTEST_PORT", "54329")))
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="ripple-psycopg3-")
    server = Server(os.path.abspath(args.ripple_bin), args.workers,
                    os.path.join(tmp, "data"), os.path.join(tmp, "ripple.log"))
    failed = []
    try:
        server.start()
        for test in TESTS:
            try:
                test(server, args.pg_port)
                print(f"ok   {test.__name__}")
            except (CheckFailed, psycopg.Error, OSError) as e:
                failed.append(test.__name__)
                print(f"FAIL {test.__name__}: {e}", file=sys.stderr)
                if server.proc.poll() is not None:
                    print(server.log_tail(), file=sys.stderr)
                    break
    finally:
        server.stop(signal.SIGTERM)
    if failed:
        print(f"test_psycopg3: {len(failed)} failed ({', '.join(failed)}); log in {tmp}",
              file=sys.stderr)
        return 1
    print(f"test_psycopg3: {len(TESTS)} passed (workers={args.workers})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
