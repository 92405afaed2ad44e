#!/usr/bin/env bash
# dnsperf benchmark of the server core: whoami against NSD, measured in the same run, on
# loopback only.
#
#   bench/run.sh [SECONDS]        # default 20 s per measurement
#
# Installs dnsperf and nsd from Debian when missing (needs root), builds clusterdns in release
# mode, pins the server to CPU 0 and dnsperf to CPU 1, and writes the figures into
# bench/README.md between the RESULTS:whoami markers. Every server it starts is stopped by PID.
# The kubernetes scenarios are in bench/kubernetes.sh.
DURATION="${1:-20}"
source "$(dirname "$0")/lib.sh"
cargo build --release --quiet
BIN="$PWD/target/release/clusterdns"

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
cat > "$WORK/example.zone" <<ZONE
\$ORIGIN example.
\$TTL 0
@       IN SOA ns.example. admin.example. 1 3600 600 86400 0
@       IN NS  ns.example.
whoami  IN A   127.0.0.1
ZONE
start_nsd "$NSD_PORT" example. "$WORK/example.zone"
wait_dns "$NSD_PORT" whoami.example

compare "$CD_PORT" "$NSD_PORT" "$WORK/whoami.queries"
RESULTS="$WORK/results.md"
{
    echo "Measured $(date -u +%Y-%m-%d) with \`bench/run.sh $DURATION\` on $(machine): ${DURATION}s per run, dnsperf -c 4 -q ${OUTSTANDING:-200} pinned to CPU 1, each server pinned to CPU 0."
    echo
    table_header
    printf '%s' "$ROWS"
    echo
    echo "RSS after the runs: clusterdns $(rss_kib "$CD_PID") KiB, NSD $(rss_kib "$NSD_PID") KiB."
    echo
    echo "Median clusterdns / NSD: rate **${MEDIAN}x**, capacity **${CAP_MEDIAN}x** (target ≥ 0.9x)."
} > "$RESULTS"
cat "$RESULTS"
write_results whoami "$RESULTS"
