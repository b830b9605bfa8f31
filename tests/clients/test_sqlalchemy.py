#!/usr/bin/env python3
"""Client test: SQLAlchemy 2 (psycopg2 and psycopg 3 dialects) and pandas
against a real `ripple` (or PostgreSQL with --pg).

SQLAlchemy's PostgreSQL dialect sends `select pg_catalog.version()` (and
parses `PostgreSQL N.N` out of it), `select current_schema()`, `show
standard_conforming_strings`, ... when an engine first connects, and its
Inspector reflects tables with large pg_catalog queries (format_type,
pg_get_expr, pg_index/pg_constraint, array_agg ... ORDER BY, unnest WITH
ORDINALITY). pandas.read_sql_table runs the whole reflection; to_sql creates
a table and inserts with executemany. For each dialect this test runs one
scenario on a fresh server (or database) and prints one line per check.

Usage:
  python3 tests/clients/test_sqlalchemy.py --ripple-bin target/debug/ripple [--workers N]
  python3 tests/clients/test_sqlalchemy.py --pg      # PostgreSQL at 127.0.0.1:54329
  [--dialect psycopg2|psycopg]  (default: both)

Exits non-zero if any check fails. Needs sqlalchemy, pandas and psycopg2 /
psycopg (tests/install-deps.sh).
"""

import argparse
import datetime
import os
import sys
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ripple_server import (DATABASE, PG_HOST, PG_PORT, PG_USER, USER,  # noqa: E402
                           CheckFailed, Checks, Server, check)

SCHEMA = [
    "CREATE TABLE things (id integer NOT NULL, big bigint, f8 double precision,"
    " amount numeric(12,3), label text, tag varchar(20), flag boolean, day date,"
    " at timestamp, atz timestamptz, doc jsonb)",
    "CREATE INDEX things_day_idx ON things (day)",
    "CREATE VIEW recent AS SELECT id, label, day FROM things WHERE day >= DATE '2024-01-01'",
    "CREATE MATERIALIZED VIEW totals AS SELECT flag, count(*) AS n, sum(amount) AS total"
    " FROM things GROUP BY flag",
]
UTC = datetime.timezone.utc
ROWS = [
    dict(id=1, big=2**40, f8=0.5, amount=Decimal("12.5"), label="apple", tag="red", flag=True,
         day=datetime.date(2024, 1, 15), at=datetime.datetime(2024, 1, 15, 10, 30),
         atz=datetime.datetime(2024, 1, 15, 9, 0, tzinfo=UTC), doc='{"a": 1}'),
    dict(id=2, big=-5, f8=-2.25, amount=Decimal("0.001"), label="pear", tag="green", flag=False,
         day=datetime.date(2023, 12, 31), at=datetime.datetime(2023, 12, 31, 23, 59, 59),
         atz=datetime.datetime(2023, 12, 31, 22, 0, tzinfo=UTC), doc='[1, 2]'),
    dict(id=3, big=None, f8=None, amount=None, label="fig", tag=None, flag=None, day=None,
         at=None, atz=None, doc=None),
    dict(id=4, big=7, f8=1e10, amount=Decimal("3"), label="o'range", tag="", flag=True,
         day=datetime.date(2000, 2, 29), at=datetime.datetime(2000, 2, 29),
         atz=datetime.datetime(2000, 2, 29, 12, 0, tzinfo=UTC), doc='{"k": "v"}'),
]
INSERT = text("INSERT INTO things VALUES (:id, :big, :f8, :amount, :label, :tag, :flag, :day,"
              " :at, :atz, CAST(:doc AS jsonb))")
COLUMN_TYPES = [
    ("id", "INTEGER", False), ("big", "BIGINT", True), ("f8", "DOUBLE PRECISION", True),
    ("amount", "NUMERIC(12, 3)", True), ("label", "TEXT", True), ("tag", "VARCHAR(20)", True),
    ("flag", "BOOLEAN", True), ("day", "DATE", True), ("at", "TIMESTAMP", True),
    ("atz", "TIMESTAMP WITH TIME ZONE", True), ("doc", "JSONB", True),
]


class Ctx:
    def __init__(self, url, pg):
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        self.pg = pg

    def sync_mv(self, conn):
        """PostgreSQL's materialized views are snapshots; Ripple's follow writes."""
        if self.pg:
            conn.execute(text("REFRESH MATERIALIZED VIEW totals"))


def c_connect(ctx):
    with ctx.engine.connect() as conn:
        check(conn.execute(text("SELECT 1")).scalar() == 1, "SELECT 1")
        info = conn.dialect.server_version_info
        check(info and info[0] >= 10, f"server_version_info {info!r}")
        schema = conn.dialect.default_schema_name
        check(schema == "public", f"default_schema_name {schema!r}")


