#!/usr/bin/env python3
"""Client test: TLS and passwords. A server started with
--tls-cert/--tls-key answers SSLRequest with 'S' and serves psycopg (libpq,
sslmode=require) and psql over TLS; a server without them answers 'N', so
sslmode=require fails with libpq's clear message and sslmode=prefer falls
back to plain TCP. A server started with --users-file asks for SCRAM-SHA-256:
the right password connects (over TLS too), a wrong one or an unknown user
fails with "password authentication failed" (28P01). Roles made with
CREATE ROLE/USER … PASSWORD survive a restart and log in under
--auth scram-sha-256 and --auth password (cleartext); ALTER ROLE and DROP
ROLE take effect for the next login; a role without LOGIN is refused (28000)
whatever the method. With --tls-cert the HTTP API serves HTTPS, off loopback
too, and checks passwords sent as HTTP Basic authentication.

Usage:
  python3 tests/clients/test_tls.py --ripple-bin target/debug/ripple
"""

import argparse
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_psycopg import CheckFailed, Server, check, free_port  # noqa: E402


def dsn(port, sslmode):
    return f"host=127.0.0.1 port={port} user=ripple dbname=ripple sslmode={sslmode} connect_timeout=5"


def start_with_password(server, password):
    """Starts a server that requires a password: Server.start() probes as
    user ripple, and libpq takes the password from PGPASSWORD."""
    os.environ["PGPASSWORD"] = password
    try:
        server.start()
    finally:
        del os.environ["PGPASSWORD"]


def check_passwords(auth):
    start_with_password(auth, "probe-pw")
    base = f"host=127.0.0.1 port={auth.port} dbname=ripple connect_timeout=5"
    try:
        with psycopg.connect(f"{base} user=alice password=s3cret sslmode=require",
                             autocommit=True) as c:
            check(c.execute("SELECT current_user").fetchone() == ("alice",), "current_user")
            check(c.pgconn.ssl_in_use, "SCRAM over TLS did not use TLS")
        print("ok  SCRAM-SHA-256 with the right password (over TLS)")
        for user, password in [("alice", "wrong"), ("mallory", "s3cret")]:
            try:
                psycopg.connect(f"{base} user={user} password={password}").close()
                raise CheckFailed(f"{user}/{password} was let in")
            except psycopg.OperationalError as e:
                check("password authentication failed" in str(e), f"unexpected error: {e}")
        print("ok  wrong password and unknown user are refused (28P01)")
    finally:
        auth.stop()


def refused(conninfo, why):
    try:
        psycopg.connect(conninfo).close()
    except psycopg.OperationalError as e:
        check(why in str(e), f"expected '{why}', got: {e}")
        return
    raise CheckFailed(f"{conninfo} was let in")


