#!/usr/bin/env bash
# Kubernetes benchmarks (issue 3), on loopback only:
#   1. cluster answers under dnsperf (service A, SRV, NXDOMAIN search-path names) with 10,000
#      services, against NSD serving the equivalent zone file in the same run;
#   2. RSS with 10,000 services / 100,000 endpoints and 50,000 / 500,000, loaded through the
#      fake API server, and the peak during a full re-list;
#   3. programming latency: from an API change to the new answer.
#
#   bench/kubernetes.sh [SECONDS]     # default 20 s per dnsperf measurement
#
# The cluster is served by tests/fake-kube-api (the same list/watch protocol as a real API
# server); clusterdns reaches it through a kubeconfig. Figures go into bench/README.md between
# the RESULTS:kubernetes markers.
DURATION="${1:-20}"
source "$(dirname "$0")/lib.sh"
cargo build --release --quiet -p clusterdns -p clusterdns-fake-kube-api
BIN="$PWD/target/release/clusterdns"
FAKE="$PWD/target/release/fake-kube-api"
NAMESPACES=100

# Starts the fake API server with $1 services of $2 endpoints; sets API_PID, API_URL, KUBECONFIG_FILE.
start_api() {
    local port log="$WORK/fake-api-$1.log"
    port="$(free_port)"
    KUBECONFIG_FILE="$WORK/kubeconfig-$1"
    taskset -c 1 "$FAKE" --port "$port" --services "$1" --endpoints-per-service "$2" \
        --namespaces "$NAMESPACES" --print-kubeconfig "$KUBECONFIG_FILE" > "$log" 2>&1 &
    API_PID=$!; PIDS+=("$API_PID")
    for _ in $(seq 1200); do grep -q listening "$log" && break; sleep 0.1; done
    grep -q listening "$log" || { echo "fake API did not start" >&2; cat "$log" >&2; exit 1; }
    API_URL="http://127.0.0.1:$port"
}

# Starts clusterdns (on CPU ${2:-0}) for the cluster zone; sets CD_PID, CD_PORT, READY_PORT.
start_clusterdns() {
    CD_PORT="$(free_port)"; READY_PORT="$(free_port)"
    cat > "$WORK/Corefile-$1" <<COREFILE
cluster.local:$CD_PORT {
    bind 127.0.0.1
    errors
    ready 127.0.0.1:$READY_PORT
    prometheus 127.0.0.1:$(free_port)
    kubernetes cluster.local {
        kubeconfig $KUBECONFIG_FILE
        startup_timeout 5m
    }
}
COREFILE
    taskset -c "${2:-0}" "$BIN" -conf "$WORK/Corefile-$1" -quiet > "$WORK/clusterdns-$1.log" 2>&1 &
    CD_PID=$!; PIDS+=("$CD_PID")
    for _ in $(seq 3000); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$READY_PORT/ready" || true)" = 200 ] && return 0
        sleep 0.1
    done
    echo "clusterdns did not become ready" >&2; exit 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
RESULTS="$WORK/results.md"
echo "Measured $(date -u +%Y-%m-%d) with \`bench/kubernetes.sh $DURATION\` on $(machine)." > "$RESULTS"

