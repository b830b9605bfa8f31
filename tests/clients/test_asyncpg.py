#!/usr/bin/env python3
"""Client test: asyncpg against a real `ripple` (or PostgreSQL with --pg).

asyncpg speaks only the extended protocol: `Parse __asyncpg_stmt_N__` +
`Describe S` + `Flush`, then Bind/Execute/Sync, encodes every parameter in
binary according to the server's ParameterDescription, and asks for every
result column in binary. This test runs one scenario and prints one line per
check:

  * connect, server version parsing, parameterised INSERT through execute()
    and executemany() with int2/int4/int8/float4/float8/numeric/text/varchar/
    char/bool/date/timestamp/timestamptz/jsonb/interval/array parameters;
  * typed results read back (binary), uncast parameters typed from context;
  * prepared statements reused, with their parameter and column types;
  * a materialized view following writes (count/sum after INSERT/UPDATE/DELETE);
  * introspection: information_schema.columns/tables, pg_class, pg_attribute;
  * transactions (commit, rollback) and a cursor inside a transaction;
  * SQLSTATEs of errors, and the session staying usable.

Usage:
  python3 tests/clients/test_asyncpg.py --ripple-bin target/debug/ripple [--workers N]
  python3 tests/clients/test_asyncpg.py --pg      # PostgreSQL at 127.0.0.1:54329

Exits non-zero if any check fails. Needs asyncpg (tests/install-deps.sh).
"""

import argparse
import asyncio
import datetime
import os
import sys
from decimal import Decimal

import asyncpg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ripple_server import (DATABASE, PG_HOST, PG_PORT, PG_USER, USER,  # noqa: E402
                           CheckFailed, Checks, Server, check)

UTC = datetime.timezone.utc

SCHEMA = [
    "CREATE TABLE things (id integer NOT NULL, small smallint, big bigint, f8 double precision,"
    " f4 real, amount numeric(12,3), label text, tag varchar(20), code char(3), flag boolean,"
    " day date, at timestamp, atz timestamptz, doc jsonb, span interval, words text[])",
    "CREATE INDEX things_day_idx ON things (day)",
    "CREATE VIEW recent AS SELECT id, label, day FROM things WHERE day >= DATE '2024-01-01'",
    "CREATE MATERIALIZED VIEW totals AS SELECT flag, count(*) AS n, sum(amount) AS total,"
    " max(big) AS top FROM things GROUP BY flag",
]
INSERT = ("INSERT INTO things VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
          " $14, $15, $16)")
ROW1 = (1, 7, 2**40, 0.5, 1.5, Decimal("12.5"), "apple", "red", "abc", True,
        datetime.date(2024, 1, 15), datetime.datetime(2024, 1, 15, 10, 30, 0, 250000),
        datetime.datetime(2024, 1, 15, 9, 0, tzinfo=UTC), '{"a": 1, "b": [true, null]}',
        datetime.timedelta(days=1, hours=2), ["x", "y z"])