def c_schema(ctx):
    with ctx.engine.begin() as conn:
        for stmt in SCHEMA:
            conn.exec_driver_sql(stmt)


def c_insert_bound_params(ctx):
    with ctx.engine.begin() as conn:
        res = conn.execute(INSERT, ROWS[0])
        check(res.rowcount == 1, f"rowcount {res.rowcount}")
        res = conn.execute(INSERT, ROWS[1:])  # executemany
    with ctx.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM things")).scalar()
        check(n == 4, f"count(*) {n!r}")


def c_select_bound_params(ctx):
    with ctx.engine.connect() as conn:
        got = conn.execute(text("SELECT id, label, amount FROM things WHERE big > :b"
                                " AND label LIKE :p ORDER BY id"), {"b": 0, "p": "%a%"}).all()
        want = [(1, "apple", Decimal("12.500")), (4, "o'range", Decimal("3.000"))]
        check([tuple(r) for r in got] == want, f"want {want!r} got {got!r}")
        got = conn.execute(text("SELECT at, atz, day, flag, doc FROM things WHERE id = :id"),
                           {"id": 1}).one()
        want = (datetime.datetime(2024, 1, 15, 10, 30), datetime.datetime(2024, 1, 15, 9, 0, tzinfo=UTC),
                datetime.date(2024, 1, 15), True, {"a": 1})
        check(tuple(got) == want, f"want {want!r} got {tuple(got)!r}")
        got = conn.execute(text("SELECT id FROM things WHERE id IN :ids ORDER BY id")
                           .bindparams(sa.bindparam("ids", expanding=True)),
                           {"ids": [2, 3, 99]}).scalars().all()
        check(got == [2, 3], f"expanding IN: {got!r}")


def c_mv_follows_writes(ctx):
    q = text("SELECT flag, n, total FROM totals ORDER BY flag NULLS LAST")
    with ctx.engine.begin() as conn:
        ctx.sync_mv(conn)
        got = [tuple(r) for r in conn.execute(q)]
        want = [(False, 1, Decimal("0.001")), (True, 2, Decimal("15.500")), (None, 1, None)]
        check(got == want, f"before: want {want!r} got {got!r}")
    with ctx.engine.begin() as conn:
        conn.execute(text("INSERT INTO things (id, amount, flag) VALUES (:i, :a, :f)"),
                     [{"i": 10, "a": Decimal("1"), "f": False}, {"i": 11, "a": Decimal("2"), "f": True}])
    with ctx.engine.begin() as conn:
        ctx.sync_mv(conn)
        got = [tuple(r) for r in conn.execute(q)]
        want = [(False, 2, Decimal("1.001")), (True, 3, Decimal("17.500")), (None, 1, None)]
        check(got == want, f"after INSERT: want {want!r} got {got!r}")
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM things WHERE id >= :i"), {"i": 10})
    with ctx.engine.begin() as conn:
        ctx.sync_mv(conn)
        got = conn.execute(text("SELECT sum(n) FROM totals")).scalar()
        check(got == 4, f"after DELETE: sum(n) {got!r}")


def c_read_after_write_in_transaction(ctx):
    """engine.begin(): a write, then a read, in one transaction block.
    Ripple does not serve reads after writes in a block yet (docs/sql.md,
    Transactions): it must refuse them with 25000 and keep nothing."""
    if not ctx.pg:
        try:
            with ctx.engine.begin() as conn:
                conn.execute(text("INSERT INTO things (id, label) VALUES (:i, :l)"),
                             {"i": 30, "l": "tx"})
                conn.execute(text("SELECT label FROM things WHERE id = :i"), {"i": 30}).scalar()
            raise CheckFailed("a read after a write in a block was served")
        except sa.exc.DBAPIError as e:
            code = getattr(e.orig, "pgcode", None) or getattr(e.orig, "sqlstate", None)
            check(code == "25000", f"want 25000, got {code}: {e.orig}")
        with ctx.engine.connect() as conn:
            got = conn.execute(text("SELECT count(*) FROM things WHERE id = 30")).scalar()
            check(got == 0, f"the failed block left {got!r} rows with id 30")
        return
    with ctx.engine.begin() as conn:
        conn.execute(text("INSERT INTO things (id, label) VALUES (:i, :l)"), {"i": 30, "l": "tx"})
        got = conn.execute(text("SELECT label FROM things WHERE id = :i"), {"i": 30}).scalar()
        check(got == "tx", f"read own write: {got!r}")
        conn.execute(text("DELETE FROM things WHERE id = :i"), {"i": 30})
    with ctx.engine.connect() as conn:
        got = conn.execute(text("SELECT count(*) FROM things WHERE id = 30")).scalar()
        check(got == 0, f"after commit: {got!r} rows with id 30")


