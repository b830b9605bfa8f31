#!/usr/bin/env bash
# README command 2: install what the tests need, then run every test.
#   1. tests/install-deps.sh   PostgreSQL (the oracle) and Python drivers, if missing
#   2. cargo fmt/clippy checks and the crate dependency arrows
#   3. Rust unit tests (cargo nextest, falling back to cargo test)
#   4. sqllogictest files against ripple with --workers 1 and --workers 4
#   5. the same files against PostgreSQL (where standard SQL)
#   6. client tests (psql, TLS/SCRAM, psycopg2, psycopg 3, asyncpg, SQLAlchemy, node-postgres,
#      pgjdbc, Go lib/pq + pgx), streams (COPY, SUBSCRIBE, temporal filters), sources, the HTTP
#      API and the BI-tool query corpus against a real ripple process
#   7. the crash test (tests/crash/crash_test.py: SIGKILL under concurrent writes, then every
#      acknowledged write and every view checked), the fault test (tests/crash/fault_test.py: a
#      damaged log or checkpoint, full and read-only disks), the differential oracle (tests/oracle/oracle.py)
#      and a short SQL fuzzing run (tests/fuzz/sqlfuzz.py);
#      longer local runs: --rounds / --seconds and --seed
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -q -- -D warnings

echo "== crate dependency arrows"
bash tests/check-deps.sh

echo "== unit tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace
fi

cargo build --bin ripple
BIN="$PWD/target/debug/ripple"

echo "== sqllogictest against ripple (1 worker)"
python3 tests/slt/run.py --engine ripple --ripple-bin "$BIN" --workers 1 tests/slt
echo "== sqllogictest against ripple (4 workers)"
python3 tests/slt/run.py --engine ripple --ripple-bin "$BIN" --workers 4 tests/slt

echo "== sqllogictest against PostgreSQL"
bash tests/pg.sh start
python3 tests/slt/run.py --engine postgres --pg-host 127.0.0.1 --pg-port "${PGTEST_PORT:-54329}" --pg-user postgres tests/slt

if [ -f tests/clients/test_psycopg.py ]; then
    echo "== client tests (psycopg2)"
    python3 tests/clients/test_psycopg.py --ripple-bin "$BIN" --workers 1
    python3 tests/clients/test_psycopg.py --ripple-bin "$BIN" --workers 4
fi
echo "== client tests (psql meta-commands, tab completion, Ctrl-C)"
python3 tests/clients/test_psql.py --ripple-bin "$BIN" --workers 2
echo "== client tests (TLS)"
python3 tests/clients/test_tls.py --ripple-bin "$BIN"
echo "== client tests (psycopg 3, extended protocol, PostgreSQL as oracle)"
python3 tests/clients/test_psycopg3.py --ripple-bin "$BIN" --workers 1
python3 tests/clients/test_psycopg3.py --ripple-bin "$BIN" --workers 4
echo "== client matrix (docs/clients.md): asyncpg, SQLAlchemy + pandas, node-postgres, pgjdbc, Go lib/pq + pgx"
python3 tests/clients/test_asyncpg.py --ripple-bin "$BIN"
echo "== streams: COPY in and out (vs PostgreSQL), SUBSCRIBE with a concurrent writer, cursors, slow subscribers"
python3 tests/clients/test_streams.py --ripple-bin "$BIN" --workers 1
python3 tests/clients/test_streams.py --ripple-bin "$BIN" --workers 4
echo "== sources: load generators, files, restarts without repeats; the HTTP API and webhook sources"
python3 tests/clients/test_sources.py --ripple-bin "$BIN" --workers 2
python3 tests/clients/test_http.py --ripple-bin "$BIN" --workers 2
python3 tests/clients/test_sqlalchemy.py --ripple-bin "$BIN"
node tests/clients/node/test_pg.js --ripple-bin "$BIN"
bash tests/clients/jdbc/run.sh --ripple-bin "$BIN"
bash tests/clients/go/run.sh --ripple-bin "$BIN"
echo "== BI tools' connect and schema-browsing queries (tests/clients/bi/corpus.sql)"
python3 tests/clients/bi/run_corpus.py --ripple-bin "$BIN"
echo "== crash test: concurrent writers and DDL, SIGKILL at random moments, restart, nothing acknowledged lost"
python3 tests/crash/crash_test.py --ripple-bin "$BIN" --rounds 10 --seed 1
echo "== fault test: torn and corrupt log, damaged checkpoint, lock, format, checkpoints, snapshots, full and read-only disks"
python3 tests/crash/fault_test.py --ripple-bin "$BIN"
echo "== differential oracle: materialized views vs PostgreSQL under random writes"
python3 tests/oracle/oracle.py --ripple-bin "$BIN" --rounds 15 --seed 1 --workers 4
echo "== SQL fuzzing (no input may crash or hang the server)"
python3 tests/fuzz/sqlfuzz.py --ripple-bin "$BIN" --seconds 30 --seed 1
echo "== all tests passed"
