#!/usr/bin/env python3
"""SQL fuzzer: no input may crash or hang the server.

Takes the statements of the sqllogictest corpus (tests/slt/**/*.slt), mutates
them at the token level (drop, repeat, swap, truncate, or insert a token from
a list of troublesome ones: huge numbers, odd casts, NULLs, quotes,
operators), and sends them to a real `ripple` over the simple protocol
(psycopg2) and the extended protocol with random parameters (psycopg 3).
Errors are expected; what fails the run is the server exiting, a statement
taking longer than --stmt-timeout, or the connection breaking while the
server is still up.

Usage:
  python3 tests/fuzz/sqlfuzz.py --ripple-bin target/debug/ripple \
      [--seconds 60] [--seed N] [--workers 2]

On failure, prints the seed, the offending statement and the server log tail.
"""

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import psycopg2
import psycopg2.extensions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients"))
from test_psycopg import CheckFailed, Server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\d+\.\d*|\d+|\w+|::|<=|>=|<>|!=|\|\||\S")
TROUBLE = [
    "NULL", "''", "'x'", "'-infinity'", "'1e400'", "'P1Y'", "'24:00:00'", "'2024-02-30'",
    "0", "-0", "1e400", "-9223372036854775808", "9223372036854775807", "2147483648",
    "99999999999999999999999999999999", "0.0000000000000000000000000001", "1.5e-300",
    "::int2", "::int", "::bigint", "::numeric(1000,500)", "::numeric(2,1)", "::numeric(1,-5)",
    "::char(0)", "::varchar(1)", "::real", "::float8", "::date", "::timestamp", "::interval",
    "::text", "::boolean", "/", "%", "*", "-", "+", "||", "=", "<", "(", ")", ",", ";",
    "AND", "OR", "NOT", "IS", "DISTINCT", "FROM", "SELECT", "WHERE", "GROUP", "BY", "ORDER",
    "LIMIT", "OFFSET", "JOIN", "ON", "UNION", "ALL", "EXCEPT", "CASE", "WHEN", "THEN", "ELSE",
    "END", "count(*)", "sum(", "avg(", "min(", "max(", "coalesce(", "nullif(", "round(",
    "substr(", "trim(", "now()", "$1", "$2", "$65536", "$0", "E'\\\\'", "$$x$$", "--", "/*",
    "(SELECT 1)", "(SELECT a FROM t)", "EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
    "IN (SELECT a FROM u)", "NOT IN (SELECT a FROM u)", "(SELECT count(*) FROM u WHERE u.a = a)",
]
PARAMS = [None, 0, -1, 2**31, 2**63 - 1, 1.5, float("inf"), float("nan"), "", "x", "1",
          "2024-01-01", True, "'; DROP TABLE t; --"]
SETUP = [
    "CREATE TABLE t (a int, b text, c numeric(6,2), d timestamp, e double precision, f char(3))",
    "CREATE TABLE u (a int, g interval, h date)",
    "INSERT INTO t VALUES (1, 'x', 1.5, '2024-01-01', 0.5, 'ab'), (2, NULL, NULL, NULL, NULL, NULL),"
    " (3, 'zz', -2, '1999-12-31 23:59', 1e300, 'c')",
    "INSERT INTO u VALUES (1, '1 day', '2024-01-01'), (3, NULL, NULL)",
    "CREATE MATERIALIZED VIEW mv AS SELECT a, count(*), sum(c) FROM t GROUP BY a",
    "CREATE VIEW v AS SELECT t.a, g FROM t LEFT JOIN u ON t.a = u.a",
]


def corpus():
    """SQL bodies of every statement and query record in the slt files."""
    out = []
    for path in sorted((ROOT / "slt").rglob("*.slt")):
        lines = path.read_text().split("\n")
        i = 0
        while i < len(lines):
            if lines[i].startswith(("statement", "query")):
                body = []
                i += 1
                while i < len(lines) and lines[i].strip() and lines[i] != "----":
                    body.append(lines[i])
                    i += 1
                if body:
                    out.append("\n".join(body))
            i += 1
    return out


def mutate(rng, sql):
    toks = TOKEN.findall(sql)
    literals = [i for i, t in enumerate(toks) if t[0] in "'0123456789"]
    if literals and rng.random() < 0.5:
        # keep the statement well-formed, swap a literal for a troublesome one
        toks[rng.choice(literals)] = rng.choice(TROUBLE[:20])
        return " ".join(toks)
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.randrange(6)
        pos = rng.randrange(len(toks) + 1)
        if op == 0 and toks:
            del toks[min(pos, len(toks) - 1)]
        elif op == 1 and toks:
            toks.insert(pos, toks[min(pos, len(toks) - 1)])
        elif op == 2 and len(toks) > 1:
            j = rng.randrange(len(toks))
            k = rng.randrange(len(toks))
            toks[j], toks[k] = toks[k], toks[j]
        elif op == 3 and toks:
            toks = toks[:max(1, pos)]
        else:
            toks.insert(pos, rng.choice(TROUBLE))
    return " ".join(toks)