def c_schema_names(ctx):
    names = sa.inspect(ctx.engine).get_schema_names()
    check("public" in names, f"{names!r}")
    check(not any(n.startswith("pg_") for n in names), f"pg_* listed: {names!r}")


def c_table_names(ctx):
    names = sa.inspect(ctx.engine).get_table_names()
    check(names == ["things"], f"{names!r}")


def c_has_table(ctx):
    insp = sa.inspect(ctx.engine)
    check(insp.has_table("things"), "has_table('things') is False")
    check(not insp.has_table("nope"), "has_table('nope') is True")


def c_view_names(ctx):
    names = sa.inspect(ctx.engine).get_view_names()
    check(names == ["recent"], f"{names!r}")


def c_materialized_view_names(ctx):
    names = sa.inspect(ctx.engine).get_materialized_view_names()
    check(names == ["totals"], f"{names!r}")


def c_columns(ctx):
    cols = sa.inspect(ctx.engine).get_columns("things")
    got = [(c["name"], type_name(c["type"]), c["nullable"]) for c in cols]
    check(got == COLUMN_TYPES, f"\n  want {COLUMN_TYPES!r}\n  got  {got!r}")
    check(all(c.get("default") is None for c in cols), f"defaults {[c.get('default') for c in cols]}")


def type_name(t):
    tz = " WITH TIME ZONE" if getattr(t, "timezone", False) else ""
    return str(t) + tz


def c_view_columns(ctx):
    insp = sa.inspect(ctx.engine)
    got = [(c["name"], str(c["type"])) for c in insp.get_columns("recent")]
    want = [("id", "INTEGER"), ("label", "TEXT"), ("day", "DATE")]
    check(got == want, f"view: want {want!r} got {got!r}")
    got = [(c["name"], str(c["type"])) for c in insp.get_columns("totals")]
    want = [("flag", "BOOLEAN"), ("n", "BIGINT"), ("total", "NUMERIC")]
    check(got == want, f"materialized view: want {want!r} got {got!r}")


def c_pk_constraint(ctx):
    pk = sa.inspect(ctx.engine).get_pk_constraint("things")
    check(pk.get("constrained_columns") == [], f"{pk!r}")


def c_indexes(ctx):
    got = sa.inspect(ctx.engine).get_indexes("things")
    simple = [(i["name"], i["column_names"], i["unique"]) for i in got]
    check(simple == [("things_day_idx", ["day"], False)], f"{got!r}")


def c_foreign_keys(ctx):
    got = sa.inspect(ctx.engine).get_foreign_keys("things")
    check(got == [], f"{got!r}")


def c_unique_and_check_constraints(ctx):
    insp = sa.inspect(ctx.engine)
    got = insp.get_unique_constraints("things")
    check(got == [], f"unique: {got!r}")
    got = insp.get_check_constraints("things")
    check(got == [], f"check: {got!r}")


def c_table_comment(ctx):
    got = sa.inspect(ctx.engine).get_table_comment("things")
    check(got == {"text": None}, f"{got!r}")


def c_reflect_and_core_select(ctx):
    md = sa.MetaData()
    things = sa.Table("things", md, autoload_with=ctx.engine)
    with ctx.engine.connect() as conn:
        got = conn.execute(sa.select(things.c.label).where(things.c.id == 2)).scalar()
        check(got == "pear", f"select label where id = 2: {got!r}")
        got = conn.execute(sa.select(sa.func.count()).select_from(things)
                           .where(things.c.flag.is_(True))).scalar()
        check(got == 2, f"count where flag is true: {got!r}")


def c_core_insert(ctx):
    md = sa.MetaData()
    things = sa.Table("things", md, autoload_with=ctx.engine)
    with ctx.engine.begin() as conn:
        conn.execute(things.insert(), [{"id": 20, "label": "core", "amount": Decimal("1.5"),
                                        "at": datetime.datetime(2020, 5, 5, 5, 5)}])
    with ctx.engine.begin() as conn:
        got = conn.execute(sa.select(things.c.amount, things.c.at).where(things.c.id == 20)).one()
        check(tuple(got) == (Decimal("1.500"), datetime.datetime(2020, 5, 5, 5, 5)), f"{got!r}")
        conn.execute(things.delete().where(things.c.id == 20))