MANY = [
    (2, -3, -5, -2.25, 0.25, Decimal("0.001"), "pear", "green", "de", False,
     datetime.date(2023, 12, 31), datetime.datetime(2023, 12, 31, 23, 59, 59),
     datetime.datetime(2023, 12, 31, 22, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
     '{"k": "v"}', datetime.timedelta(minutes=5), ["only"]),
    (3, None, None, None, None, None, "fig", None, None, None, None, None, None, None, None,
     None),
    (4, 32767, 9223372036854775807, 1e100, -1.0, Decimal("-999999999.999"), "o'range", "", "z",
     True, datetime.date(2000, 2, 29), datetime.datetime(2000, 2, 29, 0, 0),
     datetime.datetime(2000, 2, 29, 12, 0, tzinfo=UTC), '[1, 2.5, "three"]',
     datetime.timedelta(days=-3, seconds=1), [None, ""]),
    (5, 0, 0, 0.0, 0.0, Decimal("0"), "kiwi", "brown", "k  ", True,
     datetime.date(2024, 6, 1), datetime.datetime(1970, 1, 1), datetime.datetime(1970, 1, 1, tzinfo=UTC),
     'null', datetime.timedelta(0), []),
]
# What PostgreSQL gives back: numeric(12,3) keeps 3 decimals, char(3) pads,
# timestamptz comes back in UTC, jsonb is normalized.
EXPECTED = [
    (1, 7, 2**40, 0.5, 1.5, Decimal("12.500"), "apple", "red", "abc", True,
     datetime.date(2024, 1, 15), datetime.datetime(2024, 1, 15, 10, 30, 0, 250000),
     datetime.datetime(2024, 1, 15, 9, 0, tzinfo=UTC), '{"a": 1, "b": [true, null]}',
     datetime.timedelta(days=1, hours=2), ["x", "y z"]),
    (2, -3, -5, -2.25, 0.25, Decimal("0.001"), "pear", "green", "de ", False,
     datetime.date(2023, 12, 31), datetime.datetime(2023, 12, 31, 23, 59, 59),
     datetime.datetime(2023, 12, 31, 20, 0, tzinfo=UTC), '{"k": "v"}',
     datetime.timedelta(minutes=5), ["only"]),
    (3, None, None, None, None, None, "fig", None, None, None, None, None, None, None, None,
     None),
    (4, 32767, 9223372036854775807, 1e100, -1.0, Decimal("-999999999.999"), "o'range", "", "z  ",
     True, datetime.date(2000, 2, 29), datetime.datetime(2000, 2, 29, 0, 0),
     datetime.datetime(2000, 2, 29, 12, 0, tzinfo=UTC), '[1, 2.5, "three"]',
     datetime.timedelta(days=-3, seconds=1), [None, ""]),
    (5, 0, 0, 0.0, 0.0, Decimal("0.000"), "kiwi", "brown", "k  ", True,
     datetime.date(2024, 6, 1), datetime.datetime(1970, 1, 1), datetime.datetime(1970, 1, 1, tzinfo=UTC),
     'null', datetime.timedelta(0), []),
]
COLUMNS = [  # information_schema.columns: column_name, data_type, is_nullable
    ("id", "integer", "NO"), ("small", "smallint", "YES"), ("big", "bigint", "YES"),
    ("f8", "double precision", "YES"), ("f4", "real", "YES"), ("amount", "numeric", "YES"),
    ("label", "text", "YES"), ("tag", "character varying", "YES"), ("code", "character", "YES"),
    ("flag", "boolean", "YES"), ("day", "date", "YES"),
    ("at", "timestamp without time zone", "YES"), ("atz", "timestamp with time zone", "YES"),
    ("doc", "jsonb", "YES"), ("span", "interval", "YES"), ("words", "ARRAY", "YES"),
]
FORMAT_TYPES = [
    ("id", "integer"), ("small", "smallint"), ("big", "bigint"), ("f8", "double precision"),
    ("f4", "real"), ("amount", "numeric(12,3)"), ("label", "text"), ("tag", "character varying(20)"),
    ("code", "character(3)"), ("flag", "boolean"), ("day", "date"),
    ("at", "timestamp without time zone"), ("atz", "timestamp with time zone"), ("doc", "jsonb"),
    ("span", "interval"), ("words", "text[]"),
]


class Ctx:
    def __init__(self, args, server):
        self.args = args
        self.server = server
        self.conn = None

    async def connect(self, **kw):
        if self.args.pg:
            return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER,
                                         database="ripple_asyncpg", timeout=10, **kw)
        return await asyncpg.connect(host="127.0.0.1", port=self.server.port, user=USER,
                                     database=DATABASE, timeout=10, **kw)

    async def sync_mv(self, conn=None):
        """PostgreSQL's materialized views are snapshots; Ripple's follow writes."""
        if self.args.pg:
            await (conn or self.conn).execute("REFRESH MATERIALIZED VIEW totals")


def rows_of(records):
    return [tuple(r.values()) for r in records]


def same(got, want):
    """Equal values and equal reprs (Decimal scale, float vs int, tz)."""
    return got == want and repr(got) == repr(want)


async def c_connect(ctx):
    ctx.conn = await ctx.connect()
    v = ctx.conn.get_server_version()
    check(v.major >= 10, f"server version parsed as {v!r}")
    got = await ctx.conn.fetchval("SELECT 1")
    check(same(got, 1), f"SELECT 1 -> {got!r}")


async def c_schema(ctx):
    for stmt in SCHEMA:
        await ctx.conn.execute(stmt)