def check_roles(tmp, binary):
    data = os.path.join(tmp, "roles-data")

    def server(name, *args):
        return Server(binary, 1, data, os.path.join(tmp, f"{name}.log"), extra_args=list(args))

    trust = server("roles-trust")
    trust.start()
    base = f"host=127.0.0.1 port={trust.port} dbname=ripple connect_timeout=5"
    try:
        with psycopg.connect(f"{base} user=ripple", autocommit=True) as c:
            c.execute("ALTER ROLE ripple PASSWORD 'root-pw'")
            c.execute("CREATE USER app PASSWORD 'app-pw'")
            c.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
            c.execute("CREATE ROLE batch PASSWORD 'batch-pw'")
            rows = c.execute("SELECT rolname, rolcanlogin FROM pg_roles ORDER BY 1").fetchall()
            check(rows == [("app", True), ("batch", False), ("reader", True), ("ripple", True)],
                  f"pg_roles: {rows}")
        refused(f"{base} user=batch", "is not permitted to log in")
        print("ok  CREATE ROLE/USER; a role without LOGIN is refused under trust (28000)")
    finally:
        trust.stop()

    scram = server("roles-scram", "--auth", "scram-sha-256")
    start_with_password(scram, "root-pw")
    base = f"host=127.0.0.1 port={scram.port} dbname=ripple connect_timeout=5"
    try:
        with psycopg.connect(f"{base} user=app password=app-pw", autocommit=True) as c:
            check(c.execute("SELECT current_user").fetchone() == ("app",), "current_user")
            try:
                c.execute("CREATE ROLE sneaky SUPERUSER")
                raise CheckFailed("a role without CREATEROLE created a role")
            except psycopg.errors.InsufficientPrivilege:
                pass
            try:
                c.execute("ALTER ROLE ripple PASSWORD 'stolen'")
                raise CheckFailed("a role without CREATEROLE changed the owner's password")
            except psycopg.errors.InsufficientPrivilege:
                pass
            # its own password it may change (and back)
            c.execute("ALTER ROLE app PASSWORD 'changed'")
            c.execute("ALTER USER app PASSWORD 'app-pw'")
        refused(f"{base} user=app password=nope", "password authentication failed")
        refused(f"{base} user=batch password=batch-pw", "is not permitted to log in")
        with psycopg.connect(f"{base} user=ripple password=root-pw", autocommit=True) as c:
            c.execute("ALTER ROLE app WITH PASSWORD 'app-pw-2'")
            c.execute("DROP ROLE reader")
        refused(f"{base} user=app password=app-pw", "password authentication failed")
        psycopg.connect(f"{base} user=app password=app-pw-2").close()
        refused(f"{base} user=reader password=reader-pw", "password authentication failed")
        print("ok  roles survive a restart and log in with SCRAM; ALTER/DROP ROLE apply at once")
    finally:
        scram.stop()

    clear = server("roles-password", "--auth", "password")
    start_with_password(clear, "root-pw")
    base = f"host=127.0.0.1 port={clear.port} dbname=ripple connect_timeout=5"
    try:
        with psycopg.connect(f"{base} user=app password=app-pw-2", autocommit=True) as c:
            check(c.execute("SELECT 1").fetchone() == (1,), "query after cleartext login")
        refused(f"{base} user=app password=app-pw", "password authentication failed")
        print("ok  --auth password (cleartext) checks the same stored verifiers")
    finally:
        clear.stop()


