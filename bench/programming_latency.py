#!/usr/bin/env python3
"""Programming latency: from an API change to the new answer (issue 3's p99 < 100 ms target).

    programming_latency.py --api http://127.0.0.1:PORT --dns 127.0.0.1:PORT [--changes 200]

For each change it creates a Service through the fake API server's control route
(`POST /fake/apply`), then asks the DNS server for its name every millisecond until the answer
carries the new cluster IP, and records the time between the two. Prints p50/p90/p99/max in ms.
Only loopback addresses are contacted; every loop is bounded.
"""
import argparse
import json
import random
import socket
import struct
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--api", required=True)
parser.add_argument("--dns", required=True)
parser.add_argument("--changes", type=int, default=200)
parser.add_argument("--namespace", default="ns-0")
parser.add_argument("--timeout", type=float, default=5.0, help="give up on one change after this")
args = parser.parse_args()
host, port = args.dns.rsplit(":", 1)
server = (host, int(port))


def query(sock, name):
    """Sends an A query; returns the set of IPv4 answers (empty on NXDOMAIN/NODATA)."""
    qid = random.randrange(65536)
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\x00" + struct.pack("!HH", 1, 1)
    sock.sendto(packet, server)
    while True:
        data, _ = sock.recvfrom(4096)
        if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
            break
    ancount = struct.unpack("!H", data[6:8])[0]
    # Skip the question: name labels up to the root, then type and class.
    pos = 12
    while data[pos] != 0:
        pos += 1 + data[pos]
    pos += 5
    answers = set()
    for _ in range(ancount):
        if data[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while data[pos] != 0:
                pos += 1 + data[pos]
            pos += 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            answers.add(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return answers


def apply(obj):
    request = urllib.request.Request(args.api + "/fake/apply", data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(1.0)
latencies = []
missed = 0
run = random.randrange(1 << 20)
for k in range(args.changes):
    name = f"latency-{run}-{k}"
    cluster_ip = f"10.111.{k // 250}.{k % 250 + 1}"
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": args.namespace},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                 "ports": [{"name": "http", "protocol": "TCP", "port": 80}]},
    }
    fqdn = f"{name}.{args.namespace}.svc.cluster.local"
    start = time.monotonic()
    apply(service)
    while True:
        if cluster_ip in query(sock, fqdn):
            latencies.append((time.monotonic() - start) * 1000)
            break
        if time.monotonic() - start > args.timeout:
            missed += 1
            break
        time.sleep(0.001)

latencies.sort()


def pct(p):
    return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")


print(json.dumps({"changes": args.changes, "answered": len(latencies), "missed": missed,
                  "p50_ms": round(pct(0.50), 2), "p90_ms": round(pct(0.90), 2),
                  "p99_ms": round(pct(0.99), 2), "max_ms": round(latencies[-1], 2) if latencies else None}))