# --- 1. throughput against NSD ---------------------------------------------------------------
SERVICES=10000
python3 bench/cluster_zone.py "$WORK/q" --services "$SERVICES" --namespaces "$NAMESPACES"
start_api "$SERVICES" 10
start_clusterdns "$SERVICES"
wait_dns "$CD_PORT" "svc-$((SERVICES - 1)).ns-$(((SERVICES - 1) % NAMESPACES)).svc.cluster.local"
NSD_PORT="$(free_port)"
start_nsd "$NSD_PORT" cluster.local. "$WORK/q/cluster.local.zone"
wait_dns "$NSD_PORT" svc-0.ns-0.svc.cluster.local
{
    echo
    echo "### Cluster answers, $SERVICES services (10 endpoints each) vs NSD with the same names as a zone file"
    echo
    echo "errors + prometheus + kubernetes (watching the fake API server) against NSD; ${DURATION}s per run, dnsperf -c 4 -q ${OUTSTANDING:-200} on CPU 1, each server on CPU 0."
} >> "$RESULTS"
for kind in a srv nxdomain; do
    compare "$CD_PORT" "$NSD_PORT" "$WORK/q/$kind.queries"
    {
        echo
        case "$kind" in
            a) echo "Service A (\`svc-N.ns-M.svc.cluster.local A\`):" ;;
            srv) echo "SRV (\`_http._tcp.svc-N.ns-M.svc.cluster.local SRV\`):" ;;
            nxdomain) echo "NXDOMAIN search-path names (\`www.google.com.ns-M.svc.cluster.local\`, \`….svc.cluster.local\`, \`….cluster.local\`):" ;;
        esac
        echo
        table_header
        printf '%s' "$ROWS"
        echo
        echo "Median clusterdns / NSD: rate **${MEDIAN}x**, capacity **${CAP_MEDIAN}x** (target ≥ 0.9x)."
    } >> "$RESULTS"
done
stop "$NSD_PID"

# --- 3. programming latency (same 10,000-service cluster) -------------------------------------
LATENCY="$(python3 bench/programming_latency.py --api "$API_URL" --dns "127.0.0.1:$CD_PORT" --changes "${CHANGES:-300}")"
{
    echo
    echo "### Programming latency, $SERVICES services"
    echo
    echo "A new Service created through the fake API server, then queried every millisecond until it answers (includes the HTTP request that creates it):"
    echo
    echo "\`$LATENCY\` (target p99 < 100 ms)."
} >> "$RESULTS"
stop "$CD_PID"; stop "$API_PID"

# --- 2. memory ----------------------------------------------------------------------------------
{
    echo
    echo "### Memory (RSS of clusterdns), loaded through the fake API server"
    echo
    echo "Target: at most half of CoreDNS's published sizing, (pods + services)/1000 + 54 MB (counting one pod per endpoint), and no peak above 1.3x the steady state during a full re-list (the fake API server expires its history and drops every watch, so all four watches list again)."
    echo
    echo "| services | endpoints | steady RSS | CoreDNS sizing | half of it | peak during re-list | peak / steady |"
    echo "|---|---|---|---|---|---|---|"
} >> "$RESULTS"
for size in 10000 50000; do
    start_api "$size" 10
    start_clusterdns "$size" 0
    last="svc-$((size - 1)).ns-$(((size - 1) % NAMESPACES)).svc.cluster.local"
    wait_dns "$CD_PORT" "$last"
    sleep 5
    STEADY="$(kib "$CD_PID" VmRSS)"
    # Reset the peak, force the re-list, and wait until a Service created after it answers:
    # the watches only deliver new events after their new listing completed.
    echo 5 > "/proc/$CD_PID/clear_refs"
    curl -s -X POST "$API_URL/fake/relist" > /dev/null
    sleep 1
    python3 - "$API_URL" <<'PY'
import json, sys, urllib.request
probe = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "relist-probe", "namespace": "ns-0"},
         "spec": {"type": "ClusterIP", "clusterIP": "10.111.255.1", "clusterIPs": ["10.111.255.1"],
                  "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}}
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/fake/apply", data=json.dumps(probe).encode(),
                       headers={"Content-Type": "application/json"}, method="POST"), timeout=10).read()
PY
    wait_dns "$CD_PORT" relist-probe.ns-0.svc.cluster.local A 3000
    sleep 2
    PEAK="$(kib "$CD_PID" VmHWM)"
    awk -v s="$size" -v e="$((size * 10))" -v st="$STEADY" -v pk="$PEAK" 'BEGIN {
        sizing = (e + s) / 1000 + 54
        printf "| %d | %d | %.1f MB | %.0f MB | %.0f MB | %.1f MB | %.2fx |\n", s, e, st / 1024, sizing, sizing / 2, pk / 1024, pk / st
    }' >> "$RESULTS"
    stop "$CD_PID"; stop "$API_PID"
done

cat "$RESULTS"
write_results kubernetes "$RESULTS"
