#!/usr/bin/env bash
# The PostgreSQL store's throughput (issue 21, outside CI), beside the file store's `batch`
# durability in the same run:
#   - one session at window 100, the cases alternating A B A B, ROUNDS times;
#   - SESSIONS sessions at once (one `fixgate initiate` each), on one database and on files.
# A private cluster from Debian's packages (scripts/postgres.sh) with PostgreSQL's durable
# defaults; its settings are printed. Acceptors run on CPU 0, the initiators and the database
# share CPU 1 (taskset; PG_CPUS=0,1 lets the database run on either): the machine has two.
#
#   scripts/bench-postgres.sh [ROUNDS] [COUNT] [SESSIONS]   (defaults: 3, 100,000, 100)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
COUNT=${2:-100000}
SESSIONS=${3:-100}
WORK=$(mktemp -d)
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    scripts/postgres.sh stop "$WORK/pg" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n $((SESSIONS * 4 + 256))

cargo build --release -q -p fixgate --bin fixgate
FG=target/release/fixgate
URL=$(taskset -c "${PG_CPUS:-1}" scripts/postgres.sh start "$WORK/pg")
echo "PostgreSQL: $(psql "$URL" -Atc 'SHOW server_version')," \
    "$(psql "$URL" -Atc "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method',
                       'shared_buffers', 'wal_buffers', 'commit_delay', 'max_wal_size')")"

start() { # port, storage lines
    printf 'ListenPort = %s\nCreateUnregisteredAcceptorSession = Y\nMaxPendingConnections = 1000\n%b' \
        "$1" "$2" > "$WORK/$1.properties"
    taskset -c 0 $FG --config "$WORK/$1.properties" >/dev/null 2>&1 &
}
start 19941 "StorageType = file\nStorageDirectory = $WORK/files\nSession.Default.StorageDurability = batch\n"
start 19942 "StorageType = postgres\nPostgresUrl = $URL\nInstanceName = bench\n"
sleep 2

rate() { python3 -c 'import json,sys
try: print(json.loads(sys.argv[1].strip().splitlines()[-1])["msgs_per_s"])
except Exception: print("nan")' "$1"; }
one() { # port: one session's round trips per second at window 100, as a new CompID
    rate "$(taskset -c 1 $FG initiate --port "$1" --sender "S$BASHPID" --target ACC \
        --count "$COUNT" --window 100 --timeout 300 --json || true)"
}
many() { # port: SESSIONS sessions at once, COUNT / SESSIONS orders each; orders per second
    local per=$((COUNT / SESSIONS)) start end
    start=$(date +%s.%N)
    for i in $(seq "$SESSIONS"); do
        taskset -c 1 $FG initiate --port "$1" --sender "M$1x$i$RANDOM" --target ACC \
            --count "$per" --window 10 --timeout 300 --json >"$WORK/many-$i.json" 2>/dev/null &
    done
    wait $(jobs -p | tail -n "$SESSIONS")
    end=$(date +%s.%N)
    python3 -c 'import json,sys
n, per, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
done = sum(1 for i in range(1, n + 1)
           if json.loads(open(f"{sys.argv[5]}/many-{i}.json").read().strip().splitlines()[-1])["received"] == per)
print(f"{n * per / secs:.0f},{done}")' "$SESSIONS" "$per" "$start" "$end" "$WORK"
}

file=() pg=() mfile=() mpg=()
for _ in $(seq "$ROUNDS"); do
    file+=("$(one 19941)")
    pg+=("$(one 19942)")
done
for _ in $(seq "$ROUNDS"); do
    mfile+=("$(many 19941)")
    mpg+=("$(many 19942)")
done
python3 - "$ROUNDS" "$COUNT" "$SESSIONS" "${file[*]}" "${pg[*]}" "${mfile[*]}" "${mpg[*]}" <<'PY'
import math, statistics, sys
rounds, count, sessions = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def median(values):
    values = [v for v in values if not math.isnan(v)]
    return (statistics.median(values), values) if values else (math.nan, [])
def shown(m, values):
    return f"{m/1000:.1f}k ({min(values)/1000:.1f}-{max(values)/1000:.1f}k)" if values else "-"
print(f"\n{rounds} rounds; acceptors on CPU 0, initiators and the database on CPU 1\n")
print("| case | file store (batch) | PostgreSQL store | PostgreSQL / file |")
print("|---|---|---|---|")
f, fv = median([float(x) for x in sys.argv[4].split()])
p, pv = median([float(x) for x in sys.argv[5].split()])
print(f"| one session, window 100, {count:,} orders (round trips/s) | {shown(f, fv)} | {shown(p, pv)} | {p/f:.0%} |")
def many(arg):
    runs = [x.split(",") for x in arg.split()]
    m, v = median([float(r) for r, _ in runs])
    return m, v, min(int(d) for _, d in runs)
mf, mfv, fdone = many(sys.argv[6])
mp, mpv, pdone = many(sys.argv[7])
print(f"| {sessions} sessions at once, window 10, {count // sessions:,} orders each (orders/s, all sessions) "
      f"| {shown(mf, mfv)}, {fdone} of {sessions} finished | {shown(mp, mpv)}, {pdone} of {sessions} finished | {mp/mf:.0%} |")
PY
