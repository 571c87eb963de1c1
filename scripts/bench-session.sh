#!/usr/bin/env bash
# Session throughput side by side (issue 7, item 2): fixgate against itself, QuickFIX C++
# (qf-peer from ../shared/peers) against itself, the mixed pairs, and the raw-socket ceiling
# (tests/src/bin/raw-pair.rs: the same bytes and window, no FIX work). One FIX 4.4 session over
# loopback, NewOrderSingle -> one ExecutionReport. The cases alternate A B A B, ROUNDS times;
# acceptors run on CPU 0 and initiators on CPU 1 (taskset). Prints a markdown table: the median
# of the round trips per second, with min and max, and the ratios of the medians.
#
#   scripts/bench-session.sh [ROUNDS] [COUNT]        (defaults: 3 rounds, 100,000 orders)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
COUNT=${2:-100000}
SHARED=${FIXGATE_SHARED:-../shared}
WORK=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -q -p fixgate -p fixgate-tests --bin fixgate --bin raw-pair --bin smol-acceptor
FG=target/release/fixgate
RAW=target/release/raw-pair
QF=${FIXGATE_QF_PEER:-$WORK/qf-peer}
[ -x "$QF" ] || "$SHARED/peers/quickfix/build.sh" "$QF" >/dev/null 2>&1
ACC="taskset -c 0"
INI="taskset -c 1"

# Acceptors, one per flavour, each on its own port; idle ones cost nothing.
start_fixgate() { # port, durability (memory|process|batch|each)
    local port=$1 mode=$2 store=file
    [ "$mode" = memory ] && store=memory
    printf 'ListenPort = %s\nCreateUnregisteredAcceptorSession = Y\nStorageDirectory = %s\nSession.Default.StorageDurability = %s\n' \
        "$port" "$WORK/fg-$port" "${mode/memory/process}" > "$WORK/fg-$port.properties"
    $ACC $FG --config "$WORK/fg-$port.properties" --store $store >/dev/null 2>&1 &
}
start_fixgate 19901 memory
start_fixgate 19902 process
start_fixgate 19903 batch
start_fixgate 19904 each
$ACC "$QF" acceptor --port 19911 --sender ACC --target INI --begin FIX.4.4 --quiet >/dev/null 2>&1 &
$ACC "$QF" acceptor --port 19912 --sender ACC --target INI --begin FIX.4.4 --quiet \
    --store "$WORK/qf-store" >/dev/null 2>&1 &
$ACC $RAW server --port 19921 >/dev/null 2>&1 &
# The async-io adapter under smol (item 6), with the same executor application.
$ACC target/release/smol-acceptor --port 19905 >/dev/null 2>&1 &
sleep 1

# A run that failed or timed out (QuickFIX's own initiator can hang with an unbounded window)
# counts as nothing: it is left out of the medians, and the table says how many ran. The report
# is read after the run has ended: a parser started beside it (a pipe) would take CPU time from
# a run that lasts a fraction of a second.
rate() { python3 -c 'import json,sys
lines = sys.argv[1].strip().splitlines()
try: print(json.loads(lines[-1])["msgs_per_s"])
except Exception: print("nan")' "$1"; }
# Our initiator logs on as a new CompID each time (the acceptor creates the session; each run is
# in a subshell of its own, whose PID names it); towards QuickFIX it must be INI, the one session
# qf-peer serves.
fg_ini() {
    local sender="L$BASHPID" out
    [ "$1" -ge 19911 ] && sender=INI
    out=$($INI $FG initiate --port "$1" --sender "$sender" --target ACC --count "$COUNT" \
        --window "$2" --timeout 60 --json || true)
    rate "$out"
}
qf_ini() {
    local out
    out=$(timeout 120 $INI "$QF" initiator --host 127.0.0.1 --port "$1" --sender INI \
        --target ACC --begin FIX.4.4 --count "$COUNT" --window "$2" 2>/dev/null || true)
    rate "$out"
}
raw_ini() {
    local out
    out=$($INI $RAW client --port 19921 --count "$COUNT" --window "$1" || true)
    rate "$out"
}

declare -A results
run_case() { # name, then "label:command" pairs run alternately
    local name=$1; shift
    for _ in $(seq "$ROUNDS"); do
        for pair in "$@"; do
            local label=${pair%%:*} cmd=${pair#*:}
            results["$name/$label"]+="$(eval "$cmd") "
        done
    done
}
for w in 100 1 0; do
    run_case "memory W=$w" "fg:fg_ini 19901 $w" "qf:qf_ini 19911 $w" "raw:raw_ini $w"
done
run_case "runtimes, W=100" "tokio:fg_ini 19901 100" "smol:fg_ini 19905 100"
run_case "fixgate -> QuickFIX, W=100" "fg:fg_ini 19911 100"
run_case "QuickFIX -> fixgate, W=100" "qf:qf_ini 19901 100"
run_case "file store, W=100" "process:fg_ini 19902 100" "qf:qf_ini 19912 100" \
    "batch:fg_ini 19903 100" "each:fg_ini 19904 100" "memory:fg_ini 19901 100"

python3 - "$ROUNDS" "$COUNT" <<PY
import math, statistics, sys
nan = math.nan
r = {$(for k in "${!results[@]}"; do printf '"%s": [%s],' "$k" "$(echo ${results[$k]} | tr ' ' ',')"; done)}
def s(key):
    v = [x for x in r.get(key, []) if not math.isnan(x)]
    if not v: return nan, "-"
    m = statistics.median(v)
    runs = "" if len(v) == int(sys.argv[1]) else f", {len(v)} of {sys.argv[1]} runs finished"
    return m, f"{m/1000:.1f}k ({min(v)/1000:.1f}-{max(v)/1000:.1f}k{runs})"
print(f"{sys.argv[1]} rounds of {int(sys.argv[2]):,} orders; acceptor on CPU 0, initiator on CPU 1\n")
print("| case | fixgate | QuickFIX | fixgate / QuickFIX | raw-socket ceiling | fixgate / ceiling |")
print("|---|---|---|---|---|---|")
for w in ("100", "1", "0"):
    c = f"memory W={w}"
    fg, fgs = s(c + "/fg"); qf, qfs = s(c + "/qf"); raw, raws = s(c + "/raw")
    print(f"| memory store, window {w if w != '0' else 'unbounded'} | {fgs} | {qfs} | {fg/qf:.2f}x | {raws} | {fg/raw:.0%} |")
tokio, _ = s("runtimes, W=100/tokio"); smol, smols = s("runtimes, W=100/smol")
print(f"| memory store, window 100, acceptor on async-io (smol) | {smols} ({smol/tokio:.0%} of tokio's in the same rounds) | | | | |")
_, a = s("fixgate -> QuickFIX, W=100/fg"); _, b = s("QuickFIX -> fixgate, W=100/qf")
print(f"| fixgate initiator -> QuickFIX acceptor, W=100 | {a} | | | | |")
print(f"| QuickFIX initiator -> fixgate acceptor, W=100 | {b} | | | | |")
mem, _ = s("file store, W=100/memory"); qf, qfs = s("file store, W=100/qf")
for mode in ("process", "batch", "each"):
    v, vs = s("file store, W=100/" + mode)
    print(f"| file store ({mode}), W=100 | {vs} ({v/mem:.0%} of memory) | {qfs if mode == 'process' else ''} | {f'{v/qf:.2f}x' if mode == 'process' else ''} | | |")
PY
