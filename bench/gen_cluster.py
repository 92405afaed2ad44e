#!/usr/bin/env python3
"""Writes a synthetic cluster for the kubernetes benchmarks, and the same names as a zone file.

    gen_cluster.py OUT_DIR --services N --endpoints M [--namespaces K] [--queries Q]

OUT_DIR/cluster.json     a `kind: List` of Namespaces, Services and EndpointSlices, the shape
                         `kubectl get ns,svc,endpointslices -A -o json` prints (our `manifests`
                         source reads it as it reads a real dump)
OUT_DIR/cluster.local.zone   the equivalent zone for NSD: per service an A record and the
                         `_http._tcp` SRV record pointing at it
OUT_DIR/a.queries, srv.queries, nxdomain.queries   dnsperf input

Naming: service i is `svc-i` in namespace `ns-(i % K)`, cluster IP 10.96.0.0 + i + 1 (inside
the default service CIDR 10.96.0.0/12), one port `http` TCP 80 -> 8080, one EndpointSlice with
M ready endpoints at 10.128.0.0 + i * M + j (pod CIDR), each with a Pod targetRef.
"""
import argparse
import ipaddress
import json
import os
import random

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--services", type=int, default=10000)
parser.add_argument("--endpoints", type=int, default=10)
parser.add_argument("--namespaces", type=int, default=100)
parser.add_argument("--queries", type=int, default=100000)
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

SERVICE_BASE = int(ipaddress.IPv4Address("10.96.0.0"))
POD_BASE = int(ipaddress.IPv4Address("10.128.0.0"))


def ip(base, offset):
    return str(ipaddress.IPv4Address(base + offset))


def namespace_of(i):
    return f"ns-{i % args.namespaces}"


items = []
for k in range(args.namespaces):
    items.append({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": f"ns-{k}", "resourceVersion": "1",
                     "labels": {"kubernetes.io/metadata.name": f"ns-{k}"}},
        "status": {"phase": "Active"},
    })
for i in range(args.services):
    ns, name, cluster_ip = namespace_of(i), f"svc-{i}", ip(SERVICE_BASE, i + 1)
    items.append({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                 "selector": {"app": name},
                 "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]},
    })
    endpoints = []
    for j in range(args.endpoints):
        endpoints.append({
            "addresses": [ip(POD_BASE, i * args.endpoints + j)],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": f"node-{j % 50}",
            "targetRef": {"kind": "Pod", "namespace": ns, "name": f"{name}-{j:05d}"},
        })
    items.append({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": f"{name}-abcde", "namespace": ns, "resourceVersion": "1",
                     "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
    })
with open(os.path.join(args.out, "cluster.json"), "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
               "items": items}, f)

with open(os.path.join(args.out, "cluster.local.zone"), "w") as f:
    f.write("$ORIGIN cluster.local.\n$TTL 5\n")
    f.write("@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n")
    f.write("@ IN NS ns.dns.cluster.local.\nns.dns IN A 10.96.0.10\n")
    for i in range(args.services):
        owner = f"svc-{i}.{namespace_of(i)}.svc"
        f.write(f"{owner} IN A {ip(SERVICE_BASE, i + 1)}\n")
        f.write(f"_http._tcp.{owner} IN SRV 0 100 80 {owner}.cluster.local.\n")

rng = random.Random(1)
with open(os.path.join(args.out, "a.queries"), "w") as f:
    for _ in range(args.queries):
        i = rng.randrange(args.services)
        f.write(f"svc-{i}.{namespace_of(i)}.svc.cluster.local A\n")
with open(os.path.join(args.out, "srv.queries"), "w") as f:
    for _ in range(args.queries):
        i = rng.randrange(args.services)
        f.write(f"_http._tcp.svc-{i}.{namespace_of(i)}.svc.cluster.local SRV\n")
# What a pod in namespace ns-k with the default resolv.conf (search ns-k.svc.cluster.local
# svc.cluster.local cluster.local, ndots:5) sends first for names that are not in the cluster:
# each search suffix in turn, all NXDOMAIN, before the name itself goes out.
external = ["www.google.com", "api.github.com", "registry-1.docker.io", "s3.amazonaws.com",
            "pypi.org", "example.org", "login.microsoftonline.com", "quay.io"]
with open(os.path.join(args.out, "nxdomain.queries"), "w") as f:
    for _ in range(args.queries // 3):
        name, k = rng.choice(external), rng.randrange(args.namespaces)
        for suffix in (f"ns-{k}.svc.cluster.local", "svc.cluster.local", "cluster.local"):
            f.write(f"{name}.{suffix} A\n")
