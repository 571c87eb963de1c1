#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and benchmarks, from Debian's packages:
#   scripts/postgres.sh start DIR   initdb into DIR (as the unprivileged user `postgres` when run
#                                   as root), start it on a free loopback port with its socket in
#                                   DIR, and print the URL to connect with;
#   scripts/postgres.sh restart DIR [DOWN_SECONDS]
#                                   stop it, and start it again (same port) after that long;
#   scripts/postgres.sh stop DIR    stop it.
# The server keeps PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes).
set -euo pipefail

bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$dir/initdb" ] || { echo "postgres.sh: PostgreSQL's server is not installed" >&2; return 1; }
    echo "$dir"
}

# Runs a server command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-}" in
start)
    dir=$2
    bin=$(bindir)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        # The owner must reach the folder through its parents (mktemp makes them private).
        parent=$dir
        while parent=$(dirname "$parent") && [ "$parent" != / ]; do chmod o+x "$parent"; done
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U fixgate --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300" >"$dir/options"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$(cat "$dir/options")" start >&2
    echo "postgresql://fixgate@127.0.0.1:$port/postgres"
    ;;
restart)
    # The same cluster, port and socket: clients see their connections drop and, after
    # DOWN_SECONDS (default 0), the server back.
    dir=$2
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    sleep "${3:-0}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$(cat "$dir/options")" start >&2
    ;;
stop)
    dir=$2
    bin=$(bindir)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    ;;
*)
    echo "usage: $0 start|restart|stop DIR" >&2
    exit 2
    ;;
esac
