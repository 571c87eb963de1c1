#!/usr/bin/env bash
# fixgate's test command: installs what the tests need, then runs every test of the workspace
# (unit, integration, property, fuzz-corpus replay, doc examples, and one pass of each benchmark).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v cargo >/dev/null; then
    echo "test.sh: cargo is required (https://rustup.rs)" >&2
    exit 1
fi

log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT

# The interop peer: QuickFIX/C++ from Debian's packages, built by ../shared's script into a
# temporary folder. Without ../shared a developer's run skips the interop tests; CI fails.
shared="${FIXGATE_SHARED:-$(cd .. && pwd)/shared}"
if [ -x "$shared/peers/quickfix/build.sh" ]; then
    "$shared/peers/quickfix/build.sh" "$work/qf-peer" >&2
    export FIXGATE_QF_PEER="$work/qf-peer"
elif [ "${CI:-}" = "true" ]; then
    echo "test.sh: $shared/peers is missing; CI needs the QuickFIX interop peer" >&2
    exit 1
else
    echo "test.sh: $shared/peers is missing; the interop tests will skip" >&2
fi
# Debian's packages that tests run: openssl (a test runs the certificate command the README and
# the initiator's hint give), chromium (a test loads the status page in a headless browser)
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)
# and PostgreSQL's server (the PostgreSQL store's tests run on a private cluster).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 ||
            echo "test.sh: could not install ${missing[*]}" >&2
    else
        echo "test.sh: ${missing[*]} missing; the tests that need them skip (CI fails)" >&2
    fi
fi
if command -v chromium >/dev/null; then
    FIXGATE_CHROMIUM="$(command -v chromium)"
    export FIXGATE_CHROMIUM
fi
# A private PostgreSQL cluster in the temporary folder, stopped at the end (scripts/postgres.sh).
if FIXGATE_POSTGRES_URL=$(scripts/postgres.sh start "$work/postgres"); then
    export FIXGATE_POSTGRES_URL
    trap 'scripts/postgres.sh stop "$work/postgres"; rm -rf "$log" "$work"' EXIT
elif [ "${CI:-}" = "true" ]; then
    echo "test.sh: CI needs PostgreSQL for the PostgreSQL store's tests" >&2
    exit 1
else
    echo "test.sh: no PostgreSQL; the PostgreSQL store's tests will skip" >&2
fi
cargo test --workspace --all-targets 2>&1 | tee "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"

# The Python package (python/): a wheel built by maturin into a venv of its own, then pytest
# against the fixgate binary. A developer's run reports a failure here and goes on; CI fails.
python_tests() {
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null || { echo "test.sh: $python is required for python/" >&2; return 1; }
    "$python" -m venv "$work/venv" >&2 &&
        "$work/venv/bin/pip" install -q maturin pytest >&2 || return 1
    local started=$SECONDS
    "$work/venv/bin/maturin" build --profile wheel -m python/Cargo.toml -o "$work/wheel" >&2 || return 1
    echo "test.sh: the wheel built in $((SECONDS - started)) s" >&2
    "$work/venv/bin/pip" install -q --force-reinstall "$work"/wheel/fixgate-*.whl >&2 &&
        cargo build -p fixgate --bin fixgate >&2 || return 1
    FIXGATE_BIN="$(pwd)/target/debug/fixgate"
    export FIXGATE_BIN
    started=$SECONDS
    # From python/tests' parent, so that `import fixgate` finds the installed wheel, not the
    # source folder (which has no native module).
    (cd "$work" && "$work/venv/bin/python" -m pytest -p no:cacheprovider "$OLDPWD/python/tests") 2>&1 | tee -a "$log"
    local status=${PIPESTATUS[0]}
    echo "test.sh: pytest ran in $((SECONDS - started)) s" >&2
    return "$status"
}
if ! python_tests; then
    if [ "${CI:-}" = "true" ]; then
        echo "test.sh: the Python package's build or tests failed" >&2
        exit 1
    fi
    echo "test.sh: the Python package's build or tests failed" >&2
fi

# One closing line for the whole run: the sum over every test binary.
# pytest's summary ("=== 7 passed, 1 failed in 3.2s ===") counts too.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^=+ .*(passed|failed|error).* in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|errors?)/) f += $i } }
     END { printf "\ntotal: %d passed, %d failed\n", p, f }' "$log"
