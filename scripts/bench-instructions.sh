#!/usr/bin/env bash
# Instructions per round trip on the acceptor, independent of the machine's load (issue 7): the
# `fixgate` acceptor (memory store, executor) runs under callgrind while `fixgate initiate` sends
# N1 and then N2 orders (window 100) on two fresh sessions; the difference of the two totals over
# N2 - N1 is the acceptor's userland instructions per order (startup cancels out). Kernel time is
# not counted. Needs valgrind.
#
#   scripts/bench-instructions.sh [N1] [N2]        (defaults: 5,000 and 25,000)
#   FIXGATE_BIN=path/to/fixgate scripts/bench-instructions.sh    (compare another build)
#   FIXGATE_DICTIONARY=../shared/conformance/quickfix/spec/FIX44.xml scripts/bench-instructions.sh
#                                   (the acceptor validates every message against that dictionary)
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${1:-5000}
N2=${2:-25000}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [ -z "${FIXGATE_BIN:-}" ]; then
    cargo build --release -q -p fixgate --bin fixgate
fi
BIN=${FIXGATE_BIN:-target/release/fixgate}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CONFIG=()
if [ -n "${FIXGATE_DICTIONARY:-}" ]; then
    cp fixgate/fixgate.properties "$WORK/engine.properties"
    printf 'Session.Default.UseDataDictionary = Y\nSession.Default.DataDictionary = %s\n' \
        "$(realpath "$FIXGATE_DICTIONARY")" >> "$WORK/engine.properties"
    CONFIG=(--config "$WORK/engine.properties")
fi

total() { # orders -> instructions of an acceptor that served them
    local n=$1 port=$((19700 + RANDOM % 200))
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" "${CONFIG[@]}" \
        --port "$port" --store memory >/dev/null 2>"$WORK/err" &
    local pid=$!
    for _ in $(seq 150); do
        sleep 0.2
        ss -ltn | grep -q ":$port " && break
    done
    "$BIN" initiate --port "$port" --sender "IR$n" --target ACC --count "$n" --window 100 \
        --json >/dev/null
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    grep -o "Collected : [0-9]*" "$WORK/err" | awk '{print $3}'
}
a=$(total "$N1")
b=$(total "$N2")
echo "{\"orders\":[$N1,$N2],\"instructions\":[$a,$b],\"per_order\":$(((b - a) / (N2 - N1)))}"
