#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh TARGET SECONDS
# The toolchain here is stable; RUSTC_BOOTSTRAP lets cargo-fuzz pass its nightly-only flags.
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:-600}
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p "corpus/$target"
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10
# Keep the committed corpus small: merge into a minimal set.

RUSTC_BOOTSTRAP=1 cargo fuzz cmin "$target" "corpus/$target" >/dev/null 2>&1 || true

