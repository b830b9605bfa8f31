#!/usr/bin/env python3
"""sqllogictest runner for Ripple, speaking the PostgreSQL wire protocol itself.

Runs `.slt` files (the sqllogictest-rs dialect, see tests/slt/README.md) against
either a fresh `ripple` server per file, or a fresh database per file on a real
PostgreSQL, which is the oracle. It talks the v3 wire protocol over a plain
socket (simple query protocol only) so that the exact text the server sends for
every value is what gets compared: timestamp, numeric, float and boolean
formats are part of what we test.

    run.py --engine ripple --ripple-bin target/debug/ripple [--workers N] tests/slt
    run.py --engine postgres --pg-host 127.0.0.1 --pg-port 54329 --pg-user postgres tests/slt
    run.py ... --rewrite   # rewrite expected results in place from actual output
    run.py ... -v          # print every record as it runs

Postgres mode keeps Ripple's semantics for materialized views (which Ripple
maintains incrementally) by refreshing every materialized view, in creation
order, before each `query` record.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = ("ripple", "postgres")
SORT_MODES = ("nosort", "rowsort", "valuesort")

# --------------------------------------------------------------------------
# Wire protocol client
# --------------------------------------------------------------------------


class ConnectionLost(Exception):
    """The server closed the socket or stopped answering."""


class ServerError(Exception):
    """An ErrorResponse; `code` is the SQLSTATE, `message` the M field."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        self.code = fields.get("C", "?????")
        self.message = fields.get("M", "")
        super().__init__(f"{self.code}: {self.message}")


@dataclasses.dataclass
class StatementResult:
    """One statement's answer inside a simple Query: columns, rows and tag."""

    columns: list[tuple[str, int]] | None = None  # (name, type oid); None = no RowDescription
    rows: list[list[str | None]] = dataclasses.field(default_factory=list)
    tag: str = ""


