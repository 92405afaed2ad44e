#!/usr/bin/env bash
# dnsperf benchmarks: clusterdns against NSD, measured in the same run, on loopback only.
#
#   bench/run.sh [SECONDS]        # default 20 s per measurement
#
# Installs dnsperf and nsd from Debian when missing (needs root), builds clusterdns in release
# mode, pins the server to CPU 0 and dnsperf to CPU 1, and writes the figures into
# bench/README.md between the RESULTS markers. Every server it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-20}"
WORK="$(mktemp -d /tmp/clusterdns-bench.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dnsperf || ! need nsd; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf nsd >/dev/null
fi
cargo build --release --quiet
BIN="$PWD/target/release/clusterdns"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Runs dnsperf on CPU 1 against 127.0.0.1:$1 with query file $2; prints "qps avg stddev lost".
measure() {
    local out
    out="$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$DURATION" -c 4 -q "${OUTSTANDING:-200}" 2>&1)"
    echo "$out" > "$WORK/dnsperf-$1.log"
    awk '
        /Queries lost:/            { lost=$3 }
        /Queries per second:/      { qps=$4 }
        /Average Latency \(s\):/   { avg=$4 }
        /Latency StdDev \(s\):/    { sd=$4 }
        END { printf "%s %s %s %s\n", qps, avg, sd, lost }' <<<"$out"
}

rss_kib() { ps -o rss= -p "$1" | tr -d ' '; }

wait_dns() {
    for _ in $(seq 100); do
        dig +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server on port $1 did not answer" >&2
    return 1
}

# --- scenario 1: whoami behind errors + prometheus, against NSD with a one-record zone ------
printf 'whoami.example A\n' > "$WORK/whoami.queries"

CD_PORT="$(free_port)"
METRICS_PORT="$(free_port)"
cat > "$WORK/Corefile" <<COREFILE
.:$CD_PORT {
    bind 127.0.0.1
    errors
    prometheus 127.0.0.1:$METRICS_PORT
    whoami
}
COREFILE
taskset -c 0 "$BIN" -conf "$WORK/Corefile" -quiet > "$WORK/clusterdns.log" 2>&1 &
CD_PID=$!; PIDS+=("$CD_PID")
wait_dns "$CD_PORT" whoami.example

NSD_PORT="$(free_port)"
mkdir -p "$WORK/nsd"
cat > "$WORK/nsd/example.zone" <<ZONE
\$ORIGIN example.
\$TTL 0
@       IN SOA ns.example. admin.example. 1 3600 600 86400 0
@       IN NS  ns.example.
whoami  IN A   127.0.0.1
ZONE
cat > "$WORK/nsd/nsd.conf" <<NSDCONF
server:
    ip-address: 127.0.0.1
    port: $NSD_PORT
    server-count: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    username: ""
    zonesdir: "$WORK/nsd"
    pidfile: "$WORK/nsd/nsd.pid"
    database: ""
    xfrdfile: "$WORK/nsd/xfrd.state"
    zonelistfile: "$WORK/nsd/zone.list"
    logfile: "$WORK/nsd/nsd.log"
remote-control:
    control-enable: no
zone:
    name: example.
    zonefile: example.zone
NSDCONF
taskset -c 0 nsd -d -c "$WORK/nsd/nsd.conf" > "$WORK/nsd/stdout.log" 2>&1 &
NSD_PID=$!; PIDS+=("$NSD_PID")
wait_dns "$NSD_PORT" whoami.example

# Alternate, several rounds, so neither side always runs on a warmer machine; on 2 cores the
# load generator's own ceiling moves between runs, so the median ratio is the figure.
RUNS="${RUNS:-3}"
ROWS=""
RATIOS=""
for round in $(seq "$RUNS"); do
    read -r NSD_QPS NSD_AVG NSD_SD NSD_LOST <<<"$(measure "$NSD_PORT" "$WORK/whoami.queries")"
    read -r CD_QPS CD_AVG CD_SD CD_LOST <<<"$(measure "$CD_PORT" "$WORK/whoami.queries")"
    RATIO="$(awk -v a="$CD_QPS" -v b="$NSD_QPS" 'BEGIN { printf "%.2f", a / b }')"
    RATIOS="$RATIOS $RATIO"
    ROWS="$ROWS| $round | $(printf '%.0f' "$CD_QPS") | ${CD_AVG}s / ${CD_SD}s | $CD_LOST | $(printf '%.0f' "$NSD_QPS") | ${NSD_AVG}s / ${NSD_SD}s | $NSD_LOST | ${RATIO}x |
"
done
CD_RSS="$(rss_kib "$CD_PID")"
NSD_RSS="$(rss_kib "$NSD_PID")"
MEDIAN="$(tr ' ' '\n' <<<"$RATIOS" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"

DATE="$(date -u +%Y-%m-%d)"
CPU="$(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//')"
RESULTS="$WORK/results.md"
{
    echo "Measured $DATE with \`bench/run.sh $DURATION\` on $(nproc) cores ($CPU): ${DURATION}s per run, dnsperf -c 4 -q ${OUTSTANDING:-200} pinned to CPU 1, each server pinned to CPU 0."
    echo
    echo "| run | clusterdns q/s | avg / stddev latency | lost | NSD q/s | avg / stddev latency | lost | ratio |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s' "$ROWS"
    echo
    echo "RSS after the runs: clusterdns ${CD_RSS} KiB, NSD ${NSD_RSS} KiB."
    echo
    echo "Median clusterdns / NSD rate: **${MEDIAN}x** (target ≥ 0.9x)."
} > "$RESULTS"
cat "$RESULTS"

python3 - "$RESULTS" bench/README.md <<'PY'
import sys
results = open(sys.argv[1]).read().strip()
path = sys.argv[2]
text = open(path).read()
start, end = "<!-- RESULTS:whoami -->", "<!-- /RESULTS:whoami -->"
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
open(path, "w").write(before + start + "\n" + results + "\n" + end + after)
PY
