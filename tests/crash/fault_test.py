#!/usr/bin/env python3
"""Fault test: what the real binary does with a damaged or failing data directory.

  * a torn record at the tail of the log (a crash mid-append) is dropped
    with a log line, and every acknowledged row is still there;
  * a damaged record in the middle of the log, or a damaged checkpoint,
    stops start-up with a message naming the file and offset (and nothing is
    lost: with the byte restored it starts with every row);
  * a second server on the same directory, and a directory of another
    format version, are refused;
  * automatic checkpoints keep the log short, and CHECKPOINT needs a
    superuser;
  * SIGTERM writes a shutdown checkpoint, so the next start loads it;
  * materialized views come back from their checkpointed snapshots, also
    when other views read them, and rebuild when a new view reads them or
    their tables change;
  * a full disk (a small tmpfs) fails the writes that cannot be made durable
    with SQLSTATE 53100 while reads go on, and writes work again once space
    is freed;
  * a disk that turns read-only under the server (ext4 with
    errors=remount-ro, after an injected file-system error) fails writes with
    a clear error while reads go on; after a restart on the repaired disk
    every acknowledged write is there.

The last two need root (mount); without it they are reported as SKIP.

Usage:
  python3 tests/crash/fault_test.py --ripple-bin target/debug/ripple
"""

import argparse
import glob
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
from test_psycopg import CheckFailed, Server, check  # noqa: E402

FAILED = []


def case(fn):
    def run(args, tmp):
        name = fn.__name__
        try:
            result = fn(args, os.path.join(tmp, name))
            print(f"{'SKIP' if result == 'skip' else 'ok  '} {name}")
        except (CheckFailed, psycopg2.Error, subprocess.SubprocessError, OSError) as e:
            print(f"FAIL {name}: {e}")
            FAILED.append(name)
    return run


def segments(data):
    return sorted(glob.glob(os.path.join(data, "log.*")))


def frames(path):
    """(offset, payload length) of each frame of a log or checkpoint file."""
    out, off = [], 0
    buf = open(path, "rb").read()
    while off + 8 <= len(buf):
        (n,) = struct.unpack_from("<I", buf, off)
        out.append((off, n))
        off += 8 + n
    return out


def refused(args, data):
    """Runs the binary on `data`, expecting it to refuse to start: its output."""
    p = subprocess.run([args.ripple_bin, "--listen", "127.0.0.1:0", "--data-dir", data,
                        "--workers", "1"], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0, f"ripple started on a bad data directory:\n{p.stderr[-2000:]}")
    return p.stderr


def fill(server, n, start=0):
    conn = server.connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS t (id int, s text)")
    for i in range(start, start + n):
        cur.execute("INSERT INTO t VALUES (%s, %s)", (i, f"row {i}"))
    conn.close()


def ids(server):
    conn = server.connect()
    cur = conn.cursor()
    cur.execute("SELECT id FROM t ORDER BY id")
    out = [r[0] for r in cur.fetchall()]
    conn.close()
    return out


def view_sources(cur):
    """(name, source) of each materialized view in ripple_catalog.recovery."""
    cur.execute("SELECT name, source FROM ripple_catalog.recovery "
                "WHERE kind = 'materialized view' ORDER BY name")
    return cur.fetchall()


def new_server(args, d, extra=()):
    os.makedirs(d, exist_ok=True)
    return Server(os.path.abspath(args.ripple_bin), 2, os.path.join(d, "data"),
                  os.path.join(d, "ripple.log"), extra_args=list(extra))


@case
def torn_tail_is_dropped(args, d):
    s = new_server(args, d)
    s.start()
    fill(s, 50)
    s.stop(signal.SIGKILL)
    seg = segments(s.data_dir)[-1]
    with open(seg, "ab") as f:
        # a frame header promising more bytes than made it to disk
        f.write(struct.pack("<II", 4000, 0) + b"partial")
    s.start()
    check(ids(s) == list(range(50)), "acknowledged rows changed after dropping a torn tail")
    check("dropping torn record" in s.log_tail(200), "no log line about the torn record")
    fill(s, 5, 50)
    s.stop(signal.SIGKILL)
    s.start()
    check(ids(s) == list(range(55)), "rows written after the torn tail was dropped were lost")
    s.stop()