class PgConnection:
    """A minimal PostgreSQL v3 protocol client: startup + simple Query."""

    def __init__(self, host: str, port: int, user: str, database: str,
                 password: str | None = None, timeout: float = 60.0):
        self.user, self.password = user, password
        self.notices: list[str] = []
        self.params: dict[str, str] = {}
        self.tx_status = "I"  # from ReadyForQuery: I idle, T in block, E failed block
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise ConnectionLost(f"cannot connect to {host}:{port}: {e}") from e
        self.sock.settimeout(timeout)
        try:
            self._startup(user, database)
        except BaseException:
            self.sock.close()
            raise

    # -- framing ----------------------------------------------------------

    def _send(self, type_byte: bytes, body: bytes) -> None:
        try:
            self.sock.sendall(type_byte + struct.pack("!i", len(body) + 4) + body)
        except OSError as e:
            raise ConnectionLost(f"send failed: {e}") from e

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except OSError as e:  # includes socket.timeout
                raise ConnectionLost(f"receive failed: {e}") from e
            if not chunk:
                raise ConnectionLost("server closed the connection")
            buf += chunk
        return bytes(buf)

    def _recv(self) -> tuple[bytes, bytes]:
        header = self._recv_exact(5)
        length = struct.unpack("!i", header[1:5])[0]
        return header[:1], self._recv_exact(length - 4)

    # -- startup ------------------------------------------------------------

    def _startup(self, user: str, database: str) -> None:
        params = {"user": user, "database": database, "client_encoding": "UTF8",
                  "application_name": "slt-runner"}
        body = struct.pack("!i", 196608)  # protocol 3.0
        for k, v in params.items():
            body += k.encode() + b"\0" + v.encode() + b"\0"
        body += b"\0"
        try:
            self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        except OSError as e:
            raise ConnectionLost(f"send failed: {e}") from e
        while True:
            t, payload = self._recv()
            if t == b"R":
                self._authenticate(payload)
            elif t == b"Z":
                self.tx_status = payload[:1].decode()
                return
            else:
                self._handle_async(t, payload, during_startup=True)

    def _authenticate(self, payload: bytes) -> None:
        kind = struct.unpack("!i", payload[:4])[0]
        if kind == 0:  # AuthenticationOk
            return
        if self.password is None:
            raise ServerError({"C": "28000", "M": f"server asks for auth method {kind}; "
                               "no password given (use trust auth)"})
        if kind == 3:  # cleartext
            self._send(b"p", self.password.encode() + b"\0")
        elif kind == 5:  # md5
            salt = payload[4:8]
            inner = hashlib.md5((self.password + self.user).encode()).hexdigest()
            outer = hashlib.md5(inner.encode() + salt).hexdigest()
            self._send(b"p", b"md5" + outer.encode() + b"\0")
        else:
            raise ServerError({"C": "28000", "M": f"unsupported auth method {kind}"})

    def _handle_async(self, t: bytes, payload: bytes, during_startup: bool = False) -> None:
        """Messages that may arrive at any time (or during startup)."""
        if t == b"S":
            key, value = payload.split(b"\0")[:2]
            self.params[key.decode()] = value.decode()
        elif t == b"K":
            pass  # BackendKeyData: we never cancel
        elif t == b"N":
            fields = parse_error_fields(payload)
            self.notices.append(f"{fields.get('C', '')}: {fields.get('M', '')}")
        elif t == b"A":
            pass  # NotificationResponse
        elif t == b"E" and during_startup:
            raise ServerError(parse_error_fields(payload))
        else:
            raise ConnectionLost(f"unexpected message {t!r} from server")

    # -- simple query -------------------------------------------------------

    def query(self, sql: str) -> list[StatementResult]:
        """Run `sql` with the simple Query protocol.

        Returns one StatementResult per statement; raises ServerError if the
        server sent an ErrorResponse (after reading up to ReadyForQuery, so the
        connection stays usable).
        """
        self._send(b"Q", sql.encode() + b"\0")
        results: list[StatementResult] = []
        current = StatementResult()
        error: ServerError | None = None
        while True:
            t, payload = self._recv()
            if t == b"T":
                current.columns = parse_row_description(payload)
            elif t == b"D":
                current.rows.append(parse_data_row(payload))
            elif t in (b"C", b"I"):
                current.tag = payload.rstrip(b"\0").decode() if t == b"C" else ""
                results.append(current)
                current = StatementResult()
            elif t == b"E":
                error = ServerError(parse_error_fields(payload))
            elif t == b"Z":
                self.tx_status = payload[:1].decode()
                break
            elif t in (b"G", b"H", b"W"):
                self._refuse_copy(t)
            elif t in (b"d", b"c"):
                pass  # COPY OUT data / done: ignored
            else:
                self._handle_async(t, payload)
        if error is not None:
            raise error
        return results

    def _refuse_copy(self, t: bytes) -> None:
        """COPY is out of scope for slt: fail COPY FROM STDIN, drain COPY TO STDOUT."""
        if t in (b"G", b"W"):
            self._send(b"f", b"COPY is not supported by the slt runner\0")

    def close(self) -> None:
        try:
            self._send(b"X", b"")
        except ConnectionLost:
            pass
        self.sock.close()


def parse_error_fields(payload: bytes) -> dict[str, str]:
    """ErrorResponse / NoticeResponse body: (code byte, cstring)* then \\0."""
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "backslashreplace")
    return fields


def parse_row_description(payload: bytes) -> list[tuple[str, int]]:
    (count,) = struct.unpack_from("!h", payload, 0)
    pos, columns = 2, []
    for _ in range(count):
        end = payload.index(b"\0", pos)
        name = payload[pos:end].decode("utf-8", "backslashreplace")
        _table, _attnum, type_oid, _len, _mod, _fmt = struct.unpack_from("!ihihih", payload, end + 1)
        columns.append((name, type_oid))
        pos = end + 1 + 18
    return columns


