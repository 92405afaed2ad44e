#!/usr/bin/env python3
"""The zone file and dnsperf inputs that match `fake-kube-api --services N --namespaces K`.

    cluster_zone.py OUT_DIR --services N --namespaces K [--queries Q]

The fake API server's generator (tests/fake-kube-api/src/generate.rs) names Service i `svc-i`
in namespace `ns-(i % K)`, cluster IP 10.96.0.10 + i, named ports http/TCP/80 and grpc/TCP/9090.
This writes what NSD needs to serve the same answers, and the queries:

OUT_DIR/cluster.local.zone   per Service its A record and the `_http._tcp` SRV record
OUT_DIR/a.queries            service A queries
OUT_DIR/srv.queries          `_http._tcp.<svc>` SRV queries
OUT_DIR/nxdomain.queries     what an ndots:5 pod sends first for an outside name: the name
                             under each search suffix (all NXDOMAIN)
"""
import argparse
import ipaddress
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--services", type=int, required=True)
parser.add_argument("--namespaces", type=int, required=True)
parser.add_argument("--queries", type=int, default=100000)
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

FIRST_CLUSTER_IP = int(ipaddress.IPv4Address("10.96.0.10"))


def owner(i):
    return f"svc-{i}.ns-{i % args.namespaces}.svc"


with open(os.path.join(args.out, "cluster.local.zone"), "w") as f:
    f.write("$ORIGIN cluster.local.\n$TTL 5\n")
    f.write("@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n")
    f.write("@ IN NS ns.dns.cluster.local.\nns.dns IN A 10.96.0.10\n")
    for i in range(args.services):
        f.write(f"{owner(i)} IN A {ipaddress.IPv4Address(FIRST_CLUSTER_IP + i)}\n")
        f.write(f"_http._tcp.{owner(i)} IN SRV 0 100 80 {owner(i)}.cluster.local.\n")

rng = random.Random(1)
with open(os.path.join(args.out, "a.queries"), "w") as f:
    for _ in range(args.queries):
        f.write(f"{owner(rng.randrange(args.services))}.cluster.local A\n")
with open(os.path.join(args.out, "srv.queries"), "w") as f:
    for _ in range(args.queries):
        f.write(f"_http._tcp.{owner(rng.randrange(args.services))}.cluster.local SRV\n")
external = ["www.google.com", "api.github.com", "registry-1.docker.io", "s3.amazonaws.com",
            "pypi.org", "example.org", "login.microsoftonline.com", "quay.io"]
with open(os.path.join(args.out, "nxdomain.queries"), "w") as f:
    for _ in range(args.queries // 3):
        name, k = rng.choice(external), rng.randrange(args.namespaces)
        for suffix in (f"ns-{k}.svc.cluster.local", "svc.cluster.local", "cluster.local"):
            f.write(f"{name}.{suffix} A\n")
