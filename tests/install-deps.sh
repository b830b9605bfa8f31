#!/usr/bin/env bash
# Install what the tests need, only what is missing (idempotent):
#   - PostgreSQL 15 server (the oracle for slt postgres mode; see tests/pg.sh)
#   - psycopg2 / psycopg 3 (client tests)
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
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: pip installing ${missing[*]}"
    # --break-system-packages: needed on Debian's externally-managed Python; ignored elsewhere.
    python3 -m pip install -q "${missing[@]}" 2>/dev/null \
        || python3 -m pip install -q --break-system-packages "${missing[@]}"
else
    echo "install-deps: python client libraries present"
fi