def parse_data_row(payload: bytes) -> list[str | None]:
    (count,) = struct.unpack_from("!h", payload, 0)
    pos, values = 2, []
    for _ in range(count):
        (length,) = struct.unpack_from("!i", payload, pos)
        pos += 4
        if length < 0:
            values.append(None)
        else:
            values.append(payload[pos:pos + length].decode("utf-8", "backslashreplace"))
            pos += length
    return values


# --------------------------------------------------------------------------
# The .slt format
# --------------------------------------------------------------------------


class ParseError(Exception):
    pass


@dataclasses.dataclass
class Record:
    """One record of an .slt file.

    Line indexes are 0-based into the file's lines: `header` is the
    `statement`/`query` line, `sql_end` is the index of `----` (or the end of
    the record when there is none) and `end` is one past the record's last line.
    """

    kind: str  # "statement" | "query" | "halt"
    line: int  # 1-based line of the header, for messages
    header: int
    sql_end: int
    end: int
    sql: str = ""
    conditions: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    error: str | None = None  # regex, when an error is expected
    count: int | None = None  # statement count N
    types: str = ""  # query typestring
    sort: str = "nosort"
    expected: list[str] = dataclasses.field(default_factory=list)

    def applies_to(self, engine: str) -> bool:
        for cond, eng in self.conditions:
            if cond == "skipif" and eng == engine:
                return False
            if cond == "onlyif" and eng != engine:
                return False
        return True


def parse_file(text: str, path: str) -> list[Record]:
    """Split a file into records; raises ParseError with file:line on bad input."""
    lines = text.split("\n")
    records, i = [], 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        conditions = []
        while stripped.split()[0] in ("skipif", "onlyif"):
            words = stripped.split()
            if len(words) < 2:
                raise ParseError(f"{path}:{i + 1}: {words[0]} needs an engine name")
            conditions.append((words[0], words[1]))
            i += 1
            stripped = lines[i].strip() if i < len(lines) else ""
            if not stripped:
                raise ParseError(f"{path}:{i}: condition not followed by a record")
        record = parse_record(lines, i, path)
        record.conditions = conditions
        records.append(record)
        i = record.end
    return records


def parse_record(lines: list[str], start: int, path: str) -> Record:
    """Parse the record whose header is lines[start]."""
    words = lines[start].split()
    where = f"{path}:{start + 1}"
    end = start + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    if words[0] == "halt":
        return Record("halt", start + 1, start, start + 1, start + 1)
    if words[0] not in ("statement", "query"):
        raise ParseError(f"{where}: unknown directive {words[0]!r}")
    body = lines[start + 1:end]
    sep = next((k for k, l in enumerate(body) if l.strip() == "----"), None)
    sql_lines = body if sep is None else body[:sep]
    sql_lines = [l for l in sql_lines if not l.lstrip().startswith("#")]
    if not sql_lines:
        raise ParseError(f"{where}: record has no SQL")
    rec = Record(words[0], start + 1, start, start + 1 + (len(body) if sep is None else sep), end,
                 sql="\n".join(sql_lines))
    if sep is not None:
        rec.expected = body[sep + 1:]
    parse_header(rec, lines[start], where)
    if rec.kind == "statement" and sep is not None:
        raise ParseError(f"{where}: '----' is only allowed in a query record")
    return rec


def parse_header(rec: Record, header: str, where: str) -> None:
    """Fill in the expectation from `statement ...` / `query ...`."""
    words = header.split()
    if len(words) < 2:
        raise ParseError(f"{where}: {words[0]} needs ok/error/count or a typestring")
    if words[1] == "error":  # `statement error <re>` / `query error <re>`
        rec.error = header.split("error", 1)[1].strip()
        if rec.expected:
            raise ParseError(f"{where}: an error record cannot have expected rows")
        try:
            re.compile(rec.error)
        except re.error as e:
            raise ParseError(f"{where}: bad error regex: {e}") from e
    elif rec.kind == "statement":
        if words[1] == "ok":
            pass
        elif words[1] == "count" and len(words) == 3 and words[2].isdigit():
            rec.count = int(words[2])
        else:
            raise ParseError(f"{where}: expected 'statement ok|error <re>|count <n>'")
    else:
        rec.types = words[1]
        if len(words) > 2:
            if words[2] not in SORT_MODES:
                raise ParseError(f"{where}: unknown sort mode {words[2]!r}")
            rec.sort = words[2]
        # words[3:] would be a label (sqllogictest-rs uses it for hashing): ignored


