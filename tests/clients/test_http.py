#!/usr/bin/env python3
"""The HTTP API against a real `ripple`: POST /api/sql (JSON in, JSON rows
out, SQLSTATEs in errors), the SUBSCRIBE WebSocket (changes made over the
PostgreSQL protocol arrive as JSON), and webhook sources (typed columns
checked, bad bodies refused with a 4xx and nothing written).

Usage:
  python3 tests/clients/test_http.py --ripple-bin target/debug/ripple [--workers N]
"""

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ripple_server import CheckFailed, Checks, Server, check, free_port  # noqa: E402


class Ctx:
    def __init__(self, server, http_port):
        self.server = server
        self.base = f"http://127.0.0.1:{http_port}"
        self.ws = f"ws://127.0.0.1:{http_port}/api/subscribe"

    def pg(self):
        return psycopg.connect(host="127.0.0.1", port=self.server.port, user="ripple",
                               dbname="ripple", autocommit=True)

    def post(self, path, body, raw=False, auth=None):
        data = body.encode() if raw else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        req = urllib.request.Request(self.base + path, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            self.last_headers = e.headers
            return e.code, json.loads(e.read() or b"{}")

    def sql(self, query):
        status, body = self.post("/api/sql", {"query": query})
        check(status == 200, f"{query}: HTTP {status} {body}")
        return body["results"]


def c_sql_endpoint_runs_statements(ctx):
    results = ctx.sql("CREATE TABLE h (id int, name text, price numeric(6,2), tags jsonb);"
                      "INSERT INTO h VALUES (1, 'a', 1.50, '{\"x\": [1, 2]}'), (2, NULL, 2, NULL);"
                      "SELECT id, name, price, tags, id > 1 AS big FROM h ORDER BY id")
    check([r.get("tag") for r in results] == ["CREATE TABLE", "INSERT 0 2", "SELECT 2"],
          f"tags: {results}")
    sel = results[2]
    check([c["name"] for c in sel["columns"]] == ["id", "name", "price", "tags", "big"],
          f"columns: {sel['columns']}")
    check(sel["columns"][0]["type_oid"] == 23, f"int4 oid: {sel['columns'][0]}")
    check(sel["rows"] == [[1, "a", "1.50", {"x": [1, 2]}, False], [2, None, "2.00", None, True]],
          f"rows: {sel['rows']}")
    # an error stops the list and carries its SQLSTATE
    results = ctx.sql("SELECT 1; SELECT 1/0; SELECT 2")
    check(len(results) == 2 and results[1]["error"]["code"] == "22012", f"error: {results}")
    results = ctx.sql("SELECT * FROM nope")
    check(results[0]["error"]["code"] == "42P01", f"missing table: {results}")
    results = ctx.sql("BEGIN")
    check(results[0]["error"]["code"] == "0A000", f"BEGIN over HTTP: {results}")
    status, body = ctx.post("/api/sql", "not json", raw=True)
    check(400 <= status < 500, f"a bad body got HTTP {status}")
    status, body = ctx.post("/api/sql", {"query": "SELEC 1"})
    check(status == 400 and body["results"][0]["error"]["code"] == "42601", f"syntax: {body}")
    # what HTTP wrote, the PostgreSQL protocol reads
    with ctx.pg() as c:
        check(c.execute("SELECT count(*) FROM h").fetchone() == (2,), "HTTP rows not visible over pgwire")


async def ws_follow(ctx, query, want_rows, on_start=None, timeout=20):
    msgs = []
    async with websockets.connect(ctx.ws) as ws:
        await ws.send(json.dumps({"query": query}))
        async with asyncio.timeout(timeout):
            while True:
                m = json.loads(await ws.recv())
                msgs.append(m)
                if m["type"] == "Columns" and on_start:
                    await asyncio.to_thread(on_start)
                if m["type"] in ("Error", "CommandComplete"):
                    break
                if sum(1 for x in msgs if x["type"] == "Row") >= want_rows:
                    break
    return msgs


def c_websocket_streams_a_subscription(ctx):
    with ctx.pg() as c:
        c.execute("CREATE TABLE w (k text, v int)")
        c.execute("INSERT INTO w VALUES ('a', 1)")
        c.execute("CREATE MATERIALIZED VIEW wsum AS SELECT k, sum(v) AS s FROM w GROUP BY k")

    def write():
        with ctx.pg() as c:
            c.execute("INSERT INTO w VALUES ('a', 2), ('b', 5)")

    msgs = asyncio.run(ws_follow(ctx, "SUBSCRIBE wsum", 4, on_start=write))
    check(msgs[0]["type"] == "Columns", f"first message {msgs[0]}")
    check([c["name"] for c in msgs[0]["payload"]] == ["mz_timestamp", "mz_diff", "k", "s"],
          f"columns {msgs[0]}")
    rows = [m["payload"] for m in msgs if m["type"] == "Row"]
    snapshot_ts = rows[0][0]
    check(rows[0][1:] == [1, "a", 1], f"snapshot row {rows[0]}")
    later = sorted(r[1:] for r in rows[1:])
    check(later == [[-1, "a", 1], [1, "a", 3], [1, "b", 5]], f"changes {later}")
    check(all(int(r[0]) > int(snapshot_ts) for r in rows[1:]), "changes not after the snapshot")
    # a plain query over the socket, and an error
    msgs = asyncio.run(ws_follow(ctx, "SELECT count(*) AS n FROM w", 5))
    check([m["type"] for m in msgs] == ["Columns", "Row", "CommandComplete"], f"query: {msgs}")
    check(msgs[1]["payload"] == [3], f"count: {msgs[1]}")
    msgs = asyncio.run(ws_follow(ctx, "SUBSCRIBE nope", 1))
    check(msgs[-1]["type"] == "Error" and msgs[-1]["payload"]["code"] == "42P01", f"error: {msgs}")


def c_webhook_sources_check_their_bodies(ctx):
    with ctx.pg() as c:
        c.execute("CREATE SOURCE orders_in (id int NOT NULL, amount numeric, meta jsonb)"
                  " FROM WEBHOOK")
        c.execute("CREATE SOURCE raw_in FROM WEBHOOK BODY FORMAT JSON")
        c.execute("CREATE MATERIALIZED VIEW order_total AS SELECT count(*) AS n, sum(amount) AS s"
                  " FROM orders_in")
    path = "/api/webhook/ripple/public/orders_in"
    status, body = ctx.post(path, {"id": 1, "amount": 9.5, "meta": {"via": "test"}})
    check((status, body) == (200, {"rows": 1}), f"one object: {status} {body}")
    status, body = ctx.post(path, [{"id": 2, "amount": "0.5"}, {"id": 3}])
    check((status, body) == (200, {"rows": 2}), f"an array: {status} {body}")
    for bad, why in [
        ({"id": "x"}, "a bad integer"),
        ({"amount": 1}, "NULL id"),
        ({"id": 4, "surprise": 1}, "an unknown key"),
        ([{"id": 5}, {"id": "y"}], "one bad element"),
        ("{not json", "not JSON"),
        ([1, 2], "not objects"),
    ]:
        status, body = ctx.post(path, bad, raw=isinstance(bad, str))
        check(status == 400 and "error" in body, f"{why}: HTTP {status} {body}")
    status, body = ctx.post("/api/webhook/ripple/public/nope", {"id": 1})
    check(status == 404, f"unknown source: HTTP {status}")
    status, body = ctx.post("/api/webhook/ripple/public/raw_in", {"anything": [1, {"x": None}]})
    check(status == 200, f"raw body: HTTP {status} {body}")
    with ctx.pg() as c:
        got = c.execute("SELECT n, s FROM order_total").fetchone()
        check(got == (3, 10), f"view over the webhook: {got} (nothing of a refused body may land)")
        row = c.execute("SELECT connector, status, rows, skipped, error FROM"
                        " ripple_catalog.source_status WHERE name = 'orders_in'").fetchone()
        check(row[:4] == ("webhook", "running", 3, 6) and "refused a body" in (row[4] or ""),
              f"the webhook's status counts refused bodies: {row}")
        raw = c.execute("SELECT body FROM raw_in").fetchall()
        check(raw == [({"anything": [1, {"x": None}]},)], f"raw body row: {raw}")
        try:
            c.execute("INSERT INTO orders_in VALUES (9, 1, NULL)")
            raise CheckFailed("INSERT into a webhook source was accepted")
        except psycopg.Error as e:
            check(e.sqlstate == "42809", f"INSERT into a source: {e.sqlstate}")
    # acknowledged webhook rows survive SIGKILL
    ctx.server.stop(9)
    ctx.server.start()
    with ctx.pg() as c:
        check(c.execute("SELECT count(*) FROM orders_in").fetchone() == (3,), "webhook rows lost")


def c_passwords_guard_the_api_as_they_guard_the_port(ctx):
    """With --auth scram-sha-256 every endpoint needs HTTP Basic credentials
    checked against --users-file and the roles; statements run as that
    user; a NOLOGIN role is refused. A non-loopback --http-listen is refused
    (no TLS for the passwords) unless --auth trust."""
    users = os.path.join(ctx.server.tmp, "users")
    with open(users, "w") as f:
        f.write("ripple:sesame\n")
    http_port = free_port()
    with Server(ctx.server.binary, 1, prefix="ripple-http-auth-",
                extra_args=["--http-listen", f"127.0.0.1:{http_port}", "--users-file", users]) \
            as locked:
        lctx = Ctx(locked, http_port)
        query = {"query": "SELECT current_user"}
        status, body = lctx.post("/api/sql", query)
        check(status == 401 and body["error"]["code"] == "28000"
              and lctx.last_headers.get("WWW-Authenticate", "").startswith("Basic"),
              f"no credentials: HTTP {status} {body}")
        status, body = lctx.post("/api/sql", query, auth="ripple:wrong")
        check(status == 401 and body["error"]["code"] == "28P01", f"a wrong password: {status} {body}")
        status, body = lctx.post("/api/sql", query, auth="ripple:sesame")
        check(status == 200 and body["results"][0]["rows"] == [["ripple"]],
              f"the right password: {status} {body}")
        status, body = lctx.post("/api/sql", {"query": "CREATE ROLE ann LOGIN PASSWORD 'pw';"
                                              " CREATE ROLE ghost NOLOGIN PASSWORD 'pw';"
                                              " CREATE SOURCE hook FROM WEBHOOK"}, auth="ripple:sesame")
        check(status == 200 and all("error" not in r for r in body["results"]), f"roles: {body}")
        for _ in range(2):  # the second time from the remembered check
            status, body = lctx.post("/api/sql", query, auth="ann:pw")
            check(status == 200 and body["results"][0]["rows"] == [["ann"]],
                  f"statements run as the user: {status} {body}")
        status, body = lctx.post("/api/sql", query, auth="ghost:pw")
        check(status == 403 and body["error"]["code"] == "28000", f"a NOLOGIN role: {status} {body}")
        status, body = lctx.post("/api/sql", {"query": "ALTER ROLE ann PASSWORD 'new'"},
                                 auth="ripple:sesame")
        status, body = lctx.post("/api/sql", query, auth="ann:pw")
        check(status == 401, f"an old password after ALTER ROLE: {status} {body}")
        status, body = lctx.post("/api/webhook/ripple/public/hook", {"a": 1})
        check(status == 401, f"a webhook without credentials: {status}")
        status, body = lctx.post("/api/webhook/ripple/public/hook", {"a": 1}, auth="ann:new")
        check((status, body) == (200, {"rows": 1}), f"a webhook with credentials: {status} {body}")

        async def ws(headers, login=None, replies=2):
            async with websockets.connect(lctx.ws, additional_headers=headers) as w:
                if login is not None:
                    await w.send(json.dumps(login))
                await w.send(json.dumps(query))
                return [json.loads(await w.recv()) for _ in range(replies)]
        token = base64.b64encode(b"ann:new").decode()
        msgs = asyncio.run(ws({"Authorization": f"Basic {token}"}))
        check(msgs[1] == {"type": "Row", "payload": ["ann"]}, f"WebSocket as ann: {msgs}")
        try:
            asyncio.run(ws({"Authorization": "Basic " + base64.b64encode(b"ann:x").decode()}))
            raise CheckFailed("a WebSocket with a wrong password was accepted")
        except websockets.exceptions.InvalidStatus as e:
            check(e.response.status_code == 401, f"WebSocket with a wrong password: {e}")
        # a browser cannot set headers: it logs in with its first message
        msgs = asyncio.run(ws({}, replies=1))
        check(msgs[0]["type"] == "Error" and msgs[0]["payload"]["code"] == "28000",
              f"WebSocket without logging in: {msgs}")
        msgs = asyncio.run(ws({}, login={"user": "ann", "password": "nope"}, replies=1))
        check(msgs[0]["type"] == "Error" and msgs[0]["payload"]["code"] == "28P01",
              f"WebSocket login with a wrong password: {msgs}")
        msgs = asyncio.run(ws({}, login={"user": "ann", "password": "new"}))
        check(msgs[1] == {"type": "Row", "payload": ["ann"]}, f"WebSocket login as ann: {msgs}")
    bad = subprocess.run([ctx.server.binary, "--http-listen", "0.0.0.0:0", "--listen",
                          f"127.0.0.1:{free_port()}", "--data-dir",
                          os.path.join(ctx.server.tmp, "never")],
                         capture_output=True, text=True, timeout=60)
    check(bad.returncode != 0 and "loopback" in bad.stderr,
          f"a non-loopback HTTP address: {bad.returncode} {bad.stderr[-300:]}")


CHECKS = [
    c_sql_endpoint_runs_statements,
    c_websocket_streams_a_subscription,
    c_webhook_sources_check_their_bodies,
    c_passwords_guard_the_api_as_they_guard_the_port,
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ripple-bin", default="target/debug/ripple")
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    http_port = free_port()
    server = Server(args.ripple_bin, args.workers, prefix="ripple-http-",
                    extra_args=["--http-listen", f"127.0.0.1:{http_port}"])
    checks = Checks(f"test_http (workers={args.workers})", server)
    try:
        server.start()
        checks.run(CHECKS, Ctx(server, http_port))
    finally:
        server.stop()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