@case
def corruption_in_the_middle_stops_startup(args, d):
    s = new_server(args, d)
    s.start()
    fill(s, 20)
    s.stop(signal.SIGKILL)
    seg = segments(s.data_dir)[-1]
    fr = frames(seg)
    check(len(fr) > 3, "expected several log records")
    off, n = fr[len(fr) // 2]
    data = bytearray(open(seg, "rb").read())
    pos = off + 8 + n // 2
    data[pos] ^= 0xFF
    open(seg, "wb").write(data)
    err = refused(args, s.data_dir)
    check(f"is corrupt at offset {off}" in err and os.path.basename(seg) in err,
          f"the refusal does not name the file and offset:\n{err[-1000:]}")
    data[pos] ^= 0xFF
    open(seg, "wb").write(data)
    s.start()
    check(ids(s) == list(range(20)), "rows lost after a refused start-up")
    s.stop()


@case
def damaged_checkpoint_stops_startup(args, d):
    s = new_server(args, d)
    s.start()
    fill(s, 30)
    conn = s.connect()
    conn.cursor().execute("CHECKPOINT")
    conn.close()
    fill(s, 5, 30)
    s.stop(signal.SIGKILL)
    ckpts = glob.glob(os.path.join(s.data_dir, "checkpoint.*"))
    check(len(ckpts) == 1, f"expected one checkpoint, found {ckpts}")
    check(len(segments(s.data_dir)) == 1, "the log before the checkpoint was not removed")
    data = bytearray(open(ckpts[0], "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(ckpts[0], "wb").write(data)
    err = refused(args, s.data_dir)
    check("checkpoint file" in err and "corrupt at offset" in err,
          f"the refusal does not name the checkpoint:\n{err[-1000:]}")
    data[len(data) // 2] ^= 0xFF
    open(ckpts[0], "wb").write(data)
    s.start()
    check(ids(s) == list(range(35)), "rows lost with a checkpoint and a log tail")
    s.stop()


@case
def second_server_and_other_format_are_refused(args, d):
    s = new_server(args, d)
    s.start()
    err = refused(args, s.data_dir)
    check("in use by another ripple process" in err, f"second server not refused:\n{err[-800:]}")
    s.stop()
    with open(os.path.join(s.data_dir, "FORMAT"), "w") as f:
        f.write("ripple-log-99")
    err = refused(args, s.data_dir)
    check("ripple-log-99" in err, f"unknown format not refused:\n{err[-800:]}")


@case
def checkpoint_truncates_the_log_and_needs_a_superuser(args, d):
    s = new_server(args, d, ["--checkpoint-log-bytes", str(8 << 10)])
    s.start()
    fill(s, 400)
    # the server checkpointed on its own each time the log passed 8 KiB
    done = [p for p in glob.glob(os.path.join(s.data_dir, "checkpoint.*"))
            if not p.endswith(".tmp")]
    check(done, "no checkpoint after 400 writes with an 8 KiB threshold")
    check(sum(os.path.getsize(p) for p in segments(s.data_dir)) < 16 << 10,
          "the log was not truncated by checkpoints")
    conn = s.connect()
    cur = conn.cursor()
    cur.execute("CREATE ROLE plain LOGIN")
    conn.close()
    conn = psycopg2.connect(host="127.0.0.1", port=s.port, user="plain", dbname="ripple")
    conn.autocommit = True
    failure = sqlstate_of(conn.cursor(), "CHECKPOINT")
    check(failure is not None and failure[0] == "42501",
          f"CHECKPOINT by a plain role gave {failure}")
    conn.close()
    s.stop(signal.SIGKILL)
    s.start()
    check(ids(s) == list(range(400)), "rows lost across automatic checkpoints")
    s.stop()


@case
def snapshot_views_and_their_dependents(args, d):
    s = new_server(args, d)
    s.start()
    conn = s.connect()
    cur = conn.cursor()
    views = {
        "a": "SELECT k, count(*) AS n FROM t2 GROUP BY k",
        "b": "SELECT k, n FROM a WHERE n > 1",           # reads a: a rebuilds at once
        "c": "SELECT sum(x) AS total, count(*) AS n FROM t2",
    }
    cur.execute("CREATE TABLE t2 (k int, x int)")
    cur.execute("INSERT INTO t2 SELECT g % 7, g FROM generate_series(1, 500) g")
    for name, sql in views.items():
        cur.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
    cur.execute("CREATE VIEW plain AS SELECT total FROM c")
    cur.execute("CHECKPOINT")
    conn.close()
    s.stop(signal.SIGKILL)
    s.start()
    conn = s.connect()
    cur = conn.cursor()

    def recovery():
        cur.execute("SELECT name, source, rebuilt_ms IS NOT NULL FROM ripple_catalog.recovery "
                    "WHERE kind = 'materialized view' ORDER BY name")
        return cur.fetchall()

    def wait_for(want):
        deadline = time.monotonic() + 30
        while (got := recovery()) != want and time.monotonic() < deadline:
            time.sleep(0.1)
        return got
    # a rebuilds at once (b's dataflow reads it); b and c answer from their
    # snapshots until their tables change
    want = [("a", "snapshot", True), ("b", "snapshot", False), ("c", "snapshot", False)]
    got = wait_for(want)
    check(got == want, f"unexpected recovery of the views: {got}")

    def same():
        for name, sql in views.items():
            cur.execute(f"SELECT * FROM {name}")
            view = sorted(cur.fetchall())
            cur.execute(sql)
            check(view == sorted(cur.fetchall()), f"view {name} differs from its query")
        cur.execute("SELECT total FROM plain")
        plain = cur.fetchall()
        cur.execute("SELECT sum(x) FROM t2")
        check(plain == cur.fetchall(), "a plain view over a snapshot differs")
    same()
    # a new view over c (still served from its snapshot) makes it rebuild
    cur.execute("CREATE MATERIALIZED VIEW d AS SELECT total * 2 AS twice FROM c")
    cur.execute("SELECT twice FROM d")
    check(cur.fetchall() == [(2 * sum(range(1, 501)),)], "a view over a snapshot view is wrong")
    want = [("a", "snapshot", True), ("b", "snapshot", False), ("c", "snapshot", True)]
    got = wait_for(want)
    check(got == want, f"c did not rebuild when a new view read it: {got}")
    cur.execute("INSERT INTO t2 VALUES (1, 1000), (9, 5)")
    same()
    want = [("a", "snapshot", True), ("b", "snapshot", True), ("c", "snapshot", True)]
    got = wait_for(want)
    check(got == want, f"views did not rebuild after a write to their table: {got}")
    cur.execute("SELECT twice FROM d")
    check(cur.fetchall() == [(2 * (sum(range(1, 501)) + 1005),)], "d missed a write")
    conn.close()
    s.stop()


@case
def views_checkpointed_without_view_checkpoints_are_recomputed(args, d):
    off = new_server(args, d, ["--no-view-checkpoints"])
    off.start()
    conn = off.connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE t3 (a int)")
    cur.execute("INSERT INTO t3 SELECT g FROM generate_series(1, 100) g")
    cur.execute("CREATE MATERIALIZED VIEW big3 AS SELECT count(*) AS n FROM t3")
    cur.execute("CREATE MATERIALIZED VIEW none3 AS SELECT a FROM t3 WHERE a < 0")
    cur.execute("CHECKPOINT")
    conn.close()
    off.stop(signal.SIGKILL)
    # the checkpoint holds no view rows: with view checkpoints on, the
    # views are recomputed, not loaded empty
    on = new_server(args, d)
    on.start()
    conn = on.connect()
    cur = conn.cursor()
    got = view_sources(cur)
    check(got == [("big3", "recomputed"), ("none3", "recomputed")], f"recovery: {got}")
    cur.execute("SELECT n FROM big3")
    check(cur.fetchall() == [(100,)], "a view came back wrong")
    # now a checkpoint with view rows, one view empty: both are snapshots
    cur.execute("CHECKPOINT")
    conn.close()
    on.stop(signal.SIGKILL)
    on.start()
    conn = on.connect()
    cur = conn.cursor()
    got = view_sources(cur)
    check(got == [("big3", "snapshot"), ("none3", "snapshot")], f"recovery: {got}")
    cur.execute("SELECT n FROM big3")
    check(cur.fetchall() == [(100,)], "a snapshot view came back wrong")
    cur.execute("INSERT INTO t3 VALUES (-5)")
    cur.execute("SELECT a FROM none3")
    check(cur.fetchall() == [(-5,)], "an empty snapshot view missed a write")
    conn.close()
    on.stop()


@case
def clean_shutdown_checkpoints(args, d):
    s = new_server(args, d)
    s.start()
    fill(s, 20)
    conn = s.connect()
    cur = conn.cursor()
    cur.execute("CREATE MATERIALIZED VIEW c4 AS SELECT count(*) AS n FROM t")
    conn.close()
    check(s.stop(signal.SIGTERM) == 0, "SIGTERM did not stop the server cleanly")
    check("checkpoint written" in s.log_tail(40), "no shutdown checkpoint in the log")
    s.start()
    conn = s.connect()
    cur = conn.cursor()
    cur.execute("SELECT name, source FROM ripple_catalog.recovery ORDER BY name")
    got = cur.fetchall()
    check(got == [("c4", "snapshot"), ("t", "checkpoint")], f"recovery after SIGTERM: {got}")
    cur.execute("SELECT n FROM c4")
    check(cur.fetchall() == [(20,)], "the view came back wrong")
    conn.close()
    check(ids(s) == list(range(20)), "rows lost across a clean shutdown")
    s.stop()


def mount(*argv):
    return subprocess.run(["mount", *argv], capture_output=True, text=True).returncode == 0


def sqlstate_of(cur, sql):
    try:
        cur.execute(sql)
        return None
    except psycopg2.Error as e:
        return e.pgcode, str(e).strip()


@case
def full_disk_fails_writes_and_keeps_reads(args, d):
    mnt = os.path.join(d, "mnt")
    os.makedirs(mnt)
    if os.geteuid() != 0 or not mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt):
        return "skip"
    try:
        s = Server(os.path.abspath(args.ripple_bin), 2, os.path.join(mnt, "data"),
                   os.path.join(d, "ripple.log"))
        s.start()
        fill(s, 10)
        conn = s.connect()
        cur = conn.cursor()
        payload = "x" * 20000
        acked, failure = 10, None
        for i in range(10, 10_000):
            failure = sqlstate_of(cur, f"INSERT INTO t VALUES ({i}, '{payload}')")
            if failure:
                break
            acked += 1
        check(failure is not None, "the disk never filled up")
        check(failure[0] == "53100", f"a full disk gave {failure}, not 53100")
        cur.execute("SELECT count(*) FROM t")
        check(cur.fetchone()[0] == acked, "reads on a full disk do not show the acknowledged rows")
        # space comes back: writes work again
        for f in glob.glob(os.path.join(mnt, "data", "checkpoint.*.tmp")):
            os.remove(f)
        subprocess.run(["mount", "-o", "remount,size=8m", mnt], check=True)
        cur.execute(f"INSERT INTO t VALUES ({acked}, 'after')")
        conn.close()
        s.stop(signal.SIGKILL)
        s.start()
        check(ids(s) == list(range(acked + 1)), "acknowledged rows lost after a full disk")
        s.stop()
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


@case
def disk_turning_read_only_keeps_reads(args, d):
    os.makedirs(d)
    img, mnt = os.path.join(d, "disk.img"), os.path.join(d, "mnt")
    os.makedirs(mnt)
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        return "skip"
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["mkfs.ext4", "-q", img], check=True)
    if not mount("-o", "loop,errors=remount-ro", img, mnt):
        return "skip"
    try:
        s = Server(os.path.abspath(args.ripple_bin), 2, os.path.join(mnt, "data"),
                   os.path.join(d, "ripple.log"))
        s.start()
        fill(s, 25)
        dev = os.path.basename(subprocess.run(["findmnt", "-n", "-o", "SOURCE", mnt],
                                              capture_output=True, text=True).stdout.strip())
        with open(f"/sys/fs/ext4/{dev}/trigger_fs_error", "w") as f:
            f.write("1")
        time.sleep(0.2)
        conn = s.connect()
        cur = conn.cursor()
        failure = sqlstate_of(cur, "INSERT INTO t VALUES (999, 'lost')")
        check(failure is not None, "a write on a read-only disk was acknowledged")
        check(failure[0] in ("58030", "53100") and "Read-only file system" in failure[1],
              f"unclear error for a read-only disk: {failure}")
        cur.execute("SELECT count(*) FROM t")
        check(cur.fetchone()[0] == 25, "reads stopped working on a read-only disk")
        failure = sqlstate_of(cur, "CREATE TABLE u (a int)")
        check(failure is not None, "DDL on a read-only disk was acknowledged")
        conn.close()
        s.stop(signal.SIGKILL)
        subprocess.run(["umount", mnt], check=True)
        subprocess.run(["fsck.ext4", "-p", img], capture_output=True)
        check(mount("-o", "loop", img, mnt), "could not mount the repaired disk")
        s.start()
        check(ids(s) == list(range(25)), "acknowledged rows lost on a disk that turned read-only")
        s.stop()
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ripple-bin", default="target/debug/ripple")
    args = ap.parse_args()
    args.ripple_bin = os.path.abspath(args.ripple_bin)
    tmp = tempfile.mkdtemp(prefix="ripple-fault-")
    for c in (torn_tail_is_dropped, corruption_in_the_middle_stops_startup,
              damaged_checkpoint_stops_startup, second_server_and_other_format_are_refused,
              checkpoint_truncates_the_log_and_needs_a_superuser,
              snapshot_views_and_their_dependents,
              views_checkpointed_without_view_checkpoints_are_recomputed,
              clean_shutdown_checkpoints,
              full_disk_fails_writes_and_keeps_reads, disk_turning_read_only_keeps_reads):
        c(args, tmp)
    if FAILED:
        print(f"fault test: {len(FAILED)} failed: {', '.join(FAILED)}; files in {tmp}")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("fault test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
