#!/usr/bin/env python3
"""Client test: TLS. A server started with --tls-cert/--tls-key answers
SSLRequest with 'S' and serves psycopg (libpq, sslmode=require) and psql
over TLS; a server without them answers 'N', so sslmode=require fails with
libpq's clear message and sslmode=prefer falls back to plain TCP.

Usage:
  python3 tests/clients/test_tls.py --ripple-bin target/debug/ripple
"""

import argparse
import os
import subprocess
import sys
import tempfile

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_psycopg import CheckFailed, Server, check  # noqa: E402


def dsn(port, sslmode):
    return f"host=127.0.0.1 port={port} user=ripple dbname=ripple sslmode={sslmode} connect_timeout=5"


def run(tmp, binary):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    tls = Server(binary, 1, os.path.join(tmp, "tls-data"), os.path.join(tmp, "tls.log"),
                 extra_args=["--tls-cert", cert, "--tls-key", key])
    plain = Server(binary, 1, os.path.join(tmp, "plain-data"), os.path.join(tmp, "plain.log"))
    tls.start()
    plain.start()
    try:
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
