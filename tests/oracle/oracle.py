#!/usr/bin/env python3
"""Differential oracle: Ripple's materialized views against PostgreSQL.

Creates the same tables in a real `ripple` and in a fresh PostgreSQL
database, keeps every query of QUERIES as a materialized view in Ripple, and
then applies random batches of INSERT / UPDATE / DELETE to both (each batch
one transaction: NULLs, duplicate rows, deletes of a column's current min or
max, deletes of a whole group, emptying a table, updates of join keys).
After every batch it compares, as multisets, each view's contents and the
same query asked ad hoc in Ripple with PostgreSQL's answer.

Usage:
  python3 tests/oracle/oracle.py --ripple-bin target/debug/ripple \
      [--rounds 20] [--seed N] [--workers 2] [--pg-port 54329]

A failure prints the seed, the round, the batch, the query and the rows that
differ. Long local runs: --rounds 500 with a few seeds.
"""

import argparse
import os
import random
import signal
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients"))
from test_psycopg import CheckFailed, Server  # noqa: E402

SCHEMA = [
    "CREATE TABLE t1 (a int, b int, c text, d numeric(8,2))",
    "CREATE TABLE t2 (a int, e int, f text)",
    "CREATE TABLE t3 (k int NOT NULL, v bigint, w boolean)",
]

