#!/usr/bin/env bash
# Checks the dependency arrows of the design guide: catalog uses no other
# workspace crate; planner no timely/differential/tokio/pgwire; dataflow no
# pgwire/tokio/sqlparser (direct dependencies; planner carries sqlparser).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
deps() { cargo tree -p "$1" -e normal --depth 1 --prefix none 2>/dev/null | awk '{print $1}' | sort -u; }
check() {
    local crate=$1; shift
    local tree; tree=$(deps "$crate")
    for banned in "$@"; do
        if grep -qx "$banned" <<<"$tree"; then
            echo "check-deps: $crate must not depend on $banned"; fail=1
        fi
    done
}
check catalog planner dataflow server timely differential-dataflow sqlparser tokio pgwire
check planner dataflow server timely differential-dataflow tokio pgwire
check dataflow server pgwire tokio sqlparser
[ "$fail" = 0 ] && echo "check-deps: ok"
exit "$fail"