# --------------------------------------------------------------------------
# Comparing results
# --------------------------------------------------------------------------

TYPE_LETTERS = {16: "B", 20: "I", 21: "I", 23: "I", 700: "R", 701: "R", 1700: "R"}


def format_value(v: str | None) -> str:
    if v is None:
        return "NULL"
    return "(empty)" if v == "" else v


def actual_lines(rows: list[list[str | None]], sort: str) -> list[str]:
    """Rows as the file would show them, in the record's sort mode."""
    if sort == "valuesort":
        return sorted(format_value(v) for row in rows for v in row)
    lines = [" ".join(format_value(v) for v in row) for row in rows]
    return sorted(lines) if sort == "rowsort" else lines


def expected_lines(rec: Record) -> list[str]:
    """Expected rows with the record's sort mode applied.

    valuesort compares the sorted multiset of values; expected values may be
    written one per line or several per line separated by single spaces.
    """
    if rec.sort == "valuesort":
        return sorted(v for line in rec.expected for v in line.split(" "))
    return sorted(rec.expected) if rec.sort == "rowsort" else list(rec.expected)


def error_text(err: ServerError) -> str:
    return f"{err.code}: {err.message}"


# --------------------------------------------------------------------------
# Running records
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What actually happened for one record."""

    error: ServerError | None = None
    result: StatementResult | None = None  # last statement's result

    def describe(self, sort: str = "nosort") -> str:
        if self.error is not None:
            return f"error {error_text(self.error)}"
        res = self.result
        if res is None or res.columns is None:
            return f"ok ({res.tag if res else 'no result'})"
        body = "\n".join(actual_lines(res.rows, sort))
        return f"{len(res.columns)} column(s):\n{body}" if body else f"{len(res.columns)} column(s), no rows"


def execute(conn: PgConnection, sql: str) -> Outcome:
    try:
        results = conn.query(sql)
    except ServerError as e:
        return Outcome(error=e)
    return Outcome(result=results[-1] if results else None)


def check(rec: Record, out: Outcome) -> str | None:
    """None if the outcome matches the record, else a description of the mismatch."""
    if rec.error is not None:
        if out.error is None:
            return "expected an error, but the statement succeeded"
        if not re.search(rec.error, error_text(out.error)):
            return f"error did not match /{rec.error}/"
        return None
    if out.error is not None:
        return "unexpected error"
    if rec.kind == "statement":
        return check_count(rec, out)
    return check_rows(rec, out)


def check_count(rec: Record, out: Outcome) -> str | None:
    if rec.count is None:
        return None
    tag = out.result.tag if out.result else ""
    last = tag.split()[-1] if tag.split() else ""
    if not last.isdigit() or int(last) != rec.count:
        return f"expected count {rec.count}, command tag was {tag!r}"
    return None


def check_rows(rec: Record, out: Outcome) -> str | None:
    res = out.result
    if res is None or res.columns is None:
        return "query returned no rows description (not a query?)"
    if len(res.columns) != len(rec.types):
        return f"typestring {rec.types!r} has {len(rec.types)} column(s), result has {len(res.columns)}"
    if actual_lines(res.rows, rec.sort) != expected_lines(rec):
        return "rows differ"
    return None


# --------------------------------------------------------------------------
# Rewriting expected results
# --------------------------------------------------------------------------


def rewritten_record(rec: Record, out: Outcome, lines: list[str]) -> list[str]:
    """The record's new lines, expressing `out` while keeping its SQL lines verbatim."""
    sql = lines[rec.header + 1:rec.sql_end]
    if out.error is not None:
        keep = rec.error is not None and re.search(rec.error, error_text(out.error))
        regex = rec.error if keep else escape_regex(out.error.message)
        return [f"{rec.kind} error {regex}".rstrip()] + sql
    res = out.result
    if rec.kind == "statement" or res is None or res.columns is None:
        if rec.kind == "statement" and rec.count is not None and res is not None:
            return [f"statement count {res.tag.split()[-1] if res.tag else 0}"] + sql
        return ["statement ok"] + sql
    types = rec.types
    if len(types) != len(res.columns):
        types = "".join(TYPE_LETTERS.get(oid, "T") for _, oid in res.columns)
    old_words = lines[rec.header].split()
    extra = old_words[2:] if rec.kind == "query" and rec.error is None else []
    header = " ".join(["query", types] + extra)
    return [header] + sql + ["----"] + actual_lines(res.rows, rec.sort)


