#!/usr/bin/env bash
# Build and run main.go against Debian's Go packages in GOPATH mode (no module
# downloads); arguments go to the test (--ripple-bin PATH | --pg, --workers N).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS=
export GOCACHE="${GOCACHE:-/tmp/ripple-go-cache}"
[ -d /usr/share/gocode/src/github.com/lib/pq ] && [ -d /usr/share/gocode/src/github.com/jackc/pgx/v4 ] \
    || { echo "run.sh: Go driver packages missing; run tests/install-deps.sh" >&2; exit 2; }
out="$(mktemp -d /tmp/ripple-go-build-XXXXXX)"
trap 'rm -rf "$out"' EXIT
go build -o "$out/go_clients" "$here/main.go"
"$out/go_clients" "$@"