def c_pandas_read_sql_query(ctx):
    with ctx.engine.connect() as conn:
        df = pd.read_sql(text("SELECT id, label, amount, day, atz FROM things WHERE id <= :m"
                              " ORDER BY id"), conn, params={"m": 3})
    check(list(df.columns) == ["id", "label", "amount", "day", "atz"], f"columns {list(df.columns)}")
    check(df["id"].tolist() == [1, 2, 3], f"id {df['id'].tolist()}")
    check(df["label"].tolist() == ["apple", "pear", "fig"], f"label {df['label'].tolist()}")
    check(str(df["atz"].dtype).startswith("datetime64") and "UTC" in str(df["atz"].dtype),
          f"atz dtype {df['atz'].dtype}")
    # a plain string query through the engine (pandas first asks has_table(<the SQL>))
    df = pd.read_sql("SELECT count(*) AS n FROM things", ctx.engine)
    check(df["n"].tolist() == [4], f"count {df['n'].tolist()}")


def c_pandas_read_sql_table(ctx):
    df = pd.read_sql_table("things", ctx.engine)
    check(list(df.columns) == [c[0] for c in COLUMN_TYPES], f"columns {list(df.columns)}")
    check(len(df) == 4, f"{len(df)} rows")
    check(sorted(df["id"].tolist()) == [1, 2, 3, 4], f"ids {df['id'].tolist()}")
    check(str(df["at"].dtype).startswith("datetime64"), f"at dtype {df['at'].dtype}")


def c_pandas_to_sql(ctx):
    df = pd.DataFrame({"k": [1, 2, 3], "name": ["a", "b", None], "x": [0.5, None, 2.0],
                       "ok": [True, False, True],
                       "ts": [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02 03:04:05"), pd.NaT]})
    n = df.to_sql("from_pandas", ctx.engine, index=False, if_exists="fail")
    check(n in (3, -1, None), f"to_sql returned {n!r}")  # psycopg 3: -1
    back = pd.read_sql(text("SELECT * FROM from_pandas ORDER BY k"), ctx.engine)
    check(back["k"].tolist() == [1, 2, 3], f"k {back['k'].tolist()}")
    check(back["name"].tolist()[:2] == ["a", "b"], f"name {back['name'].tolist()}")
    check(back["ok"].tolist() == [True, False, True], f"ok {back['ok'].tolist()}")
    check(str(back["ts"][1]) == "2024-01-02 03:04:05", f"ts {back['ts'].tolist()}")


CHECKS = [c_connect, c_schema, c_insert_bound_params, c_select_bound_params, c_mv_follows_writes,
          c_read_after_write_in_transaction,
          c_schema_names, c_table_names, c_has_table, c_view_names, c_materialized_view_names,
          c_columns, c_view_columns, c_pk_constraint, c_indexes, c_foreign_keys,
          c_unique_and_check_constraints, c_table_comment, c_reflect_and_core_select,
          c_core_insert, c_pandas_read_sql_query, c_pandas_read_sql_table, c_pandas_to_sql]


def fresh_pg_db(name):
    admin = sa.create_engine(f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres",
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()


def run_dialect(args, dialect, checks):
    server = None
    try:
        if args.pg:
            db = f"ripple_sqla_{dialect}"
            fresh_pg_db(db)
            url = f"postgresql+{dialect}://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}"
        else:
            server = Server(args.ripple_bin, args.workers, prefix=f"ripple-sqla-{dialect}-")
            checks.server = server
            server.start()
            url = f"postgresql+{dialect}://{USER}@127.0.0.1:{server.port}/{DATABASE}"
        ctx = Ctx(url, args.pg)
        for fn in CHECKS:
            name = f"{dialect}.{fn.__name__[2:]}"
            try:
                fn(ctx)
                checks.ok(name)
            except Exception as e:  # noqa: BLE001 -- report every check
                checks.fail(name, e if isinstance(e, CheckFailed) else _short(e))
        ctx.engine.dispose()
    finally:
        if server is not None:
            server.stop()
            if checks.failed:
                print(f"server log ({dialect}): {server.log_path}", flush=True)


def _short(e):
    """SQLAlchemy errors carry the whole SQL; keep the driver's message, SQLSTATE
    and the statement's first line."""
    orig = getattr(e, "orig", None)
    if orig is None:
        return CheckFailed(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    msg = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    stmt = " ".join((getattr(e, "statement", "") or "").split())[:300]
    return CheckFailed(f"{type(orig).__name__}: {msg} [SQLSTATE {code}]\n    SQL: {stmt}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pg", action="store_true", help="run against PostgreSQL at 127.0.0.1:54329")
    p.add_argument("--dialect", choices=["psycopg2", "psycopg"], action="append")
    args = p.parse_args()
    print(f"sqlalchemy {sa.__version__}, pandas {pd.__version__}", flush=True)
    checks = Checks("test_sqlalchemy")
    for dialect in args.dialect or ["psycopg2", "psycopg"]:
        run_dialect(args, dialect, checks)
    checks.server = None
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
