#!/usr/bin/env bash
# Runs the whole suite with bun test and closes with the line CI reads:
# "N passed, N failed, N skipped". bun's own summary is split over several lines.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
./node_modules/.bin/bun test --timeout 120000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count() { grep -E "^ *[0-9]+ $1\$" "$log" | tail -1 | awk '{print $1}'; }
pass=$(count pass); fail=$(count fail); skip=$(count skip)
rm -f "$log"
# bun exits non-zero on an unhandled error between tests even when no test failed.
if [ "$rc" -ne 0 ] && [ "${fail:-0}" -eq 0 ]; then fail=1; fi
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit "$rc"