async def c_insert_execute(ctx):
    status = await ctx.conn.execute(INSERT, *ROW1)
    check(status == "INSERT 0 1", f"status {status!r}")


async def c_insert_executemany(ctx):
    await ctx.conn.executemany(INSERT, MANY)
    n = await ctx.conn.fetchval("SELECT count(*) FROM things")
    check(same(n, 5), f"count(*) after executemany: {n!r}")


async def c_fetch_typed(ctx):
    got = rows_of(await ctx.conn.fetch("SELECT * FROM things ORDER BY id"))
    for want_row, got_row in zip(EXPECTED, got):
        check(same(got_row, want_row), f"row {want_row[0]}\n  want {want_row!r}\n  got  {got_row!r}")
    check(len(got) == len(EXPECTED), f"{len(got)} rows")


async def c_record_columns(ctx):
    stmt = await ctx.conn.prepare("SELECT * FROM things WHERE id = $1")
    names = [a.name for a in stmt.get_attributes()]
    types = [a.type.name for a in stmt.get_attributes()]
    check(names == [c[0] for c in COLUMNS], f"column names {names}")
    want = ["int4", "int2", "int8", "float8", "float4", "numeric", "text", "varchar", "bpchar",
            "bool", "date", "timestamp", "timestamptz", "jsonb", "interval", "text[]"]
    check(types == want, f"column types\n  want {want}\n  got  {types}")


async def c_param_casts(ctx):
    row = await ctx.conn.fetchrow(
        "SELECT $1::int + 1, $2::bigint * 2, $3::float8 / 2, $4::numeric + 1, $5::text || '!',"
        " NOT $6::bool, $7::date + 1, $8::timestamp + interval '1 hour', $9::jsonb -> 'k',"
        " $10::text[], $11::smallint, $12::real, $13::timestamptz, $14::interval * 2",
        41, 2**33, 5.0, Decimal("1.25"), "hi", False, datetime.date(2024, 2, 28),
        datetime.datetime(2024, 1, 1, 23, 30), '{"k": [1]}', ["a", None], 12, 2.5,
        datetime.datetime(2024, 1, 1, tzinfo=UTC), datetime.timedelta(seconds=90))
    want = (42, 2**34, 2.5, Decimal("2.25"), "hi!", True, datetime.date(2024, 2, 29),
            datetime.datetime(2024, 1, 2, 0, 30), "[1]", ["a", None], 12, 2.5,
            datetime.datetime(2024, 1, 1, tzinfo=UTC), datetime.timedelta(seconds=180))
    check(same(tuple(row.values()), want), f"\n  want {want!r}\n  got  {tuple(row.values())!r}")


async def c_param_uncast(ctx):
    """No casts: the types come from the server's ParameterDescription."""
    cases = [
        ("SELECT id FROM things WHERE big > $1 ORDER BY id", (0,), [(1,), (4,)]),
        ("SELECT id FROM things WHERE amount >= $1 AND label LIKE $2 ORDER BY id",
         (Decimal("0.001"), "%a%"), [(1,), (2,)]),
        ("SELECT id FROM things WHERE day BETWEEN $1 AND $2 ORDER BY id",
         (datetime.date(2023, 1, 1), datetime.date(2024, 12, 31)), [(1,), (2,), (5,)]),
        ("SELECT id FROM things WHERE at < $1 ORDER BY id",
         (datetime.datetime(2000, 3, 1),), [(4,), (5,)]),
        ("SELECT id FROM things WHERE atz > $1 ORDER BY id",
         (datetime.datetime(2024, 1, 1, tzinfo=UTC),), [(1,)]),
        ("SELECT id FROM things WHERE flag = $1 ORDER BY id", (False,), [(2,)]),
        ("SELECT id FROM things WHERE f8 < $1 ORDER BY id", (0.0,), [(2,)]),
        ("SELECT id FROM things WHERE small = $1", (32767,), [(4,)]),
        ("SELECT id FROM things WHERE label = ANY($1) ORDER BY id", (["pear", "fig", "no"],),
         [(2,), (3,)]),
        ("SELECT id FROM things WHERE tag = $1", ("green",), [(2,)]),
        ("SELECT id, label FROM things ORDER BY id LIMIT $1 OFFSET $2", (2, 1),
         [(2, "pear"), (3, "fig")]),
    ]
    bad = []
    for sql, params, want in cases:
        try:
            got = rows_of(await ctx.conn.fetch(sql, *params))
            if not same(got, want):
                bad.append(f"{sql} {params!r}: want {want!r} got {got!r}")
        except Exception as e:  # noqa: BLE001 -- collect every case's error
            bad.append(f"{sql} {params!r}: {type(e).__name__}: {e} "
                       f"[{getattr(e, 'sqlstate', '')}]")
    check(not bad, f"{len(bad)}/{len(cases)} cases failed:\n    " + "\n    ".join(bad))


