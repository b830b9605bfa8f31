#!/usr/bin/env bash
# Compile JdbcTest.java against Debian's pgjdbc (libpostgresql-jdbc-java) into a
# temp dir and run it; arguments go to the test (--ripple-bin PATH | --pg, --workers N).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
JAR="${PGJDBC_JAR:-/usr/share/java/postgresql.jar}"
[ -f "$JAR" ] || { echo "run.sh: $JAR missing; run tests/install-deps.sh" >&2; exit 2; }
out="$(mktemp -d /tmp/ripple-jdbc-classes-XXXXXX)"
trap 'rm -rf "$out"' EXIT
javac -d "$out" -cp "$JAR" "$here/JdbcTest.java"
java -cp "$out:$JAR" JdbcTest "$@"