def escape_regex(text: str) -> str:
    """Like re.escape, but leaves spaces and quotes alone so messages stay readable."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def rewrite_file(path: Path, lines: list[str], done: list[tuple[Record, Outcome]]) -> int:
    """Replace each record's text with its rewritten form; returns how many changed."""
    changed = 0
    for rec, out in sorted(done, key=lambda d: d[0].header, reverse=True):
        if rec.kind == "halt" or check(rec, out) is None:
            continue  # records that pass are left exactly as written
        new = rewritten_record(rec, out, lines)
        if new != lines[rec.header:rec.end]:
            lines[rec.header:rec.end] = new
            changed += 1
    if changed:
        path.write_text("\n".join(lines))
    return changed


# --------------------------------------------------------------------------
# Engines: where a file's connection comes from
# --------------------------------------------------------------------------


class Engine:
    """Where a file runs: `open` gives a connection to a fresh server or
    database, `before_query` runs before each query record, `close` ends the
    connection and tears down what `open` made, `cleanup` removes leftovers
    after the failure report (which may print `log_tail`)."""

    name = ""

    def open(self) -> PgConnection:
        raise NotImplementedError

    def before_query(self, conn: PgConnection, verbose: bool) -> None:
        pass

    def close(self, conn: PgConnection | None) -> None:
        if conn is not None:
            conn.close()

    def cleanup(self) -> None:
        pass

    def log_tail(self) -> str:
        return ""