async def c_int_array(ctx):
    """int4[] is not among asyncpg's built-in codecs: its first use makes asyncpg
    look the type up with its WITH RECURSIVE typeinfo_tree query over pg_type."""
    got = await ctx.conn.fetchval("SELECT ARRAY[1, NULL, 3]")
    check(got == [1, None, 3], f"SELECT ARRAY[1, NULL, 3]: {got!r}")
    got = rows_of(await ctx.conn.fetch("SELECT id FROM things WHERE id = ANY($1) ORDER BY id",
                                       [2, 3, 9]))
    check(got == [(2,), (3,)], f"id = ANY($1::int4[]): {got!r}")
    got = await ctx.conn.fetchval("SELECT array_agg(id ORDER BY id) FROM things")
    check(got == [1, 2, 3, 4, 5], f"array_agg(id): {got!r}")


async def c_prepared_reuse(ctx):
    stmt = await ctx.conn.prepare("SELECT label, amount FROM things WHERE id = $1")
    ptypes = [t.name for t in stmt.get_parameters()]
    check(ptypes == ["int4"], f"parameter types {ptypes}")
    for _ in range(3):
        for i, want in [(1, ("apple", Decimal("12.500"))), (2, ("pear", Decimal("0.001"))),
                        (9, None)]:
            row = await stmt.fetchrow(i)
            got = None if row is None else tuple(row.values())
            check(same(got, want), f"run with id={i}: {got!r}")
    # the same SQL again through the connection's statement cache
    for i in range(8):
        got = await ctx.conn.fetchval("SELECT count(*) FROM things WHERE id <= $1", i)
        check(got == min(i, 5), f"count(*) WHERE id <= {i}: {got!r}")


async def c_update_delete(ctx):
    status = await ctx.conn.execute("UPDATE things SET amount = amount + $1 WHERE flag = $2",
                                    Decimal("1"), True)
    check(status == "UPDATE 3", f"UPDATE status {status!r}")
    status = await ctx.conn.execute("DELETE FROM things WHERE id = $1", 5)
    check(status == "DELETE 1", f"DELETE status {status!r}")


async def c_mv_follows_writes(ctx):
    q = "SELECT flag, n, total, top FROM totals ORDER BY flag NULLS LAST"
    await ctx.sync_mv()
    got = rows_of(await ctx.conn.fetch(q))
    want = [(False, 1, Decimal("0.001"), -5), (True, 2, Decimal("-999999985.499"), 9223372036854775807),
            (None, 1, None, None)]
    check(same(got, want), f"before: want {want!r} got {got!r}")
    await ctx.conn.executemany("INSERT INTO things (id, amount, flag, big) VALUES ($1, $2, $3, $4)",
                               [(10, Decimal("2.5"), False, 100), (11, Decimal("1"), False, 7)])
    await ctx.sync_mv()
    got = rows_of(await ctx.conn.fetch(q))
    want = [(False, 3, Decimal("3.501"), 100), (True, 2, Decimal("-999999985.499"), 9223372036854775807),
            (None, 1, None, None)]
    check(same(got, want), f"after INSERT: want {want!r} got {got!r}")
    await ctx.conn.execute("DELETE FROM things WHERE id >= $1", 10)
    await ctx.sync_mv()
    n = await ctx.conn.fetchval("SELECT n FROM totals WHERE flag = $1", False)
    check(n == 1, f"after DELETE: n={n!r}")


async def c_view(ctx):
    got = rows_of(await ctx.conn.fetch("SELECT * FROM recent ORDER BY id"))
    want = [(1, "apple", datetime.date(2024, 1, 15))]
    check(same(got, want), f"{got!r}")


