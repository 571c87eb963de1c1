#!/usr/bin/env bash
# The public API of fixgate-core (or of the crate given), counted from rustdoc's JSON output:
# items, the paths they are reachable by, their public members, and the items with more than one
# path. rustdoc's JSON is unstable, so this runs it with RUSTC_BOOTSTRAP on the stable toolchain.
#
#   scripts/public-items.sh [crate]          (default: fixgate-core)
set -euo pipefail
cd "$(dirname "$0")/.."
CRATE=${1:-fixgate-core}
RUSTC_BOOTSTRAP=1 cargo rustdoc -q -p "$CRATE" -- -Z unstable-options --output-format json
python3 scripts/public-items.py "target/doc/${CRATE//-/_}.json"