# Queries Ripple keeps as materialized views. Each must be deterministic as
# a multiset (Top-K orders by enough columns to be total).
QUERIES = [
    # scans, filters, expressions
    "SELECT a, b, c, d FROM t1",
    "SELECT a, b FROM t1 WHERE b > 2 AND c IS NOT NULL",
    "SELECT a + b AS s, b * 2 - 1 AS m, c || '!' AS x FROM t1 WHERE a IS NULL OR b < 5",
    "SELECT CASE WHEN b > 3 THEN 'hi' WHEN b IS NULL THEN 'none' ELSE 'lo' END AS k, coalesce(c, '?') FROM t1",
    "SELECT a, nullif(b, 0), d * 2 FROM t1 WHERE c LIKE '%x%' OR c = ''",
    "SELECT lpad(c, 4, '*'), strpos(c, 'x'), left(c, 1), repeat(c, 2), split_part(c || '-' || c, '-', 2) FROM t1",
    "SELECT k, date_trunc('month', make_date(2024, k + 1, 1)), extract(doy from make_date(2024, 1, k + 1)) FROM t3",
    "SELECT a, b FROM t1 WHERE b BETWEEN 1 AND 4 AND a IN (1, 2, 3)",
    # aggregates
    "SELECT count(*) AS n, count(b) AS nb, sum(b) AS s, min(b) AS lo, max(b) AS hi FROM t1",
    "SELECT a, count(*), sum(b), min(c), max(c) FROM t1 GROUP BY a",
    "SELECT a, avg(b) AS av, sum(d) AS sd FROM t1 GROUP BY a",
    "SELECT c, count(DISTINCT a) AS da, count(DISTINCT b) AS db FROM t1 GROUP BY c",
    "SELECT a, sum(b) FROM t1 GROUP BY a HAVING count(*) > 1",
    "SELECT a, max(b) - min(b) AS spread FROM t1 WHERE b IS NOT NULL GROUP BY a HAVING max(b) > 2",
    "SELECT b % 3 AS r, count(*) FROM t1 GROUP BY b % 3",
    "SELECT k, bool_and(w) AS all_w, bool_or(w) AS any_w, sum(v) FROM t3 GROUP BY k",
    "SELECT min(d), max(d), sum(d), avg(d) FROM t1",
    "SELECT count(*) FROM t2",
    # distinct
    "SELECT DISTINCT a FROM t1",
    "SELECT DISTINCT a, c FROM t1 WHERE b IS NOT NULL",
    # joins
    "SELECT t1.a, t1.b, t2.e FROM t1 JOIN t2 ON t1.a = t2.a",
    "SELECT t1.a, t1.b, t2.e, t2.f FROM t1 LEFT JOIN t2 ON t1.a = t2.a",
    "SELECT t1.b, t2.a, t2.e FROM t1 RIGHT JOIN t2 ON t1.a = t2.a",
    "SELECT t1.a AS a1, t2.a AS a2, t1.c, t2.f FROM t1 FULL JOIN t2 ON t1.a = t2.a",
    "SELECT t1.a, t2.e FROM t1 JOIN t2 ON t1.a = t2.a AND t1.b < t2.e",
    "SELECT t1.a, t2.e FROM t1 LEFT JOIN t2 ON t1.a = t2.a AND t2.e > 2",
    "SELECT x.a, x.b, y.b AS b2 FROM t1 x JOIN t1 y ON x.a = y.a AND x.b < y.b",
    "SELECT t1.a, count(*) FROM t1 CROSS JOIN t3 WHERE t3.k = 1 GROUP BY t1.a",
    "SELECT t1.a, t3.v FROM t1, t3 WHERE t1.a = t3.k AND t3.w",
    "SELECT x.c, y.f, z.v FROM t1 x, t2 y, t3 z WHERE x.a = y.a AND y.e = z.k",
    "SELECT t1.c, t2.f, t3.v FROM t1 JOIN t2 ON t1.a = t2.a JOIN t3 ON t2.e = t3.k",
    "SELECT t2.a, count(t1.b) AS n, sum(t1.b) AS s FROM t2 LEFT JOIN t1 ON t1.a = t2.a GROUP BY t2.a",
    "SELECT coalesce(t1.a, t2.a) AS a, count(*) FROM t1 FULL JOIN t2 ON t1.a = t2.a GROUP BY coalesce(t1.a, t2.a)",
    "SELECT t1.a FROM t1 JOIN t2 USING (a) WHERE t2.f IS NULL",
    # set operations
    "SELECT a FROM t1 UNION SELECT a FROM t2",
    "SELECT a, c FROM t1 UNION ALL SELECT a, f FROM t2",
    "SELECT a FROM t1 EXCEPT SELECT a FROM t2",
    "SELECT a FROM t1 INTERSECT SELECT a FROM t2",
    "SELECT a FROM t1 INTERSECT ALL SELECT a FROM t2",
    "SELECT a, c FROM t1 EXCEPT ALL SELECT a, f FROM t2",
    # DISTINCT ON (a per-group top 1)
    "SELECT DISTINCT ON (a) a, b, c FROM t1 ORDER BY a, b DESC, c",
    "SELECT DISTINCT ON (k) k, v FROM t3 ORDER BY k, v NULLS FIRST",
    # subqueries in FROM and CTEs
    "SELECT s.a, s.n FROM (SELECT a, count(*) AS n FROM t1 GROUP BY a) s WHERE s.n >= 2",
    "WITH g AS (SELECT a, sum(b) AS sb FROM t1 GROUP BY a) SELECT g.a, g.sb, t2.e FROM g JOIN t2 ON g.a = t2.a",
    "WITH m AS (SELECT max(b) AS mb FROM t1) SELECT t1.a, t1.b FROM t1 JOIN m ON t1.b = m.mb",
    # subqueries: [NOT] EXISTS, [NOT] IN, scalar; correlated and not
    "SELECT a, b FROM t1 WHERE a IN (SELECT a FROM t2)",
    "SELECT a, b FROM t1 WHERE a NOT IN (SELECT a FROM t2)",
    "SELECT a, c FROM t1 WHERE b NOT IN (SELECT e FROM t2 WHERE e IS NOT NULL)",
    "SELECT a, b FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a AND t2.e > t1.b)",
    "SELECT a, b, c FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a)",
    "SELECT a, b FROM t1 WHERE b > (SELECT avg(e) FROM t2 WHERE t2.a = t1.a)",
    "SELECT a, b, (SELECT count(*) FROM t2 WHERE t2.a = t1.a) AS n FROM t1",
    "SELECT k, (SELECT max(b) FROM t1 WHERE t1.a = t3.k) AS mb, EXISTS (SELECT 1 FROM t2 WHERE t2.e = t3.k) AS ex FROM t3",
    "SELECT a FROM t2 WHERE e = (SELECT max(b) FROM t1) OR f IS NULL",
    "SELECT count(*) FROM t1 WHERE a IN (SELECT k FROM t3 WHERE w)",
    "SELECT a, b, b IN (SELECT e FROM t2 WHERE t2.a = t1.a) AS hit, b NOT IN (SELECT e FROM t2) AS miss FROM t1",
    "SELECT a FROM t1 WHERE c IN (SELECT f FROM t2) OR b > 8",
    # LATERAL (per-row top-k and per-row aggregates)
    "SELECT t3.k, x.b FROM t3, LATERAL (SELECT b FROM t1 WHERE t1.a = t3.k AND b IS NOT NULL ORDER BY b DESC LIMIT 2) x",
    "SELECT t2.a, t2.e, s.n FROM t2 LEFT JOIN LATERAL (SELECT count(*) AS n FROM t1 WHERE t1.b > t2.e) s ON true",
    # combinations
    "SELECT g.a, g.n, t2.f FROM (SELECT a, count(*) AS n FROM t1 WHERE b IS NOT NULL GROUP BY a HAVING count(*) > 1) g LEFT JOIN t2 ON g.a = t2.a",
    "SELECT u.a, count(*) FROM (SELECT a FROM t1 UNION ALL SELECT a FROM t2 UNION ALL SELECT k FROM t3) u GROUP BY u.a",
    "SELECT CASE WHEN b < 0 THEN 'neg' WHEN b < 5 THEN 'small' ELSE 'big' END AS bucket, count(*), sum(d) FROM t1 GROUP BY 1",
    "SELECT a, min(c), max(c), count(DISTINCT c) FROM t1 WHERE c <> '' GROUP BY a HAVING min(c) < 'z'",
    "SELECT t1.a, t1.b FROM t1 WHERE t1.b = (SELECT min(b) FROM t1 x WHERE x.a = t1.a)",
    "SELECT t1.a, t1.b FROM t1, (SELECT max(b) AS m FROM t1) mx WHERE t1.b >= mx.m - 1",
    "SELECT s.a, s.b FROM (SELECT a, b FROM t1 WHERE b IS NOT NULL AND a IS NOT NULL ORDER BY b DESC, a LIMIT 4) s WHERE s.a > 1",
    "SELECT a, b FROM t1 WHERE EXISTS (SELECT 1 FROM t3 WHERE t3.k = t1.a AND t3.v > 1) AND NOT EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a AND t2.f = t1.c)",
    "SELECT k, count(*) FROM t3 WHERE k IN (SELECT a FROM t1 WHERE b > 2) GROUP BY k",
    "SELECT x.k, y.k AS k2 FROM t3 x JOIN t3 y ON x.v = y.v AND x.k < y.k",
    "SELECT a, b, coalesce(c, 'none') FROM t1 WHERE a IS NOT NULL AND b IS NOT NULL",
    "SELECT t2.f, sum(t1.d) FROM t2 JOIN t1 ON t1.a = t2.a WHERE t1.d > 0 GROUP BY t2.f",
    "SELECT DISTINCT t1.c FROM t1 LEFT JOIN t2 ON t1.c = t2.f WHERE t2.f IS NULL",
    "SELECT a, b FROM t1 EXCEPT SELECT a, e FROM t2",
    "SELECT a, b FROM t1 INTERSECT SELECT a, e FROM t2",
    "WITH x AS (SELECT a, b FROM t1 WHERE b > 0), y AS (SELECT a, count(*) AS n FROM x GROUP BY a) SELECT x.a, x.b, y.n FROM x JOIN y ON x.a = y.a",
    "SELECT a, sum(CASE WHEN b > 2 THEN b ELSE 0 END) AS s FROM t1 GROUP BY a",
    "SELECT k, v, (SELECT count(*) FROM t3 x WHERE x.k = t3.k AND x.v < t3.v) AS rank_below FROM t3",
    "SELECT a, (SELECT max(e) FROM t2 WHERE t2.a = t1.a) - b AS gap FROM t1 WHERE a IS NOT NULL",
    "SELECT c, length(c), upper(c) || lower(c) AS ul, substr(c, 1, 1) FROM t1 WHERE c IS NOT NULL",
    "SELECT a, b / 2 AS half, b % 3 AS m3, -b AS neg, abs(b) AS ab, round(d, 1) AS r FROM t1",
    "SELECT a, avg(d), sum(d) / count(d) AS q FROM t1 GROUP BY a HAVING count(d) > 0",
    "SELECT DISTINCT ON (c) c, a, b FROM t1 WHERE c IS NOT NULL ORDER BY c, a NULLS FIRST, b NULLS FIRST",
    "SELECT t1.a AS a1, t2.a AS a2 FROM t1 FULL JOIN t2 ON t1.a = t2.a AND t1.b = t2.e",
    "SELECT count(*) FROM t1 WHERE b NOT IN (SELECT v FROM t3)",
    "SELECT a, count(*) FROM t1 GROUP BY a HAVING sum(b) > 3 OR count(*) = 1",
    # WITH RECURSIVE: t2 as a graph a -> e (cycles, duplicate edges, NULLs)
    "WITH RECURSIVE r(x, y) AS (SELECT a, e FROM t2 WHERE e IS NOT NULL UNION SELECT r.x, t2.e FROM r JOIN t2 ON r.y = t2.a WHERE t2.e IS NOT NULL) SELECT x, y FROM r",
    "WITH RECURSIVE p(x, y, depth) AS (SELECT a, e, 1 FROM t2 UNION ALL SELECT p.x, t2.e, p.depth + 1 FROM p JOIN t2 ON p.y = t2.a WHERE p.depth < 3) SELECT x, y, depth FROM p",
    "WITH RECURSIVE r(x) AS (SELECT k FROM t3 WHERE w UNION SELECT t1.b FROM r JOIN t1 ON t1.a = r.x) SELECT x FROM r",
    "WITH RECURSIVE c(k, n) AS (SELECT k, 0 FROM t3 UNION ALL SELECT k, n + 1 FROM c WHERE n < k) SELECT k, count(*), sum(n) FROM c GROUP BY k",
    "WITH RECURSIVE r(x, y) AS (SELECT a, e FROM t2 UNION SELECT r.x, t2.e FROM r JOIN t2 ON r.y = t2.a) SELECT x, count(*) FROM r GROUP BY x",
    # string_agg, variance, stddev
    "SELECT a, string_agg(c, ',' ORDER BY c, b) AS s1, string_agg(DISTINCT c, '|' ORDER BY c) AS s2 FROM t1 GROUP BY a",
    "SELECT a, variance(b), stddev_pop(b), var_pop(d), stddev(d) FROM t1 GROUP BY a",
    "SELECT string_agg(f, '-' ORDER BY e DESC NULLS FIRST, f), var_samp(e) FROM t2",
    # regular expressions and date/time functions
    "SELECT a, c, regexp_replace(c, 'x', 'Y', 'g') AS r, concat_ws('/', a, b, c) AS cw FROM t1 WHERE c ~ '^x+$' OR c !~* 'X'",
    "SELECT k, date_bin('2 days', make_date(2024, 1, k + 1)::timestamp, '2024-01-01') AS bin, age(make_date(2024, k + 1, 15)::timestamp, '2023-12-31') AS ag, to_char(make_date(2024, k + 1, k + 1), 'FMMonth DD, Dy') AS ch FROM t3",
    "SELECT mod(b, 3) AS m, count(*) FROM t1 GROUP BY mod(b, 3)",
    # jsonb built from the columns
    "SELECT a, jsonb_agg(b ORDER BY b, c, d) AS bs, jsonb_build_object('n', count(*), 'c', max(c)) AS o FROM t1 GROUP BY a",
    "SELECT j ->> 'c' AS c, count(*) FROM (SELECT jsonb_build_object('a', a, 'c', c) AS j FROM t1) s WHERE j @> '{\"a\": 1}' OR j ? 'z' OR (j ->> 'a')::int > 3 GROUP BY 1",
    "SELECT k, e.value, jsonb_typeof(e.value) AS t FROM t3, jsonb_array_elements(jsonb_build_array(k, v, w)) e",
    # subqueries over grouped rows
    "SELECT a, sum(b) AS s, (SELECT count(*) FROM t2 WHERE t2.a = t1.a) AS n2 FROM t1 GROUP BY a",
    "SELECT a, count(*) FROM t1 GROUP BY a HAVING count(*) > (SELECT count(*) FROM t2 WHERE t2.a = t1.a)",
    "SELECT k, EXISTS (SELECT 1 FROM t1 WHERE t1.a = t3.k AND t1.b > 5) AS big, max(v) FROM t3 GROUP BY k",
    # more joins
    "SELECT x.a, y.e, z.v FROM t1 x LEFT JOIN t2 y ON x.a = y.a LEFT JOIN t3 z ON y.e = z.k",
    "SELECT t1.a, t1.b, t2.e FROM t1 JOIN t2 ON t1.a + 1 = t2.a AND t1.b <> t2.e",
    "SELECT t1.a AS l, t2.a AS r FROM t1 JOIN t2 ON t1.a IS NOT DISTINCT FROM t2.a WHERE t1.b > 5",
    "SELECT coalesce(x.c, y.f) AS s, count(x.a) AS nx, count(y.a) AS ny FROM t1 x FULL JOIN t2 y ON x.c = y.f GROUP BY coalesce(x.c, y.f)",
    "SELECT p.a, p.b, q.b AS b2 FROM t1 p LEFT JOIN t1 q ON p.a = q.a AND q.b > p.b AND q.c = p.c",
    "SELECT t2.a, t3.k FROM t2 RIGHT JOIN t3 ON t2.e = t3.k AND t3.w WHERE t2.a IS NULL OR t2.a > 2",
    # more subqueries
    "SELECT a, b FROM t1 WHERE b >= ALL (SELECT e FROM t2 WHERE e IS NOT NULL AND t2.a = t1.a)",
    "SELECT a, b FROM t1 WHERE b = ANY (SELECT e FROM t2) AND a NOT IN (SELECT k FROM t3 WHERE NOT w)",
    "SELECT k, v FROM t3 WHERE v > (SELECT count(*) FROM t1) OR EXISTS (SELECT 1 FROM t2 WHERE t2.e = t3.k AND t2.f IS NOT NULL)",
    "SELECT a, c FROM t1 WHERE (a, c) IN (SELECT a, f FROM t2)",
    "SELECT t2.a, (SELECT max(b) FROM t1 WHERE t1.a = t2.a AND t1.c = t2.f) AS m FROM t2",
    "SELECT a, b, b NOT IN (SELECT e FROM t2 WHERE t2.a = t1.a) AS ni FROM t1",
    # more aggregates
    "SELECT b % 2 AS par, count(DISTINCT a) AS da, count(DISTINCT c) AS dc, sum(DISTINCT b) AS sb FROM t1 GROUP BY 1",
    "SELECT count(*), sum(b), avg(d), bool_and(b > 0) AS ba, bool_or(c = 'x') AS bo FROM t1 WHERE a > 100",
    "SELECT a FROM t1 GROUP BY a HAVING max(d) > 1 AND min(c) IS NOT NULL",
    "SELECT c, a, count(*) FROM t1 GROUP BY c, a HAVING count(*) >= 1",
    "SELECT w, min(v), max(v), count(v), avg(v) FROM t3 GROUP BY w",
    "SELECT a, count(*) FILTER (WHERE b > 2) AS big, sum(d) FILTER (WHERE c IS NOT NULL) AS sd, max(b) FILTER (WHERE c <> 'x') AS mb FROM t1 GROUP BY a",
    # more top-k and distinct
    "SELECT c, b FROM t1 WHERE c IS NOT NULL AND b IS NOT NULL ORDER BY c DESC, b LIMIT 3 OFFSET 2",
    "SELECT DISTINCT ON (w) w, k, v FROM t3 ORDER BY w, v DESC NULLS LAST, k",
    "SELECT * FROM (SELECT a, b, d FROM t1 WHERE d IS NOT NULL AND a IS NOT NULL AND b IS NOT NULL ORDER BY d DESC, a, b LIMIT 5) s WHERE b > 0",
    # more set operations and CTEs
    "SELECT a FROM t1 UNION ALL SELECT a FROM t2 EXCEPT SELECT k FROM t3",
    "SELECT c FROM t1 INTERSECT ALL SELECT f FROM t2",
    "(SELECT a, b FROM t1 EXCEPT ALL SELECT a, e FROM t2) UNION SELECT k, k FROM t3",
    "WITH a AS (SELECT a, b FROM t1 WHERE b IS NOT NULL), b AS (SELECT a, max(b) AS m FROM a GROUP BY a), c AS (SELECT a.a, a.b FROM a JOIN b ON a.a = b.a AND a.b = b.m) SELECT * FROM c",
    # scalar expressions
    "SELECT a, greatest(a, b, 3) AS g, least(b, d) AS l, nullif(c, 'x') AS n, a IS DISTINCT FROM b AS dist FROM t1",
    "SELECT b / 3 AS q, b::numeric / 3 AS nq, round(d / 3, 2) AS r, ceil(d) AS c, floor(d) AS f, abs(d - 1) AS ab FROM t1 WHERE b IS NOT NULL",
    "SELECT c, position('x' IN c) AS p, replace(c, 'x', 'ab') AS r, trim(both 'x' FROM c) AS t, upper(c) LIKE 'X%' AS lk, c ILIKE '%Y%' AS ilk FROM t1",
    "SELECT k, CASE WHEN w THEN v ELSE -v END AS sv, v::text || '/' || k AS s, (v % 7)::int AS m FROM t3",
    "SELECT a, b FROM t1 WHERE b BETWEEN a AND 6 OR c IN ('x', 'zz', '')",
    # combinations of the above
    "WITH RECURSIVE r(n, s) AS (SELECT k, v FROM t3 WHERE v IS NOT NULL UNION SELECT n + 1, s FROM r WHERE n < 3) SELECT n, count(*) FROM r GROUP BY n",
    "SELECT a, b, sum(b) OVER w AS s, avg(b) OVER w AS av FROM t1 WINDOW w AS (PARTITION BY c ORDER BY a, b, d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 FOLLOWING)",
    "SELECT x.a, y.cnt FROM (SELECT DISTINCT a FROM t1) x LEFT JOIN LATERAL (SELECT count(*) AS cnt FROM t2 WHERE t2.a = x.a AND t2.e > 0) y ON true",
    "SELECT k, v FROM t3 WHERE k IN (SELECT a FROM t1 UNION SELECT a FROM t2) AND v < ALL (SELECT e * 1000 FROM t2 WHERE e > 0)",
    # subqueries reading a query two levels out
    "SELECT k, v FROM t3 WHERE EXISTS (SELECT 1 FROM t1 WHERE t1.a = t3.k AND t1.b > (SELECT min(e) FROM t2 WHERE t2.a = t3.k))",
    "SELECT a, (SELECT count(*) FROM t2 WHERE t2.a = t1.a AND t2.e IN (SELECT b FROM t1 x WHERE x.c = t1.c)) AS n FROM t1",
    # arrays
    "SELECT a, array_agg(b ORDER BY b, c, d) AS bs, array_agg(DISTINCT c ORDER BY c) AS cs FROM t1 GROUP BY a",
    "SELECT s.a, u.x FROM (SELECT a, array_agg(e ORDER BY e) AS es FROM t2 GROUP BY a) s, unnest(s.es) AS u(x) WHERE u.x IS NOT NULL",
    "SELECT k, v FROM t3 WHERE k = ANY (ARRAY[1, 3, 4]) OR v > ALL (ARRAY[1, 2])",
    # table functions
    "SELECT k, g FROM t3, generate_series(0, k) g WHERE g < 3",
    "SELECT t1.a, count(*), sum(g) FROM t1, generate_series(1, t1.b) g GROUP BY t1.a",
    # window functions (orders total up to identical rows, so ties cannot differ)
    "SELECT a, b, c, row_number() OVER (PARTITION BY a ORDER BY b, c, d) FROM t1",
    "SELECT a, b, rank() OVER (PARTITION BY a ORDER BY b), dense_rank() OVER (PARTITION BY a ORDER BY b DESC) FROM t1",
    "SELECT a, b, sum(b) OVER (PARTITION BY a ORDER BY b), count(*) OVER (PARTITION BY a), max(d) OVER (PARTITION BY a ORDER BY b) FROM t1",
    # (t3 may hold identical rows: calls over different windows would pair
    # their copies arbitrarily, in PostgreSQL too)
    "SELECT k, v, w, lag(v) OVER (ORDER BY k, v, w), lead(k, 1, -1) OVER (ORDER BY k, v, w) FROM t3",
    "SELECT DISTINCT k, v, lead(k, 2) OVER (PARTITION BY w ORDER BY k, v) FROM (SELECT DISTINCT k, v, w FROM t3) d",
    "SELECT a, b, c FROM (SELECT a, b, c, row_number() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST, c, d) AS rn FROM t1) s WHERE rn <= 2",
    "SELECT a, b, first_value(c) OVER (PARTITION BY a ORDER BY b, c, d), last_value(b) OVER (PARTITION BY a ORDER BY b) FROM t1",
    "SELECT a, sum(b), rank() OVER (ORDER BY sum(b) DESC NULLS LAST) FROM t1 GROUP BY a",
    "SELECT k, v, ntile(2) OVER (ORDER BY k, v, w), cume_dist() OVER (PARTITION BY k ORDER BY v), percent_rank() OVER (ORDER BY k) FROM t3",
    "SELECT a, b, sum(b) OVER (PARTITION BY a ORDER BY b, c, d ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t1",
    "SELECT c, d, avg(d) OVER (PARTITION BY c), min(d) OVER () FROM t1",
    "SELECT k, n FROM (SELECT k, count(*) AS n, row_number() OVER (ORDER BY count(*) DESC, k) AS r FROM t3 GROUP BY k) s WHERE r < 3",
    # top-k
    "SELECT a, b FROM t1 WHERE b IS NOT NULL AND a IS NOT NULL ORDER BY b DESC, a LIMIT 3",
    "SELECT k, v FROM t3 WHERE v IS NOT NULL ORDER BY v, k LIMIT 2 OFFSET 1",
]

