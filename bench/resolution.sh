#!/usr/bin/env bash
# dnsperf benchmark of forward + cache (issue 4), on loopback only, against unbound and dnsmasq
# configured the same way (forward everything to one local upstream, cache the answers) in the
# same run. The upstream is NSD serving `bench.example.` (a wildcard A record) and
# `search.example.` (nothing but its apex: every other name is NXDOMAIN with the SOA).
#
#   bench/resolution.sh [SECONDS]      # default 20 s per measurement
#
# Four workloads (WORKLOADS="hits nxdomain misses hits-dnsperf" by default), each alternated
# RUNS times (default 7) over the three servers:
# - hits:     100 external names, asked again and again (cache hits after the first round);
# - nxdomain: the ndots:5 search-path pattern (api.github.com.<ns>.svc.search.example and
#             friends), 1,000 names, NXDOMAIN with SOA, cached by the denial cache;
# - misses:   names never asked before (u<N>.r<run>.bench.example), so every query is forwarded;
# - hits-dnsperf: the hits again, driven by dnsperf.
# The cached workloads are driven by bench/loadgen: on two cores dnsperf saturates its own core
# near the rate every server here reaches, so its figures show dnsperf's ceiling, not which
# server is faster (hits-dnsperf shows it). misses keeps dnsperf: the upstream shares its core,
# and a generator that never sleeps would take the upstream's time.
# Writes the figures into bench/README.md between the RESULTS:resolution markers.
DURATION="${1:-20}"
source "$(dirname "$0")/lib.sh"
if ! need unbound || ! need dnsmasq; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unbound dnsmasq >/dev/null
fi
cargo build --release --quiet -p clusterdns -p clusterdns-loadgen
BIN="$PWD/target/release/clusterdns"

# The upstream, on CPU 1 beside dnsperf: the same for the three servers.
UP_PORT="$(free_port)"
cat > "$WORK/bench.zone" <<ZONE
\$ORIGIN bench.example.
\$TTL 300
@  IN SOA ns.bench.example. admin.bench.example. 1 3600 600 86400 300
@  IN NS  ns.bench.example.
ns IN A   192.0.2.53
*  IN A   192.0.2.1
ZONE
start_nsd "$UP_PORT" bench.example. "$WORK/bench.zone"
UP_DIR="$WORK/nsd-$UP_PORT"
cat > "$UP_DIR/search.zone" <<ZONE
\$ORIGIN search.example.
\$TTL 300
@  IN SOA ns.search.example. admin.search.example. 1 3600 600 86400 300
@  IN NS  ns.bench.example.
ZONE
cat >> "$UP_DIR/nsd.conf" <<NSDCONF
zone:
    name: search.example.
    zonefile: search.zone
NSDCONF
# Answer sections only, as the recursive resolvers a cluster forwards to answer (NSD would add
# its NS and glue to every reply).
sed -i 's/^server:$/server:\n    minimal-responses: yes/' "$UP_DIR/nsd.conf"
kill "$NSD_PID"; wait "$NSD_PID" 2>/dev/null || true
taskset -c 1 nsd -d -c "$UP_DIR/nsd.conf" > "$UP_DIR/stdout.log" 2>&1 &
PIDS+=("$!")
wait_dns "$UP_PORT" www.bench.example

# clusterdns: forward + cache with their defaults.
CD_PORT="$(free_port)"
cat > "$WORK/Corefile" <<COREFILE
.:$CD_PORT {
    bind 127.0.0.1
    errors
    cache
    forward . 127.0.0.1:$UP_PORT
}
COREFILE
taskset -c 0 "$BIN" -conf "$WORK/Corefile" -quiet > "$WORK/clusterdns.log" 2>&1 &
CD_PID=$!; PIDS+=("$CD_PID")