def outside_address():
    """This machine's first non-loopback IPv4 address, if it has one."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    except OSError:
        return None
    for a in out.split():
        if "." in a and not a.startswith("127."):
            return a
    return None


def check_default_auth(tmp, binary):
    """Without --auth: loopback connections are trusted, others must give a
    password (SCRAM-SHA-256)."""
    addr = outside_address()
    if addr is None:
        print("skip default authentication from outside (no non-loopback address)")
        return
    srv = Server(binary, 1, os.path.join(tmp, "default-data"), os.path.join(tmp, "default.log"),
                 host="0.0.0.0")
    try:
        srv.start()
        local = f"host=127.0.0.1 port={srv.port} dbname=ripple connect_timeout=5"
        with psycopg.connect(f"{local} user=ripple", autocommit=True) as c:
            c.execute("CREATE USER remote PASSWORD 'far-away'")
        outside = f"host={addr} port={srv.port} dbname=ripple connect_timeout=5 sslmode=disable"
        refused(f"{outside} user=remote password=wrong", "password authentication failed")
        refused(f"{outside} user=ripple password=x", "password authentication failed")
        with psycopg.connect(f"{outside} user=remote password=far-away") as c:
            check(c.execute("SELECT current_user").fetchone() == ("remote",), "current_user")
        print("ok  default: loopback trusted, other addresses need a password")
    finally:
        srv.stop()


def check_https(tmp, binary, cert, key):
    """With --tls-cert the HTTP API serves HTTPS, so it may listen off
    loopback: a client from another address must give a password (HTTP
    Basic), and plain HTTP gets no answer."""
    addr = outside_address() or "127.0.0.1"
    hport = free_port()
    srv = Server(binary, 1, os.path.join(tmp, "https-data"), os.path.join(tmp, "https.log"),
                 extra_args=["--tls-cert", cert, "--tls-key", key,
                             "--http-listen", f"{addr}:{hport}"])
    try:
        srv.start()
        with psycopg.connect(f"host=127.0.0.1 port={srv.port} dbname=ripple user=ripple",
                             autocommit=True) as c:
            c.execute("CREATE USER web PASSWORD 'web-pw'")
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False  # the certificate names localhost

        def post(auth=None):
            headers = {"Content-Type": "application/json"}
            if auth:
                headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
            req = urllib.request.Request(f"https://{addr}:{hport}/api/sql", method="POST",
                                         data=b'{"query": "SELECT current_user"}', headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"{}")

        status, body = post("web:web-pw")
        check(status == 200 and body["results"][0]["rows"] == [["web"]],
              f"HTTPS with a password: {status} {body}")
        status, body = post("web:wrong")
        check(status == 401, f"HTTPS with a wrong password: {status} {body}")
        if addr != "127.0.0.1":
            status, body = post()
            check(status == 401, f"HTTPS from {addr} without a password: {status} {body}")
        try:
            urllib.request.urlopen(f"http://{addr}:{hport}/api/sql", data=b"{}", timeout=10)
            raise CheckFailed("plain HTTP was answered on the HTTPS port")
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            pass
        print(f"ok  the HTTP API over HTTPS on {addr}, passwords checked")
    finally:
        srv.stop()


def run(tmp, binary):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write("# test users\nalice:s3cret\nripple:probe-pw\n")
    tls = Server(binary, 1, os.path.join(tmp, "tls-data"), os.path.join(tmp, "tls.log"),
                 extra_args=["--tls-cert", cert, "--tls-key", key])
    auth = Server(binary, 1, os.path.join(tmp, "auth-data"), os.path.join(tmp, "auth.log"),
                  extra_args=["--users-file", users, "--tls-cert", cert, "--tls-key", key])
    plain = Server(binary, 1, os.path.join(tmp, "plain-data"), os.path.join(tmp, "plain.log"))
    tls.start()
    plain.start()
    try:
        check_passwords(auth)
        check_roles(tmp, binary)
        check_default_auth(tmp, binary)
        check_https(tmp, binary, cert, key)
        with psycopg.connect(dsn(tls.port, "require"), autocommit=True) as c:
            check(c.pgconn.ssl_in_use, "sslmode=require did not use TLS")
            c.execute("CREATE TABLE t (a int)")
            c.execute("INSERT INTO t VALUES (%s)", (7,))
            check(c.execute("SELECT a FROM t").fetchone() == (7,), "query over TLS")
        print("ok  psycopg over TLS (sslmode=require)")
        r = subprocess.run(["psql", "-X", "-At", dsn(tls.port, "require"), "-c", "SELECT a FROM t"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and r.stdout.strip() == "7", f"psql over TLS: {r.stdout}{r.stderr}")
        print("ok  psql over TLS")

        try:
            psycopg.connect(dsn(plain.port, "require")).close()
            raise CheckFailed("sslmode=require connected to a server without TLS")
        except psycopg.OperationalError as e:
            check("does not support SSL" in str(e), f"unexpected refusal: {e}")
        with psycopg.connect(dsn(plain.port, "prefer"), autocommit=True) as c:
            check(not c.pgconn.ssl_in_use, "sslmode=prefer used TLS on a plain server")
            check(c.execute("SELECT 1").fetchone() == (1,), "query without TLS")
        print("ok  without --tls-cert: require refused cleanly, prefer falls back")
    finally:
        tls.stop()
        plain.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ripple-bin", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ripple-tls-") as tmp:
        try:
            run(tmp, os.path.abspath(args.ripple_bin))
        except CheckFailed as e:
            print(f"FAIL {e}")
            return 1
    print("tls: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