A_VALUES = [0, 1, 2, 3, 4, 5, None]
B_VALUES = list(range(-3, 11)) + [None]
C_VALUES = ["x", "y", "z", "xx", "", None]
D_VALUES = [Decimal("0.00"), Decimal("1.50"), Decimal("-2.25"), Decimal("100"), Decimal("0.1"), None]


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def row_t1(rng):
    return f"({lit(rng.choice(A_VALUES))}, {lit(rng.choice(B_VALUES))}, " \
           f"{lit(rng.choice(C_VALUES))}, {lit(rng.choice(D_VALUES))})"


def row_t2(rng):
    return f"({lit(rng.choice(A_VALUES))}, {lit(rng.choice(B_VALUES))}, {lit(rng.choice(C_VALUES))})"


def row_t3(rng):
    return f"({rng.randint(0, 4)}, {lit(rng.choice([None, 1, 2, -5, 10**12]))}, " \
           f"{lit(rng.choice([True, False, None]))})"


def batch(rng, pg_cur):
    """One random transaction's statements, chosen against PostgreSQL's current state."""
    out = []
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(12)
        if op <= 2:
            n = rng.randint(1, 5)
            rows = [row_t1(rng) for _ in range(n)]
            if rng.random() < 0.3:
                rows += rows[:1]  # a duplicate row
            out.append(f"INSERT INTO t1 VALUES {', '.join(rows)}")
        elif op == 3:
            out.append(f"INSERT INTO t2 VALUES {', '.join(row_t2(rng) for _ in range(rng.randint(1, 3)))}")
        elif op == 4:
            out.append(f"INSERT INTO t3 VALUES {', '.join(row_t3(rng) for _ in range(rng.randint(1, 3)))}")
        elif op == 5:
            # delete the current min or max of a column
            col, fn = rng.choice([("b", "max"), ("b", "min"), ("d", "max"), ("d", "min")])
            pg_cur.execute(f"SELECT {fn}({col}) FROM t1")
            v = pg_cur.fetchone()[0]
            if v is not None:
                out.append(f"DELETE FROM t1 WHERE {col} = {lit(v)}")
        elif op == 6:
            a = rng.choice(A_VALUES)
            cond = "a IS NULL" if a is None else f"a = {a}"
            out.append(f"DELETE FROM t1 WHERE {cond}")  # a whole group
        elif op == 7:
            out.append(f"UPDATE t1 SET b = b + {rng.randint(-2, 2)} WHERE a = {rng.choice(A_VALUES[:-1])}")
        elif op == 8:
            out.append(f"UPDATE t1 SET c = {lit(rng.choice(C_VALUES))}, d = {lit(rng.choice(D_VALUES))} "
                       f"WHERE b < {rng.randint(-2, 8)}")
        elif op == 9:
            out.append(f"UPDATE t2 SET a = {lit(rng.choice(A_VALUES))} WHERE e > {rng.randint(-3, 9)}")
        elif op == 10:
            if rng.random() < 0.3:
                out.append(rng.choice(["DELETE FROM t2", "DELETE FROM t3"]))  # empty a table
            else:
                out.append(f"DELETE FROM t2 WHERE a = {rng.choice(A_VALUES[:-1])}")
        else:
            out.append(f"UPDATE t3 SET v = v * 2, w = NOT w WHERE k = {rng.randint(0, 4)}")
    return out


