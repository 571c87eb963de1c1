#!/usr/bin/env bash
# Python acceptors side by side: the same Python work, field by field, on fixgate
# (python/examples/bench_acceptor.py) and on QuickFIX's Python binding
# (python/examples/bench_acceptor_quickfix.py, quickfix-ssl 1.15.1.post4). One FIX 4.4 session
# over loopback; QuickFIX/C++'s initiator (qf-peer, ../shared/peers) sends COUNT NewOrderSingle
# with at most 100 outstanding and waits for every ExecutionReport. The cases alternate, ROUNDS
# times; acceptors run on CPU 0 and qf-peer on CPU 1 (taskset).
#
# Two more cases measure what crossing into Python costs per message: the fixgate Python
# acceptor with a minimal listener (copy() a prebuilt ExecutionReport, set ClOrdID, put()), and
# the Rust `fixgate` binary's acceptor (its executor application answers in Rust). For each
# case: round trips per second (qf-peer's msgs_per_s) and the acceptor's CPU time per order
# (user + system, /proc/PID/stat before and after the run, logon and logout included).
#
#   scripts/bench-python.sh [ROUNDS] [COUNT]        (defaults: 3 rounds, 20,000 orders)
#
# PYTHON: an interpreter with fixgate and quickfix installed; without it the script makes a venv
# in target/bench-python-venv and builds the wheel (maturin --profile wheel, a few minutes).
# FIXGATE_BIN: the Rust binary (default: cargo build --release). FIXGATE_QF_PEER: qf-peer.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
COUNT=${2:-20000}
SHARED=${FIXGATE_SHARED:-../shared}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

PY=${PYTHON:-}
if [ -z "$PY" ] || ! "$PY" -c 'import fixgate, quickfix' 2>/dev/null; then
    VENV=target/bench-python-venv
    [ -x $VENV/bin/python ] || python3 -m venv $VENV
    $VENV/bin/pip install -q maturin quickfix-ssl==1.15.1.post4
    $VENV/bin/maturin build -q --profile wheel -m python/Cargo.toml -o "$WORK/wheel" >&2
    $VENV/bin/pip install -q --force-reinstall "$WORK"/wheel/fixgate-*.whl
    PY=$VENV/bin/python
fi
FG=${FIXGATE_BIN:-}
if [ -z "$FG" ]; then
    cargo build --release -q -p fixgate --bin fixgate
    FG=target/release/fixgate
fi
QF=${FIXGATE_QF_PEER:-$WORK/qf-peer}
[ -x "$QF" ] || "$SHARED/peers/quickfix/build.sh" "$QF" >/dev/null 2>&1
ACC="taskset -c 0"
INI="taskset -c 1"

# The acceptors, each on its own port; idle ones cost (almost) nothing.
declare -A PORT PID
PORT[fixgate-py]=19941; PORT[quickfix-py]=19942; PORT[fixgate-py-min]=19943; PORT[fixgate-rust]=19944
$ACC "$PY" python/examples/bench_acceptor.py --port 19941 >/dev/null 2>&1 & PID[fixgate-py]=$!
$ACC "$PY" python/examples/bench_acceptor_quickfix.py --port 19942 >/dev/null 2>&1 & PID[quickfix-py]=$!
$ACC "$PY" python/examples/bench_acceptor.py --port 19943 --mode min >/dev/null 2>&1 & PID[fixgate-py-min]=$!
printf 'ListenAddress = 127.0.0.1\nListenPort = 19944\nCreateUnregisteredAcceptorSession = Y\n' > "$WORK/fg.properties"
$ACC "$FG" --config "$WORK/fg.properties" --store memory >/dev/null 2>&1 & PID[fixgate-rust]=$!
for case in "${!PORT[@]}"; do # wait until each listens
    for _ in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/${PORT[$case]}) 2>/dev/null && break
        sleep 0.1
    done
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
results=""
run() { # case: one qf-peer run against it; appends "case rate cpu_us_per_order"
    local case=$1 before after out rate
    before=$(cpu_ticks "${PID[$case]}")
    out=$(timeout 180 $INI "$QF" initiator --host 127.0.0.1 --port "${PORT[$case]}" --sender INI \
        --target ACC --begin FIX.4.4 --count "$COUNT" --window 100 --timeout 120 2>/dev/null || true)
    after=$(cpu_ticks "${PID[$case]}")
    rate=$(python3 -c 'import json,sys
try:
    r = json.loads(sys.argv[1].strip().splitlines()[-1])
    print(r["msgs_per_s"] if r["received"] == r["sent"] else "nan")
except Exception: print("nan")' "$out")
    results+="$case $rate $((after - before))"$'\n'
}
for _ in $(seq "$ROUNDS"); do
    for case in fixgate-py quickfix-py fixgate-py-min fixgate-rust; do run "$case"; done
done

python3 - "$ROUNDS" "$COUNT" "$results" "$TCK" <<'PY'
import math, statistics, sys
rounds, count, text, tck = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rate, cpu = {}, {}
for line in text.strip().splitlines():
    case, r, c = line.split()
    if not math.isnan(float(r)):
        rate.setdefault(case, []).append(float(r)); cpu.setdefault(case, []).append(float(c) * 1e6 / tck / count)
def med(d, k): return statistics.median(d[k]) if d.get(k) else math.nan
print(f"{rounds} rounds of {count:,} orders, window 100; acceptor on CPU 0, qf-peer on CPU 1\n")
print("| acceptor | round trips/s, median (min-max) | acceptor CPU per order, median |")
print("|---|---|---|")
names = {"fixgate-py": "fixgate, Python listener (bench_acceptor.py)",
         "quickfix-py": "QuickFIX Python binding (bench_acceptor_quickfix.py)",
         "fixgate-py-min": "fixgate, minimal Python listener (--mode min)",
         "fixgate-rust": "fixgate binary, Rust executor"}
for k, name in names.items():
    v = rate.get(k, [])
    runs = "" if len(v) == rounds else f", {len(v)} of {rounds} runs finished"
    span = f"({min(v)/1000:.1f}-{max(v)/1000:.1f}k{runs})" if v else "(none finished)"
    print(f"| {name} | {med(rate, k)/1000:.1f}k {span} | {med(cpu, k):.1f} µs |")
print(f"\nfixgate Python / QuickFIX Python: {med(rate, 'fixgate-py') / med(rate, 'quickfix-py'):.2f}x "
      f"round trips/s, {med(cpu, 'quickfix-py') / med(cpu, 'fixgate-py'):.2f}x less CPU per order")
print(f"crossing into Python (minimal listener - Rust executor): "
      f"{med(cpu, 'fixgate-py-min') - med(cpu, 'fixgate-rust'):.1f} µs CPU per order; "
      f"the field-by-field work on top: {med(cpu, 'fixgate-py') - med(cpu, 'fixgate-py-min'):.1f} µs")
PY
