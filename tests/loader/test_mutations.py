"""Mutated manifests (wrong types, odd values, stray keys anywhere) end in a loaded
PolicySet or a ValidationError: never any other exception."""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

import netpolicy
from netpolicy import PolicyError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import synthetic  # noqa: E402

EXTRA = """\
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: n-k8s-p-eth0, namespace: x, labels: {a: b}}
spec: {pod: p, node: n, ipNetworks: [10.9.0.1/32], profiles: [kns.x], ports: [{name: http, protocol: TCP, port: 80}]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: h, labels: {a: b}}
spec: {node: n, interfaceName: eth0, expectedIPs: [192.168.0.1], profiles: [projectcalico-default-allow], ports: [{name: ssh, protocol: TCP, port: 22}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: s, namespace: x, labels: {a: b}}
spec: {nets: [10.1.0.0/16]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s, namespace: x, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.9.0.1]}]
ports: [{port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Node
metadata: {name: n, labels: {a: b}}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: x, labels: {a: b}}
"""

VALUES: list[Any] = [
    None, 0, -1, 70000, 1.5, float("nan"), True, "", "x", "\xff", "*", "0.0.0.0/0", "::/0", "a b", [], [1],
    [None], {}, {"a": 1}, {1: 2}, {"": ""}, "a" * 300, ["x"], [{"a": "b"}], "all()", "has(", "Allow", "TCP",
    "ICMP", 2**70, "fe80::1%eth0", "10.0.0.1/40",
]  # fmt: skip
KEYS: list[Any] = ["zz", 1, None, True, "", "a/b/c", "pcns.x", "projectcalico.org/namespace"]


def _documents() -> list[Any]:
    docs = [d for d in yaml.safe_load_all(synthetic.generate("small")) if d]
    docs += [d for d in yaml.safe_load_all(EXTRA) if d]
    for path in sorted((ROOT / "tests" / "conformance" / "cases").glob("*.yaml"))[::15]:
        docs += [d for d in yaml.safe_load_all(yaml.safe_load(path.read_text())["resources"]) if d]
    return docs


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(list(_paths(doc)))
        if not path:
            continue
        target = doc
        for part in path[:-1]:
            target = target[part]
        if rng.random() < 0.2 and isinstance(target, dict):
            target[rng.choice(KEYS)] = copy.deepcopy(rng.choice(VALUES))
        else:
            target[path[-1]] = copy.deepcopy(rng.choice(VALUES))
    return doc


@pytest.mark.parametrize("seed", range(4))
def test_mutated_manifests_never_raise_anything_but_policy_errors(seed: int) -> None:
    rng = random.Random(seed)
    documents = _documents()
    for _ in range(150):
        doc = _mutate(rng.choice(documents), rng)
        for load in (lambda: netpolicy.from_objects([doc]), lambda: netpolicy.loads(yaml.safe_dump(doc, allow_unicode=True))):
            try:
                load()
            except PolicyError:
                pass
