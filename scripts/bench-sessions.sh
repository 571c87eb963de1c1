#!/usr/bin/env bash
# Many sessions (issue 7, item 4): the `fixgate` acceptor (unregistered sessions, memory stores)
# and `many-sessions`, which logs N counterparties on with HeartBtInt 1 and holds them. Prints
# the time for all Logons, the acceptor's resident memory per session, and the Heartbeat gaps;
# and one busy session's round trips per second alone and beside the idle sessions.
#
#   scripts/bench-sessions.sh [SESSIONS] [HOLD_SECONDS]      (defaults: 1000, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-1000}
HOLD=${2:-60}
ulimit -n $((SESSIONS * 2 + 256))
cargo build --release -q -p fixgate -p fixgate-tests --bin fixgate --bin many-sessions
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
printf 'ListenPort = 19931\nCreateUnregisteredAcceptorSession = Y\nStorageType = memory\nMaxPendingConnections = %s\n' \
    "$SESSIONS" > "$WORK/many.properties"
taskset -c 0 target/release/fixgate --config "$WORK/many.properties" >/dev/null 2>&1 &
sleep 1
# One busy session (fixgate initiate, window 1 and 100), alone and then beside the idle ones: the
# engine's work per message must not grow with the number of sessions.
busy() { # label
    for window in 1 100; do
        echo "{\"busy_session\":\"$1\",\"window\":$window,\"report\":$(taskset -c 1 \
            target/release/fixgate initiate --port 19931 --sender "BUSY$1$window" --target ACC \
            --count 20000 --window $window --json | tail -1)}"
    done
}
busy alone
taskset -c 1 target/release/many-sessions --port 19931 --sessions "$SESSIONS" --heartbeat 1 \
    --hold "$HOLD" --pid "$(pgrep -n -f "fixgate --config $WORK/many.properties")" &
# The Logons take well under a second; the busy runs then share the hold (whose Heartbeats must
# stay on time meanwhile) and the initiator's CPU with the many-sessions client.
sleep 3
busy "beside-$SESSIONS"
wait %2
