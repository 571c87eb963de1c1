#!/usr/bin/env bash
# fixgate's codec beside QuickFIX/C++ and fefix, measured in the same run (shared/research/codec-anchors.md).
# usage: scripts/codec-anchors.sh [ITERS=1000000] [PASSES=2] [OUTDIR=/tmp/fixgate-codec-anchors]
# Interleaves QuickFIX, fefix and fixgate PASSES times, each pinned to CPU 1, then prints the
# medians and the fixgate/anchor ratios per pass. Needs ../shared beside the repository.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${FIXGATE_SHARED:-$repo/../shared}"
iters="${1:-1000000}"
passes="${2:-2}"
out="${3:-/tmp/fixgate-codec-anchors}"
mkdir -p "$out"
rm -f "$out"/*.jsonl

"$shared/peers/quickfix/codec_bench.sh" /tmp/qf-codec-bench/codec_bench
(cd "$shared/research/limits/fefix_bench" && CARGO_TARGET_DIR=/tmp/fefix_target cargo build --release --quiet)
# The bench executable of package $1, bench target $2.
bench_exe() {
    (cd "$repo" && cargo bench -p "$1" --bench "$2" --no-run --quiet &&
        cargo bench -p "$1" --bench "$2" --no-run --message-format=json 2>/dev/null) |
        python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and sys.argv[1] in m["executable"]][-1])' "$2"
}
ours=$(bench_exe fixgate-core anchors)
validation=$(bench_exe fixgate-dictionary validate_anchors)

spec="$shared/conformance/quickfix/spec/FIX44.xml"
for pass in $(seq 1 "$passes"); do
    echo "pass $pass/$passes" >&2
    taskset -c 1 /tmp/qf-codec-bench/codec_bench "$iters" "$spec" > "$out/quickfix-pass$pass.jsonl"
    taskset -c 1 /tmp/fefix_target/release/fefix_bench "$iters" > "$out/fefix-pass$pass.jsonl"
    taskset -c 1 "$ours" --bench "$iters" > "$out/fixgate-pass$pass.jsonl"
    FIXGATE_SHARED="$shared" taskset -c 1 "$validation" --bench "$iters" >> "$out/fixgate-pass$pass.jsonl"
done
python3 "$repo/scripts/codec-anchors-table.py" "$out"
