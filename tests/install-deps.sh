#!/usr/bin/env bash
# Install what the tests need, only what is missing (idempotent):
#   - PostgreSQL 15 server (the oracle for slt postgres mode; see tests/pg.sh)
#   - psycopg2 / psycopg 3, asyncpg, SQLAlchemy, pandas (Python client tests)
#   - node-postgres (npm ci in tests/clients/node), pgjdbc (Debian libpostgresql-jdbc-java),
#     Go with lib/pq and pgx v4 (Debian packages, GOPATH mode): the other client tests
# The slt runner itself (tests/slt/run.py) needs only Python 3.11's stdlib.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi

have_pg() {
    [ -x /usr/lib/postgresql/15/bin/pg_ctl ] || [ -x "$(pg_config --bindir 2>/dev/null)/pg_ctl" ]
}

if ! have_pg; then
    echo "install-deps: installing postgresql"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql postgresql-client
else
    echo "install-deps: postgresql present"
fi

py_has() { python3 -c "import $1" >/dev/null 2>&1; }
missing=()
py_has psycopg2 || missing+=(psycopg2-binary)
py_has psycopg || missing+=('psycopg[binary]')
py_has asyncpg || missing+=(asyncpg)
py_has sqlalchemy || missing+=(sqlalchemy)
py_has pandas || missing+=(pandas)
py_has websockets || missing+=(websockets)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: pip installing ${missing[*]}"
    # --break-system-packages: needed on Debian's externally-managed Python; ignored elsewhere.
    python3 -m pip install -q "${missing[@]}" 2>/dev/null \
        || python3 -m pip install -q --break-system-packages "${missing[@]}"
else
    echo "install-deps: python client libraries present"
fi

apt_missing=()
[ -f /usr/share/java/postgresql.jar ] || apt_missing+=(libpostgresql-jdbc-java)
command -v javac >/dev/null 2>&1 || apt_missing+=(default-jdk-headless)
command -v go >/dev/null 2>&1 || apt_missing+=(golang-go)
[ -d /usr/share/gocode/src/github.com/lib/pq ] || apt_missing+=(golang-github-lib-pq-dev)
[ -d /usr/share/gocode/src/github.com/jackc/pgx/v4 ] || apt_missing+=(golang-github-jackc-pgx-v4-dev)
# the fault test's full and read-only disks: a tmpfs and a loop-mounted ext4 image
command -v mkfs.ext4 >/dev/null 2>&1 || apt_missing+=(e2fsprogs)
command -v findmnt >/dev/null 2>&1 || apt_missing+=(util-linux)
command -v mount >/dev/null 2>&1 || apt_missing+=(mount)
if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "install-deps: apt installing ${apt_missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${apt_missing[@]}"
else
    echo "install-deps: pgjdbc, Go drivers and disk tools present"
fi

node_dir="$(cd "$(dirname "$0")" && pwd)/clients/node"
if [ ! -d "$node_dir/node_modules/pg" ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "install-deps: npm ci in tests/clients/node"
        (cd "$node_dir" && npm ci --no-audit --no-fund -q)
    else
        echo "install-deps: npm not found; node client test will be skipped" >&2
    fi
else
    echo "install-deps: node-postgres present"
fi
