"""Stdlib-only helpers for the client tests that do not use psycopg2.

`Server` starts one `ripple` process on a free port with its own data
directory and waits until the PostgreSQL wire protocol answers a startup
message with ReadyForQuery (raw socket, no driver). `Checks` runs named checks,
prints one line per check (`ok   name` / `FAIL name: why`) and keeps going
after a failure so one run reports everything.
"""

import os
import resource
import signal
import socket
import struct
import subprocess
import tempfile
import time
import traceback

USER = "ripple"
DATABASE = "ripple"
START_TIMEOUT_S = 30.0
# Address-space cap for the server under test, so a runaway query fails the
# test instead of taking the machine's memory (the OOM killer may pick any process).
MEM_LIMIT_MB = int(os.environ.get("RIPPLE_TEST_MEM_LIMIT_MB", "8192"))
STOP_TIMEOUT_S = 10.0

PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("PGTEST_PORT", "54329"))
PG_USER = "postgres"


class CheckFailed(Exception):
    """One expectation did not hold; the message says which and how."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wire_ready(host, port, user, database, timeout=2.0):
    """True when a startup message gets ReadyForQuery back (trust auth), or
    a request for a password (the server is up and authenticates)."""
    params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    msg = struct.pack("!ii", 8 + len(params), 196608) + params
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(msg)
            buf = b""
            while True:
                while len(buf) >= 5:
                    tag = buf[:1]
                    (n,) = struct.unpack("!i", buf[1:5])
                    if len(buf) < 1 + n:
                        break
                    if tag == b"Z":
                        s.sendall(b"X\0\0\0\4")
                        return True
                    if tag == b"E":
                        return False
                    if tag == b"R" and struct.unpack("!i", buf[5:9])[0] != 0:
                        return True
                    buf = buf[1 + n:]
                chunk = s.recv(4096)
                if not chunk:
                    return False
                buf += chunk
    except OSError:
        return False


def _limit_memory():
    if MEM_LIMIT_MB > 0:
        limit = MEM_LIMIT_MB * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class Server:
    """One ripple process on a fresh data directory under a temp dir."""

    def __init__(self, binary, workers=1, prefix="ripple-client-", extra_args=()):
        self.binary = os.path.abspath(binary)
        self.extra_args = list(extra_args)
        self.workers = workers
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "ripple.log")
        self.port = free_port()
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        cmd = [self.binary, "--listen", f"127.0.0.1:{self.port}",
               "--data-dir", self.data_dir, "--workers", str(self.workers)] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=_limit_memory)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"ripple exited with status {self.proc.returncode} "
                                  f"during start-up\n{self.log_tail()}")
            if wire_ready("127.0.0.1", self.port, USER, DATABASE):
                return
            time.sleep(0.1)
        raise CheckFailed(f"ripple did not accept connections within "
                          f"{START_TIMEOUT_S:.0f} s\n{self.log_tail()}")

    def __enter__(self):
        """`with Server(...) as s:` starts it and always stops it, also
        when it fails to start."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                tail = f.readlines()[-lines:]
        except OSError:
            return "(no server log)"
        return "--- server log (tail) ---\n" + "".join(tail)


class Checks:
    """Runs checks in order; one output line each; remembers failures."""

    def __init__(self, name, server=None):
        self.name = name
        self.server = server
        self.passed = []
        self.failed = []

    def ok(self, check_name):
        self.passed.append(check_name)
        print(f"ok   {check_name}", flush=True)

    def fail(self, check_name, err):
        self.failed.append(check_name)
        if isinstance(err, CheckFailed):
            why = str(err)
        else:
            why = f"{type(err).__name__}: {err}"
            code = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
            if code:
                why += f" [SQLSTATE {code}]"
            if os.environ.get("RIPPLE_TEST_TRACEBACK"):
                why += "\n" + traceback.format_exc()
        print(f"FAIL {check_name}: {why}", flush=True)
        if self.server is not None and not self.server.alive():
            print(self.server.log_tail(), flush=True)

    def run(self, fns, *args, only=None):
        """Runs the checks `c_<name>(*args)` in order, each reported under
        its name; with `only`, just those whose name contains it."""
        for fn in fns:
            name = fn.__name__[2:]
            if only and only not in name:
                continue
            try:
                fn(*args)
                self.ok(name)
            except Exception as e:  # noqa: BLE001 -- report every check
                self.fail(name, e)

    def summary(self):
        if self.server is not None and self.failed:
            print(f"server log: {self.server.log_path}", flush=True)
        print(f"{self.name}: {len(self.passed)} passed, {len(self.failed)} failed", flush=True)
        return 1 if self.failed else 0