class PostgresEngine(Engine):
    """A fresh database per file on an existing PostgreSQL server."""

    name = "postgres"

    def __init__(self, args: argparse.Namespace):
        self.host, self.port, self.user = args.pg_host, args.pg_port, args.pg_user
        self.password = args.pg_password
        self.timeout = args.timeout
        self.counter = 0
        self.dbname = ""

    def _admin(self) -> PgConnection:
        return PgConnection(self.host, self.port, self.user, "postgres", self.password, self.timeout)

    def open(self) -> PgConnection:
        self.counter += 1
        self.dbname = f"slt_{self.counter}"
        admin = self._admin()
        try:
            admin.query(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")
            admin.query(f"CREATE DATABASE {self.dbname}")
        finally:
            admin.close()
        return PgConnection(self.host, self.port, self.user, self.dbname, self.password, self.timeout)

    def before_query(self, conn: PgConnection, verbose: bool) -> None:
        refresh_materialized_views(conn, verbose)

    def close(self, conn: PgConnection | None) -> None:
        if conn is not None:
            conn.close()
        admin = self._admin()
        try:
            admin.query(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")
        finally:
            admin.close()


def refresh_materialized_views(conn: PgConnection, verbose: bool) -> None:
    """Bring every materialized view up to date, in creation (oid) order.

    Postgres' materialized views are snapshots; Ripple's are maintained. An
    aborted transaction is left alone (the query will fail anyway); inside an
    open transaction each refresh runs under a savepoint so a failing refresh
    cannot abort the test's transaction.
    """
    if conn.tx_status == "E":
        return
    views = conn.query("SELECT c.oid::regclass::text FROM pg_class c "
                       "WHERE c.relkind = 'm' ORDER BY c.oid")[-1].rows
    in_block = conn.tx_status == "T"
    for (name,) in views:
        sql = f"REFRESH MATERIALIZED VIEW {name}"
        if in_block:
            sql = f"SAVEPOINT slt_refresh; {sql}; RELEASE SAVEPOINT slt_refresh"
        try:
            conn.query(sql)
        except ServerError as e:
            if in_block:
                conn.query("ROLLBACK TO SAVEPOINT slt_refresh; RELEASE SAVEPOINT slt_refresh")
            if verbose:
                print(f"    (refresh of {name} failed: {error_text(e)})")


class RippleEngine(Engine):
    """A fresh `ripple` process, with a fresh data directory, per file."""

    name = "ripple"

    def __init__(self, args: argparse.Namespace):
        self.bin, self.workers, self.timeout = args.ripple_bin, args.workers, args.timeout
        self.proc: subprocess.Popen | None = None
        self.tmp = ""
        self.log_path = ""

    def open(self) -> PgConnection:
        self.tmp = tempfile.mkdtemp(prefix="ripple-slt-")
        self.log_path = os.path.join(self.tmp, "server.log")
        port = free_port()
        data_dir = os.path.join(self.tmp, "data")
        cmd = [self.bin, "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
               "--workers", str(self.workers)]
        try:
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        except OSError as e:
            raise ConnectionLost(f"cannot start {self.bin}: {e}") from e
        wait_for_port(self.proc, port, 60.0)
        return PgConnection("127.0.0.1", port, "ripple", "ripple", None, self.timeout)

    def close(self, conn: PgConnection | None) -> None:
        super().close(conn)
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def cleanup(self) -> None:
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = ""

    def log_tail(self) -> str:
        """The last 40 lines the server wrote to stdout/stderr."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "backslashreplace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-40:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(proc: subprocess.Popen, port: int, timeout: float) -> None:
    """Wait until the server accepts TCP connections, or fail if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConnectionLost(f"ripple exited with status {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            time.sleep(0.05)
    raise ConnectionLost(f"ripple did not accept connections on port {port} within {timeout:.0f}s")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------
# Running a file
# --------------------------------------------------------------------------


@dataclasses.dataclass
class FileReport:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    skipped_file: bool = False
    aborted: bool = False  # the server or connection failed mid-file
    rewritten: int = 0


def report_failure(path: str, rec: Record, why: str, out: Outcome | None) -> None:
    print(f"\nFAIL {path}:{rec.line}: {why}")
    print("  sql:      " + rec.sql.replace("\n", "\n            "))
    if rec.error is not None:
        expected = f"error /{rec.error}/"
    elif rec.kind == "query":
        body = "\n".join(expected_lines(rec))
        expected = f"{len(rec.types)} column(s):\n{body}" if body else f"{len(rec.types)} column(s), no rows"
    else:
        expected = "ok" if rec.count is None else f"count {rec.count}"
    actual = out.describe(rec.sort) if out else "(not run)"
    print("  expected: " + expected.replace("\n", "\n            "))
    print("  actual:   " + actual.replace("\n", "\n            "))


def run_records(engine: Engine, conn: PgConnection, path: str, records: list[Record],
                args: argparse.Namespace, report: FileReport) -> list[tuple[Record, Outcome]]:
    """Run the records of one file on `conn`; returns (record, outcome) pairs run."""
    done = []
    for i, rec in enumerate(records):
        if not rec.applies_to(engine.name):
            report.skipped += 1
            continue
        if rec.kind == "halt":
            report.skipped += sum(1 for r in records[i + 1:] if r.kind != "halt")
            break
        if args.verbose:
            print(f"  {path}:{rec.line}: {rec.sql.splitlines()[0]}")
        try:
            if rec.kind == "query":
                engine.before_query(conn, args.verbose)
            out = execute(conn, rec.sql)
        except ConnectionLost as e:
            report_failure(path, rec, f"connection lost: {e}", None)
            report.failed += 1 + sum(1 for r in records[i + 1:] if r.kind != "halt")
            raise
        done.append((rec, out))
        why = check(rec, out)
        if why is None:
            report.passed += 1
        else:
            report.failed += 1
            if not args.rewrite:
                report_failure(path, rec, why, out)
    return done


def run_file(engine: Engine, path: Path, args: argparse.Namespace) -> FileReport:
    """Parse, run (and maybe rewrite) one .slt file on a fresh server/database."""
    report = FileReport()
    text = path.read_text()
    if engine.name == "postgres" and text.split("\n", 1)[0].strip() == "# ripple-only":
        report.skipped_file = True
        return report
    records = parse_file(text, str(path))
    conn = None
    try:
        conn = engine.open()
        done = run_records(engine, conn, str(path), records, args, report)
        if args.rewrite:
            report.rewritten = rewrite_file(path, text.split("\n"), done)
    except (ConnectionLost, ServerError) as e:
        report.aborted = True
        if report.failed == 0:
            report.failed = max(1, len([r for r in records if r.kind != "halt"]))
            print(f"\nFAIL {path}: {e}")
    finally:
        try:
            engine.close(conn)
        except (ConnectionLost, ServerError) as e:
            print(f"warning: {path}: cleanup failed: {e}")
        tail = engine.log_tail() if report.failed and (report.aborted or not args.rewrite) else ""
        if tail:
            print(f"--- tail of server log for {path} ---\n{tail}\n---")
        engine.cleanup()
    return report


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def collect_files(paths: list[str]) -> list[Path]:
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.rglob("*.slt")))
        elif p.is_file():
            files.append(p)
        else:
            sys.exit(f"run.py: no such file or directory: {p}")
    return files


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="FILES_OR_DIRS")
    ap.add_argument("--engine", choices=ENGINES, required=True)
    ap.add_argument("--ripple-bin", help="path to the ripple binary (ripple engine)")
    ap.add_argument("--workers", type=int, default=1, help="ripple --workers (default 1)")
    ap.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    ap.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "54329")))
    ap.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    ap.add_argument("--pg-password", default=os.environ.get("PGPASSWORD"))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any answer")
    ap.add_argument("--rewrite", action="store_true", help="rewrite expected output in place")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if args.engine == "ripple" and not args.ripple_bin:
        ap.error("--engine ripple needs --ripple-bin PATH")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    engine = RippleEngine(args) if args.engine == "ripple" else PostgresEngine(args)
    files = collect_files(args.paths)
    total = FileReport()
    failed_files, skipped_files, aborted = 0, 0, False
    for path in files:
        try:
            rep = run_file(engine, path, args)
        except ParseError as e:
            print(f"\nFAIL {e}")
            rep = FileReport(failed=1, aborted=True)
        status = "SKIP" if rep.skipped_file else ("FAIL" if rep.failed else "ok")
        if args.rewrite and rep.rewritten:
            status = f"rewrote {rep.rewritten} record(s)"
        if args.verbose or rep.failed or args.rewrite:
            print(f"{status:>6} {path}")
        skipped_files += rep.skipped_file
        aborted = aborted or rep.aborted
        failed_files += bool(rep.failed)
        for f in ("passed", "failed", "skipped"):
            setattr(total, f, getattr(total, f) + getattr(rep, f))
    print(f"\n{len(files)} files ({failed_files} failed, {skipped_files} skipped) on {args.engine}")
    print(f"slt: {total.passed} passed, {total.failed} failed, {total.skipped} skipped")
    if args.rewrite:
        return 1 if aborted else 0
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
