#!/usr/bin/env bash
# Latency at a fixed offered rate (issue 7, item 3): open loop, order i due at i / R seconds,
# latency from that due time to the receipt of its ExecutionReport (no coordinated omission).
# fixgate against itself, QuickFIX's qf-peer against itself (its own pacing spins too), raw-pair
# (a bare socket echo of the same bytes, paced the same way), and the two mixed pairs; then
# fixgate with ReceiveSpinningTimeout = 2000 µs at both ends beside raw-pair --spin (readers that
# poll instead of sleeping, for 2 ms after the last bytes). Acceptors on CPU 0, initiators on
# CPU 1; the seven alternate, ROUNDS times per rate. Prints one JSON line per run, then a
# markdown table: the median of the rounds, with min and max.
#
#   scripts/bench-latency.sh [ROUNDS] [SECONDS]        (defaults: 3 rounds of 10 s per rate)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
SHARED=${FIXGATE_SHARED:-../shared}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
cargo build --release -q -p fixgate -p fixgate-tests --bin fixgate --bin raw-pair
QF=${FIXGATE_QF_PEER:-$WORK/qf-peer}
[ -x "$QF" ] || "$SHARED/peers/quickfix/build.sh" "$QF" >/dev/null 2>&1
taskset -c 0 target/release/fixgate --port 19951 --store memory >/dev/null 2>&1 &
taskset -c 0 "$QF" acceptor --port 19952 --sender ACC --target INI --begin FIX.4.4 --quiet >/dev/null 2>&1 &
taskset -c 0 target/release/raw-pair server --port 19953 >/dev/null 2>&1 &
printf 'ListenAddress = 127.0.0.1\nListenPort = 19954\nCreateUnregisteredAcceptorSession = true\nStorageType = memory\nReceiveSpinningTimeout = 2000\n' \
    > "$WORK/spin.properties"
taskset -c 0 target/release/fixgate --config "$WORK/spin.properties" >/dev/null 2>&1 &
taskset -c 0 target/release/raw-pair server --port 19955 --spin >/dev/null 2>&1 &
sleep 1
n=0
for rate in 1000 10000; do
    count=$((rate * SECONDS_PER_RUN))
    for _ in $(seq "$ROUNDS"); do
        n=$((n + 1))
        echo "rate=$rate fixgate $(taskset -c 1 target/release/fixgate initiate --port 19951 --sender LAT$n --target ACC --count $count --rate $rate --json)"
        echo "rate=$rate quickfix $(taskset -c 1 "$QF" initiator --host 127.0.0.1 --port 19952 --sender INI --target ACC --begin FIX.4.4 --count $count --rate $rate 2>/dev/null | tail -1)"
        echo "rate=$rate raw $(taskset -c 1 target/release/raw-pair client --port 19953 --count $count --rate $rate)"
        # The mixed pairs tell the two ends apart: the same initiator against either acceptor.
        echo "rate=$rate quickfix-to-fixgate $(taskset -c 1 "$QF" initiator --host 127.0.0.1 --port 19951 --sender QLAT$n --target ACC --begin FIX.4.4 --count $count --rate $rate 2>/dev/null | tail -1)"
        echo "rate=$rate fixgate-to-quickfix $(taskset -c 1 target/release/fixgate initiate --port 19952 --sender INI --target ACC --count $count --rate $rate --json)"
        echo "rate=$rate fixgate-spin $(taskset -c 1 target/release/fixgate initiate --port 19954 --sender SLAT$n --target ACC --count $count --rate $rate --receive-spinning-timeout 2000 --json)"
        echo "rate=$rate raw-spin $(taskset -c 1 target/release/raw-pair client --port 19955 --count $count --rate $rate --spin)"
    done
done | tee "$WORK/runs"
python3 - "$WORK/runs" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    head, _, body = line.partition(" {")
    rate, engine = head.split()
    runs.setdefault((int(rate[5:]), engine), []).append(json.loads("{" + body))
# The last column: reports a millisecond or more late, per mille (the machine's stalls; qf-peer
# does not report it). Where it nears 10, p99 falls among the stalls.
def spread(rs, key, form):
    if not all(key in r for r in rs):
        return "n/a"
    values = [r[key] for r in rs]
    return (form + " (" + form + "-" + form + ")") % (statistics.median(values), min(values), max(values))
print("\n| rate | engine | p50 µs | p99 µs | p99.9 µs | ≥ 1 ms ‰ |\n|---|---|---|---|---|---|")
for (rate, engine), rs in sorted(runs.items()):
    cells = [spread(rs, k, "%.0f") for k in ("p50_us", "p99_us", "p999_us")]
    cells.append(spread(rs, "over_1ms_permille", "%.1f"))
    print(f"| {rate}/s | {engine} | " + " | ".join(cells) + " |")
PY
