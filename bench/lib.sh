# Shared by the bench scripts: sourced, never run. Every server a script starts is recorded in
# PIDS and stopped by PID on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-20}"
WORK="$(mktemp -d /tmp/clusterdns-bench.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    # Servers write their last files as they stop (NSD's state): wait before removing them.
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dnsperf || ! need nsd || ! need dig; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf nsd dnsutils >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU time (user + system, in clock ticks) process $1 and all its descendants (NSD serves
# from a forked grandchild) have used so far, all threads.
cpu_ticks() {
    local pids=("$1") i=0 total=0 pid
    while [ "$i" -lt "${#pids[@]}" ]; do
        pids+=($(pgrep -P "${pids[$i]}" || true))
        i=$((i + 1))
    done
    for pid in "${pids[@]}"; do
        # utime and stime are fields 14 and 15, counted after the command name, which may
        # hold spaces ("(nsd: main)").
        total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
    done
    echo "$total"
}

# The load generators: dnsperf, or bench/loadgen (built by the scripts that use it), which
# sends in batches and never sleeps, for workloads where dnsperf's own core is the bottleneck.
LOADGEN="$PWD/target/release/loadgen"

# Runs the load generator (GENERATOR: dnsperf by default, or loadgen) on CPU 1 against
# 127.0.0.1:$1 with query file $2; prints "qps avg stddev lost", and with a server PID as $3
# also the server's busy share of one CPU during the run (0-1).
measure() {
    local out before after generator=dnsperf
    if [ "${GENERATOR:-dnsperf}" = loadgen ]; then generator="$LOADGEN"; fi
    [ -n "${3:-}" ] && before="$(cpu_ticks "$3")"
    out="$(taskset -c 1 "$generator" -s 127.0.0.1 -p "$1" -d "$2" -l "$DURATION" -c 4 -q "${OUTSTANDING:-200}" 2>&1)"
    [ -n "${3:-}" ] && after="$(cpu_ticks "$3")"
    echo "$out" > "$WORK/${GENERATOR:-dnsperf}-$1-$(basename "$2").log"
    local busy=""
    if [ -n "${3:-}" ]; then
        busy="$(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v d="$DURATION" 'BEGIN { printf "%.3f", t / hz / d }')"
    fi
    awk -v busy="$busy" '
        /Queries lost:/            { lost=$3 }
        /Queries per second:/      { qps=$4 }
        /Average Latency \(s\):/   { avg=$4 }
        /Latency StdDev \(s\):/    { sd=$4 }
        END { printf "%s %s %s %s %s\n", qps, avg, sd, lost, busy }' <<<"$out"
}

rss_kib() { ps -o rss= -p "$1" | tr -d ' '; }

# Waits (bounded) until 127.0.0.1:$1 answers $2 (type ${3:-A}) with NOERROR.
wait_dns() {
    for _ in $(seq "${4:-600}"); do
        if dig +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" "${3:-A}" 2>/dev/null | grep -q 'status: NOERROR'; then
            return 0
        fi
        sleep 0.1
    done
    echo "server on port $1 did not answer $2" >&2
    return 1
}

# Starts NSD on CPU 0, port $1, serving zone $2 from file $3 (rate limiting off). Sets NSD_PID.
start_nsd() {
    local port="$1" zone="$2" file="$3" dir="$WORK/nsd-$1"
    mkdir -p "$dir"
    cp "$file" "$dir/zone"
    cat > "$dir/nsd.conf" <<NSDCONF
server:
    ip-address: 127.0.0.1
    port: $port
    server-count: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    username: ""
    zonesdir: "$dir"
    pidfile: "$dir/nsd.pid"
    database: ""
    xfrdfile: "$dir/xfrd.state"
    zonelistfile: "$dir/zone.list"
    logfile: "$dir/nsd.log"
remote-control:
    control-enable: no
zone:
    name: $zone
    zonefile: zone
NSDCONF
    taskset -c 0 nsd -d -c "$dir/nsd.conf" > "$dir/stdout.log" 2>&1 &
    NSD_PID=$!; PIDS+=("$NSD_PID")
}

# Alternates NSD and clusterdns for RUNS rounds on query file $3 (ports $1 = clusterdns,
# $2 = NSD; their PIDs in CD_PID and NSD_PID): appends table rows to ROWS and sets MEDIAN to the
# median rate ratio and CAP_MEDIAN to the median capacity ratio (rate / the server's busy share
# of its CPU). On 2 cores the load generator's own ceiling moves between runs, so medians are
# the figures, and capacity shows the servers' own costs where dnsperf is the bottleneck.
compare() {
    local cd_port="$1" nsd_port="$2" queries="$3" ratios="" caps="" round
    ROWS=""
    for round in $(seq "${RUNS:-3}"); do
        read -r NSD_QPS NSD_AVG NSD_SD NSD_LOST NSD_BUSY <<<"$(measure "$nsd_port" "$queries" "$NSD_PID")"
        read -r CD_QPS CD_AVG CD_SD CD_LOST CD_BUSY <<<"$(measure "$cd_port" "$queries" "$CD_PID")"
        RATIO="$(awk -v a="$CD_QPS" -v b="$NSD_QPS" 'BEGIN { printf "%.2f", a / b }')"
        CAP="$(awk -v a="$CD_QPS" -v ab="$CD_BUSY" -v b="$NSD_QPS" -v bb="$NSD_BUSY" 'BEGIN { printf "%.2f", (a / ab) / (b / bb) }')"
        ratios="$ratios $RATIO"
        caps="$caps $CAP"
        ROWS="$ROWS| $round | $(printf '%.0f' "$CD_QPS") | $CD_BUSY | ${CD_AVG}s / ${CD_SD}s | $CD_LOST | $(printf '%.0f' "$NSD_QPS") | $NSD_BUSY | ${NSD_AVG}s / ${NSD_SD}s | $NSD_LOST | ${RATIO}x | ${CAP}x |
"
    done
    MEDIAN="$(tr ' ' '\n' <<<"$ratios" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
    CAP_MEDIAN="$(tr ' ' '\n' <<<"$caps" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

table_header() {
    echo "| run | clusterdns q/s | CPU | avg / stddev latency | lost | NSD q/s | CPU | avg / stddev latency | lost | rate ratio | capacity ratio |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
}

machine() {
    echo "$(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'))"
}

# Replaces the text between <!-- RESULTS:$1 --> and <!-- /RESULTS:$1 --> in bench/README.md
# with the contents of file $2.
write_results() {
    python3 - "$1" "$2" bench/README.md <<'PY'
import sys
name, results, path = sys.argv[1], open(sys.argv[2]).read().strip(), sys.argv[3]
text = open(path).read()
start, end = f"<!-- RESULTS:{name} -->", f"<!-- /RESULTS:{name} -->"
if start not in text:
    text += f"\n{start}\n{end}\n"
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
open(path, "w").write(before + start + "\n" + results + "\n" + end + after)
PY
}