def canon(rows):
    """A multiset of rows; Decimals keep their scale, floats their repr."""
    return Counter(tuple(str(v) if isinstance(v, Decimal) else repr(v) for v in r) for r in rows)


def fetch(cur, sql):
    cur.execute(sql)
    return canon(cur.fetchall())


def describe_diff(want, got):
    missing = want - got
    extra = got - want
    lines = []
    for r, n in sorted(missing.items())[:10]:
        lines.append(f"    missing x{n}: {r}")
    for r, n in sorted(extra.items())[:10]:
        lines.append(f"    extra   x{n}: {r}")
    return "\n".join(lines)


def connect_pg(port, dbname):
    c = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname, connect_timeout=5)
    c.autocommit = True
    return c


def run(args):
    rng = random.Random(args.seed)
    admin = connect_pg(args.pg_port, "postgres")
    admin.cursor().execute("DROP DATABASE IF EXISTS ripple_oracle")
    admin.cursor().execute("CREATE DATABASE ripple_oracle")
    pg = connect_pg(args.pg_port, "ripple_oracle")
    tmp = tempfile.mkdtemp(prefix="ripple-oracle-")
    server = Server(os.path.abspath(args.ripple_bin), args.workers,
                    os.path.join(tmp, "data"), os.path.join(tmp, "ripple.log"))
    server.start()
    try:
        rip = server.connect(autocommit=True)
        rc, pc = rip.cursor(), pg.cursor()
        for stmt in SCHEMA:
            rc.execute(stmt)
            pc.execute(stmt)
        for i, q in enumerate(QUERIES):
            try:
                rc.execute(f"CREATE MATERIALIZED VIEW oracle_{i} AS {q}")
            except psycopg2.Error as e:
                raise CheckFailed(f"query {i} cannot be a view in Ripple: {q}\n  {e}") from None
        for rnd in range(1, args.rounds + 1):
            stmts = batch(rng, pc)
            for conn, cur in ((rip, rc), (pg, pc)):
                cur.execute("BEGIN")
                for s in stmts:
                    cur.execute(s)
                cur.execute("COMMIT")
            for i, q in enumerate(QUERIES):
                want = fetch(pc, q)
                for what, sql in (("view", f"SELECT * FROM oracle_{i}"), ("ad hoc", q)):
                    got = fetch(rc, sql)
                    if got != want:
                        if what == "view":
                            adhoc_ok = fetch(rc, q) == want
                            what += " (the same query ad hoc " + ("agrees" if adhoc_ok else "differs too") + ")"
                        raise CheckFailed(
                            f"round {rnd}, seed {args.seed}: {what} differs from PostgreSQL\n"
                            f"  query: {q}\n  batch:\n    " + ";\n    ".join(stmts) + "\n"
                            + describe_diff(want, got))
        return len(QUERIES)
    finally:
        if args.keep:
            print(f"oracle: ripple left running on port {server.port}, data in {tmp}", file=sys.stderr)
        else:
            server.stop(signal.SIGTERM)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGTEST_PORT", "54329")))
    p.add_argument("--keep", action="store_true", help="leave ripple running after the run")
    p.add_argument("--query", help="only the queries containing this text (to narrow a failure)")
    args = p.parse_args()
    if args.query:
        QUERIES[:] = [q for q in QUERIES if args.query in q]
    try:
        n = run(args)
    except (CheckFailed, psycopg2.Error) as e:
        print(f"oracle: FAILED (seed {args.seed})\n{e}", file=sys.stderr)
        return 1
    print(f"oracle: {n} views and ad hoc queries equal PostgreSQL's answers "
          f"after each of {args.rounds} batches (seed {args.seed}, workers {args.workers})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
