#!/usr/bin/env bash
# The acceptor's user+sys CPU per order, from `perf stat` (issue 19, item 7): work moved into the
# kernel counts too, which instruction counts (scripts/bench-instructions.sh) do not see. The
# acceptor (memory store, executor) runs on CPU 0 under perf stat, `fixgate initiate` sends COUNT
# orders at window 100 from CPU 1; ROUNDS alternations of the binaries given.
#
#   scripts/bench-cpu.sh [ROUNDS] [COUNT] [BINARY...]   (defaults: 3, 100000, target/release/fixgate)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
COUNT=${2:-100000}
shift 2 2>/dev/null || shift $#
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then
    cargo build --release -q -p fixgate --bin fixgate
    BINS=(target/release/fixgate)
fi
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

one() { # binary -> microseconds of user+sys CPU per order
    local bin=$1 port=$((19300 + RANDOM % 500))
    taskset -c 0 perf stat -o "$WORK/perf" -- "$bin" --port "$port" --store memory >/dev/null 2>&1 &
    local perf_pid=$!
    for _ in $(seq 100); do
        sleep 0.1
        ss -ltn | grep -q ":$port " && break
    done
    taskset -c 1 "$bin" initiate --port "$port" --sender "C$RANDOM" --target ACC --count "$COUNT" \
        --window 100 --json >/dev/null
    kill -INT "$(pgrep -P "$perf_pid" | head -1)"
    wait "$perf_pid" 2>/dev/null || true
    awk -v n="$COUNT" '/seconds user/ {u=$1} /seconds sys/ {s=$1} END {printf "%.3f", (u+s)/n*1e6}' "$WORK/perf"
}
for round in $(seq "$ROUNDS"); do
    for bin in "${BINS[@]}"; do
        echo "round $round $bin: $(one "$bin") us of user+sys CPU per order"
    done
done