async def c_info_schema_columns(ctx):
    got = rows_of(await ctx.conn.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", "things"))
    check(same(got, COLUMNS), f"\n  want {COLUMNS!r}\n  got  {got!r}")
    got = rows_of(await ctx.conn.fetch(
        "SELECT character_maximum_length, numeric_precision, numeric_scale"
        " FROM information_schema.columns WHERE table_name = 'things'"
        " AND column_name IN ('tag', 'amount') ORDER BY column_name"))
    want = [(None, 12, 3), (20, None, None)]
    check(same(got, want), f"lengths/precision: want {want!r} got {got!r}")


async def c_info_schema_tables(ctx):
    got = rows_of(await ctx.conn.fetch(
        "SELECT table_name, table_type FROM information_schema.tables"
        " WHERE table_schema = 'public' ORDER BY table_name"))
    want = [("recent", "VIEW"), ("things", "BASE TABLE")]
    check(same(got, want), f"want {want!r} got {got!r}")


async def c_pg_class(ctx):
    got = rows_of(await ctx.conn.fetch(
        "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 ORDER BY c.relname", "public"))
    # relkind is "char" (OID 18): asyncpg decodes it as bytes
    want = [("recent", b"v"), ("things", b"r"), ("things_day_idx", b"i"), ("totals", b"m")]
    if not ctx.args.pg:
        # Ripple's "char" columns are text (docs/sql.md, System catalogs)
        want = [(n, k.decode()) for n, k in want]
    check(same(got, want), f"want {want!r} got {got!r}")
    oid = await ctx.conn.fetchval("SELECT 'things'::regclass::oid")
    got = await ctx.conn.fetchval("SELECT relname FROM pg_class WHERE oid = $1", oid)
    check(got == "things", f"pg_class by oid {oid}: {got!r}")


async def c_pg_attribute(ctx):
    got = rows_of(await ctx.conn.fetch(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)"
        " FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'things'::regclass"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"))
    check(same(got, FORMAT_TYPES), f"\n  want {FORMAT_TYPES!r}\n  got  {got!r}")


async def c_transaction(ctx):
    conn = ctx.conn
    async with conn.transaction():
        await conn.execute("INSERT INTO things (id, label) VALUES ($1, $2)", 20, "committed")
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO things (id, label) VALUES ($1, $2)", 21, "rolled back")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    got = rows_of(await conn.fetch("SELECT id, label FROM things WHERE id >= 20 ORDER BY id"))
    check(got == [(20, "committed")], f"after commit + rollback: {got!r}")
    await conn.execute("DELETE FROM things WHERE id >= 20")


async def c_cursor(ctx):
    conn = ctx.conn
    async with conn.transaction():
        cur = await conn.cursor("SELECT id FROM things WHERE id < $1 ORDER BY id", 100)
        first = rows_of(await cur.fetch(2))
        check(first == [(1,), (2,)], f"fetch(2): {first!r}")
        row = await cur.fetchrow()
        check(row is not None and row[0] == 3, f"fetchrow(): {row!r}")
        rest = rows_of(await cur.fetch(10))
        check(rest == [(4,)], f"fetch(10): {rest!r}")
        seen = [r[0] async for r in conn.cursor("SELECT id FROM things ORDER BY id", prefetch=2)]
        check(seen == [1, 2, 3, 4], f"async for with prefetch=2: {seen!r}")


async def c_errors(ctx):
    conn = ctx.conn
    for sql, args, code in [("SELECT * FROM no_such_table WHERE id = $1", (1,), "42P01"),
                            ("SELECT no_such_column FROM things", (), "42703"),
                            ("SELEC 1", (), "42601"),
                            ("SELECT 1 / $1", (0,), "22012")]:
        try:
            await conn.fetch(sql, *args)
        except asyncpg.PostgresError as e:
            check(e.sqlstate == code, f"{sql}: want {code}, got {e.sqlstate} {e}")
        else:
            raise CheckFailed(f"{sql}: want error {code}, got success")
    got = await conn.fetchval("SELECT $1::int + 1", 1)
    check(got == 2, f"session usable after errors: {got!r}")


async def c_second_connection(ctx):
    """A second connection sees the committed data and the maintained view."""
    other = await ctx.connect()
    try:
        await ctx.sync_mv(other)
        got = await other.fetchval("SELECT sum(n) FROM totals")
        check(got == 4, f"sum(n) over totals from a second connection: {got!r}")
    finally:
        await other.close()


async def c_uuid_bytea(ctx):
    """uuid and bytea round-trip in binary both ways (asyncpg's codecs)."""
    import uuid
    await ctx.conn.execute("CREATE TABLE blobs (id uuid, data bytea)")
    rows = [(uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xffhi"),
            (uuid.UUID(int=5), b"")]
    await ctx.conn.executemany("INSERT INTO blobs VALUES ($1, $2)", rows)
    got = rows_of(await ctx.conn.fetch("SELECT id, data FROM blobs ORDER BY id"))
    want = sorted(rows)
    check(same(got, want), f"want {want!r} got {got!r}")
    one = await ctx.conn.fetchval("SELECT data FROM blobs WHERE id = $1", rows[0][0])
    check(one == rows[0][1], f"lookup by uuid: {one!r}")


async def c_time(ctx):
    """time round-trips in binary both ways, and time - time is an interval."""
    import datetime as dt
    await ctx.conn.execute("CREATE TABLE opening (day text, opens time, closes time)")
    rows = [("mon", dt.time(8, 30), dt.time(17, 0)),
            ("sat", dt.time(10, 0, 0, 250000), dt.time(13, 15, 59))]
    await ctx.conn.executemany("INSERT INTO opening VALUES ($1, $2, $3)", rows)
    got = rows_of(await ctx.conn.fetch("SELECT day, opens, closes FROM opening ORDER BY opens"))
    check(same(got, rows), f"want {rows!r} got {got!r}")
    late = await ctx.conn.fetchval("SELECT day FROM opening WHERE opens > $1", dt.time(9))
    check(late == "sat", f"lookup by time: {late!r}")
    span = await ctx.conn.fetchval("SELECT closes - opens FROM opening WHERE day = 'mon'")
    check(span == dt.timedelta(hours=8, minutes=30), f"closes - opens: {span!r}")


CHECKS = [c_connect, c_schema, c_insert_execute, c_insert_executemany, c_fetch_typed,
          c_record_columns, c_param_casts, c_param_uncast, c_int_array, c_prepared_reuse, c_update_delete,
          c_mv_follows_writes, c_view, c_info_schema_columns, c_info_schema_tables, c_pg_class,
          c_pg_attribute, c_transaction, c_cursor, c_errors, c_second_connection, c_uuid_bytea,
          c_time]


async def fresh_pg_db():
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    await admin.execute("DROP DATABASE IF EXISTS ripple_asyncpg")
    await admin.execute("CREATE DATABASE ripple_asyncpg")
    await admin.close()


async def run_all(args, server, checks):
    if args.pg:
        await fresh_pg_db()
    ctx = Ctx(args, server)
    for fn in CHECKS:
        name = fn.__name__[2:]
        try:
            await asyncio.wait_for(fn(ctx), timeout=30)
            checks.ok(name)
        except asyncio.TimeoutError:
            checks.fail(name, CheckFailed("timed out after 30 s"))
            # the connection is stuck mid-protocol: start over on a new one
            if ctx.conn is not None:
                ctx.conn.terminate()
            try:
                ctx.conn = await ctx.connect()
            except Exception as e:  # noqa: BLE001
                checks.fail("reconnect", e)
                return
        except Exception as e:  # noqa: BLE001 -- report every check
            checks.fail(name, e)
            if ctx.conn is None:
                return
            if ctx.conn.is_closed():
                ctx.conn = await ctx.connect()
    if ctx.conn is not None:
        await ctx.conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pg", action="store_true", help="run against PostgreSQL at 127.0.0.1:54329")
    args = p.parse_args()
    print(f"asyncpg {asyncpg.__version__}", flush=True)
    server = None if args.pg else Server(args.ripple_bin, args.workers, prefix="ripple-asyncpg-")
    checks = Checks("test_asyncpg", server)
    try:
        if server is not None:
            server.start()
        asyncio.run(run_all(args, server, checks))
    finally:
        if server is not None:
            server.stop()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
