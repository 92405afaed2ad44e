#!/usr/bin/env bash
# dnsperf benchmark of the hand-written Corefile variants (issue 5), on loopback only: a
# `hosts` answer and a name rewritten onto it, against NSD serving the same two names from a
# zone file in the same run.
#
#   bench/hosts.sh [SECONDS]      # default 20 s per measurement
#
# Writes the figures into bench/README.md between the RESULTS:hosts markers.
DURATION="${1:-20}"
source "$(dirname "$0")/lib.sh"
cargo build --release --quiet -p clusterdns
BIN="$PWD/target/release/clusterdns"

CD_PORT="$(free_port)"
cat > "$WORK/Corefile" <<COREFILE
.:$CD_PORT {
    bind 127.0.0.1
    errors
    prometheus 127.0.0.1:$(free_port)
    rewrite name web-service.cluster.local webservice1.com
    hosts {
        172.16.0.3 webservice1.com
        fallthrough
    }
}
COREFILE
taskset -c 0 "$BIN" -conf "$WORK/Corefile" -quiet > "$WORK/clusterdns.log" 2>&1 &
CD_PID=$!; PIDS+=("$CD_PID")
wait_dns "$CD_PORT" webservice1.com

# NSD answers both names from one root zone, with the same TTL as the hosts plugin's (3600).
NSD_PORT="$(free_port)"
cat > "$WORK/root.zone" <<ZONE
\$ORIGIN .
\$TTL 3600
.                          IN SOA ns.example. admin.example. 1 3600 600 86400 3600
.                          IN NS  ns.example.
webservice1.com.           IN A   172.16.0.3
web-service.cluster.local. IN A   172.16.0.3
ZONE
start_nsd "$NSD_PORT" . "$WORK/root.zone"
wait_dns "$NSD_PORT" webservice1.com

printf 'webservice1.com A\n' > "$WORK/hosts.queries"
printf 'web-service.cluster.local A\n' > "$WORK/rewrite.queries"
RESULTS="$WORK/results.md"
echo "Measured $(date -u +%Y-%m-%d) with \`bench/hosts.sh $DURATION\` on $(machine): ${DURATION}s per run, dnsperf -c 4 -q ${OUTSTANDING:-200} pinned to CPU 1, each server pinned to CPU 0." > "$RESULTS"
for kind in hosts rewrite; do
    compare "$CD_PORT" "$NSD_PORT" "$WORK/$kind.queries"
    {
        echo
        case "$kind" in
            hosts) echo "\`webservice1.com A\` answered by \`hosts\`:" ;;
            rewrite) echo "\`web-service.cluster.local A\` rewritten to \`webservice1.com\` and answered by \`hosts\` (owner restored):" ;;
        esac
        echo
        table_header
        printf '%s' "$ROWS"
        echo
        echo "Median clusterdns / NSD: rate **${MEDIAN}x**, capacity **${CAP_MEDIAN}x** (target ≥ 0.9x)."
    } >> "$RESULTS"
done
cat "$RESULTS"
write_results hosts "$RESULTS"