# unbound: one thread, forwarding only (no recursion, no DNSSEC validation), caches of the
# same order as ours (10,000 entries each), no prefetch.
UB_PORT="$(free_port)"
cat > "$WORK/unbound.conf" <<UNBOUND
server:
    interface: 127.0.0.1
    port: $UB_PORT
    num-threads: 1
    so-reuseport: no
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    chroot: ""
    username: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    use-syslog: no
    logfile: "$WORK/unbound.log"
    verbosity: 0
    msg-cache-size: 16m
    rrset-cache-size: 32m
    outgoing-range: 4096
    num-queries-per-thread: 2048
    ratelimit: 0
    ip-ratelimit: 0
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$UP_PORT
remote-control:
    control-enable: no
UNBOUND
taskset -c 0 unbound -d -c "$WORK/unbound.conf" > "$WORK/unbound.stdout" 2>&1 &
UB_PID=$!; PIDS+=("$UB_PID")

# dnsmasq: the same upstream only, its largest usual cache.
DM_PORT="$(free_port)"
taskset -c 0 dnsmasq -k --no-resolv --no-hosts --no-poll --user=root --pid-file="$WORK/dnsmasq.pid" \
    --listen-address=127.0.0.1 --bind-interfaces --port="$DM_PORT" \
    --server="127.0.0.1#$UP_PORT" --cache-size=10000 --dns-forward-max=1000 \
    > "$WORK/dnsmasq.log" 2>&1 &
DM_PID=$!; PIDS+=("$DM_PID")

for port in "$CD_PORT" "$UB_PORT" "$DM_PORT"; do wait_dns "$port" www.bench.example; done

# Query files.
for i in $(seq 100); do echo "www$i.bench.example A"; done > "$WORK/hits.queries"
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
# ndots:5 search list of a pod in namespace ns<k>: every external name is first tried with
# these suffixes, all NXDOMAIN.
names = ["api.github.com", "storage.googleapis.com", "registry-1.docker.io", "s3.amazonaws.com"]
with open(f"{work}/nxdomain.queries", "w") as out:
    count = 0
    k = 0
    while count < 1000:
        for name in names:
            for suffix in (f"ns{k}.svc.search.example", "svc.search.example", f"zone{k}.search.example"):
                out.write(f"{name}{k}.{suffix} A\n")
                count += 1
        k += 1
PY
RUNS="${RUNS:-7}"
ALL_WORKLOADS="hits nxdomain misses hits-dnsperf"
WORKLOADS="${WORKLOADS:-$ALL_WORKLOADS}"
[[ " $WORKLOADS " == *" misses "* ]] && for run in $(seq "$RUNS"); do
    for server in cd ub dm; do
        # Unique per run and server: every query of the misses workload is a miss.
        awk -v r="$run$server" -v n="$((DURATION * 60000))" 'BEGIN { for (i = 0; i < n; i++) printf "u%d.%s.bench.example A\n", i, r }' \
            > "$WORK/misses-$run-$server.queries"
    done
done

# Warm the caches for the hit workloads.
for port in "$CD_PORT" "$UB_PORT" "$DM_PORT"; do
    for file in hits nxdomain; do
        taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/$file.queries" -n 1 >/dev/null 2>&1
    done
done

RESULTS="$WORK/results.md"
echo "Measured $(date -u +%Y-%m-%d) with \`bench/resolution.sh $DURATION\` on $(machine): ${DURATION}s per run, $RUNS rounds; the load generator (4 sockets, ${OUTSTANDING:-200} queries outstanding) and the upstream (NSD) pinned to CPU 1, each server pinned to CPU 0; unbound $(unbound -V | awk 'NR == 1 { print $2 }'), dnsmasq $(dnsmasq --version | awk 'NR == 1 { print $3 }')." > "$RESULTS"