class Failure(Exception):
    pass


def run(args):
    rng = random.Random(args.seed)
    stmts = corpus()
    tmp = tempfile.mkdtemp(prefix="ripple-fuzz-")
    # a runaway WITH RECURSIVE stops at the round limit; a low one keeps
    # such statements well under the statement timeout
    server = Server(os.path.abspath(args.ripple_bin), args.workers,
                    os.path.join(tmp, "data"), os.path.join(tmp, "ripple.log"),
                    ["--max-recursion-rounds", "500"])
    server.start()
    timeout_ms = int(args.stmt_timeout * 1000)

    def simple():
        c = psycopg2.connect(host="127.0.0.1", port=server.port, user="ripple", dbname="ripple",
                             connect_timeout=5, options=f"-c statement_timeout={timeout_ms}")
        c.autocommit = True
        return c

    def extended():
        return psycopg.connect(host="127.0.0.1", port=server.port, user="ripple",
                               dbname="ripple", autocommit=True, connect_timeout=5)

    s, x = simple(), extended()
    for sql in SETUP:
        s.cursor().execute(sql)
    deadline = time.monotonic() + args.seconds
    n = 0
    outcomes = {}
    recent = []
    try:
        while time.monotonic() < deadline:
            sql = mutate(rng, rng.choice(stmts))
            recent = (recent + [sql])[-5:]
            use_extended = rng.random() < 0.4
            if args.log:
                args.log.write(f"{'x' if use_extended else 's'} {sql!r}\n")
                args.log.flush()
            started = time.monotonic()
            try:
                if use_extended:
                    nparams = sql.count("%s")
                    params = [rng.choice(PARAMS) for _ in range(nparams)]
                    x.execute(sql.replace("%", "%%").replace("%%s", "%s"), params or None,
                              prepare=rng.random() < 0.5)
                else:
                    s.cursor().execute(sql)
                outcomes["ok"] = outcomes.get("ok", 0) + 1
            except (psycopg2.OperationalError, psycopg2.InterfaceError,
                    psycopg.OperationalError, psycopg.InterfaceError) as e:
                if server.proc.poll() is not None:
                    raise Failure(f"server exited ({server.proc.returncode}) on:\n{sql}\n"
                                  f"{server.log_tail()}") from None
                if use_extended and x.closed or not use_extended and s.closed:
                    raise Failure(f"connection broke on:\n{sql}\n{e}") from None
            except (psycopg2.Error, psycopg.Error) as e:
                # an error answer is fine; count them by SQLSTATE
                code = getattr(e, "pgcode", None) or getattr(e, "sqlstate", None) or "client"
                outcomes[code] = outcomes.get(code, 0) + 1
            except (ValueError, TypeError, OverflowError):
                outcomes["client"] = outcomes.get("client", 0) + 1
            elapsed = time.monotonic() - started
            if elapsed > args.stmt_timeout:
                before = "\n".join(recent[:-1])
                raise Failure(f"statement took {elapsed:.1f} s:\n{sql}\nafter:\n{before}")
            if s.closed:
                s = simple()
            elif s.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                s.cursor().execute("ROLLBACK")
            if x.closed or x.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                x.close()
                x = extended()
            n += 1
        # the server must still answer normally
        cur = s.cursor()
        cur.execute("SELECT 1")
        if cur.fetchall() != [(1,)]:
            raise Failure("SELECT 1 gave a wrong answer after fuzzing")
    finally:
        try:
            server.stop(signal.SIGTERM)
        except CheckFailed as e:
            # a slow shutdown is a failure too, but not one to hide another
            if sys.exc_info()[0] is None:
                raise Failure(str(e)) from None
            print(f"sqlfuzz: also: {e}", file=sys.stderr)
    top = sorted(outcomes.items(), key=lambda kv: -kv[1])[:8]
    print("sqlfuzz: outcomes " + ", ".join(f"{k} {v}" for k, v in top))
    return n, tmp


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--stmt-timeout", type=float, default=20.0)
    p.add_argument("--log", type=argparse.FileType("w"), help="write every statement here")
    args = p.parse_args()
    try:
        n, tmp = run(args)
    except (Failure, CheckFailed) as e:
        print(f"sqlfuzz: FAILED with --seed {args.seed}\n{e}", file=sys.stderr)
        return 1
    print(f"sqlfuzz: {n} statements, no crash or hang (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
