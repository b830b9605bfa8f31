#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the slt tests (the oracle for postgres mode).
#
#   tests/pg.sh start   init (first time) and start the cluster; fine if already running
#   tests/pg.sh stop    stop it (data dir is kept; `rm -rf $PGTEST_DIR` to reset)
#   tests/pg.sh env     print export lines: eval "$(tests/pg.sh env)"
#
# PostgreSQL refuses to run as root, so initdb/pg_ctl run as the `postgres`
# OS user. Trust auth, 127.0.0.1 only, port 54329 (override with PGTEST_PORT).
set -euo pipefail

PORT="${PGTEST_PORT:-54329}"
DIR="${PGTEST_DIR:-/tmp/ripple-pgtest}"
DATA="$DIR/data"
LOG="$DIR/postgres.log"
OS_USER=postgres

find_bindir() {
    local d
    for d in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
        if [ -n "$d" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    done
    local p; p="$(command -v pg_ctl || true)"
    if [ -n "$p" ]; then dirname "$(readlink -f "$p")"; return; fi
    echo "pg.sh: PostgreSQL binaries not found; run tests/install-deps.sh" >&2
    exit 1
}

# Run a command as the postgres OS user (or directly if we are not root),
# from a directory that user can enter.
as_pg() {
    (
        cd "$DIR" 2>/dev/null || cd /tmp
        if [ "$(id -u)" = 0 ]; then
            runuser -u "$OS_USER" -- "$@"
        else
            "$@"
        fi
    )
}

is_running() {
    [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

do_start() {
    if [ ! -f "$DATA/PG_VERSION" ]; then
        mkdir -p "$DIR"
        [ "$(id -u)" = 0 ] && chown "$OS_USER" "$DIR"
        as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if is_running; then
        echo "pg.sh: already running on 127.0.0.1:$PORT"
        return
    fi
    # -k: unix socket in our dir (avoids needing /var/run/postgresql).
    # Fixed session defaults so results do not depend on the host:
    # UTC, ISO dates, English messages (initdb --locale=C also gives C collation).
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-p $PORT -h 127.0.0.1 -k $DIR -c fsync=off -c full_page_writes=off -c TimeZone=UTC -c DateStyle=ISO,MDY -c lc_messages=C" \
        start >/dev/null || { tail -n 30 "$LOG" >&2; exit 1; }
    echo "pg.sh: started on 127.0.0.1:$PORT (data $DATA)"
}

do_stop() {
    if is_running; then
        as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
        echo "pg.sh: stopped"
    else
        echo "pg.sh: not running"
    fi
}

BIN="$(find_bindir)"
case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    env)
        echo "export PGHOST=127.0.0.1"
        echo "export PGPORT=$PORT"
        echo "export PGUSER=postgres"
        echo "export PGDATABASE=postgres"
        ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