# The query file of workload $1 in round $2 for server $3 (misses: fresh names per round).
query_file() {
    case "$1" in
        misses) echo "$WORK/misses-$2-$3.queries" ;;
        hits-dnsperf) echo "$WORK/hits.queries" ;;
        *) echo "$WORK/$1.queries" ;;
    esac
}

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One workload: RUNS rounds of clusterdns, unbound, dnsmasq driven by generator $2; table rows
# and median ratios against target $3 ("-" for none). Besides the rate, each server's busy
# share of its CPU is measured, and "capacity" = rate / busy share is the rate it would sustain
# on a whole CPU (what a generator at its own ceiling could not offer).
run_workload() {
    local name="$1" target="$3" rows="" ub_ratios="" dm_ratios="" ub_cap="" dm_cap="" run
    local GENERATOR="$2"
    for run in $(seq "$RUNS"); do
        read -r CD_QPS CD_AVG _ CD_LOST CD_BUSY <<<"$(measure "$CD_PORT" "$(query_file "$name" "$run" cd)" "$CD_PID")"
        read -r UB_QPS UB_AVG _ UB_LOST UB_BUSY <<<"$(measure "$UB_PORT" "$(query_file "$name" "$run" ub)" "$UB_PID")"
        read -r DM_QPS DM_AVG _ DM_LOST DM_BUSY <<<"$(measure "$DM_PORT" "$(query_file "$name" "$run" dm)" "$DM_PID")"
        ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
        capacity() { awk -v q="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? q / b : 0) }'; }
        CD_CAP="$(capacity "$CD_QPS" "$CD_BUSY")"; UB_CAP="$(capacity "$UB_QPS" "$UB_BUSY")"; DM_CAP="$(capacity "$DM_QPS" "$DM_BUSY")"
        ub_ratios="$ub_ratios $(ratio "$CD_QPS" "$UB_QPS")"
        dm_ratios="$dm_ratios $(ratio "$CD_QPS" "$DM_QPS")"
        ub_cap="$ub_cap $(ratio "$CD_CAP" "$UB_CAP")"
        dm_cap="$dm_cap $(ratio "$CD_CAP" "$DM_CAP")"
        rows="$rows| $run | $(printf '%.0f' "$CD_QPS") | $CD_BUSY | $CD_CAP | ${CD_AVG}s | $CD_LOST | $(printf '%.0f' "$UB_QPS") | $UB_BUSY | $UB_CAP | ${UB_AVG}s | $UB_LOST | $(printf '%.0f' "$DM_QPS") | $DM_BUSY | $DM_CAP | ${DM_AVG}s | $DM_LOST |
"
    done
    {
        echo
        echo "$4"
        echo
        echo "| run | clusterdns q/s | CPU | capacity | avg latency | lost | unbound q/s | CPU | capacity | avg latency | lost | dnsmasq q/s | CPU | capacity | avg latency | lost |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        printf '%s' "$rows"
        echo
        local goal=""
        [ "$target" != - ] && goal=" (target ≥ ${target}x)"
        echo "Median clusterdns / unbound: rate **$(median "$ub_ratios")x**, capacity **$(median "$ub_cap")x**$goal; clusterdns / dnsmasq: rate **$(median "$dm_ratios")x**, capacity **$(median "$dm_cap")x**."
    } >> "$RESULTS"
}
for workload in $WORKLOADS; do
    case "$workload" in
        hits) run_workload hits loadgen 1.2 "Cache hits for external names (100 names, \`www<N>.bench.example A\`), bench/loadgen:" ;;
        nxdomain) run_workload nxdomain loadgen 1.2 "NXDOMAIN search-path names through the cache (1,000 names of the ndots:5 pattern), bench/loadgen:" ;;
        misses) run_workload misses dnsperf 1.0 "Cache misses forwarded to the local upstream (every name new), dnsperf:" ;;
        hits-dnsperf) run_workload hits-dnsperf dnsperf - "The cache hits again with dnsperf as the load generator (its own core is the ceiling here):" ;;
    esac
done
cat "$RESULTS"
# Only a run of every workload replaces the published figures.
[ "$WORKLOADS" = "$ALL_WORKLOADS" ] && write_results resolution "$RESULTS"
