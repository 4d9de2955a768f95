"""Broken documents of every policy kind: converters report problems, never raise."""

from __future__ import annotations

import copy
import random
from typing import Any, Iterator

import pytest
import yaml

from netpolicy.loader._fields import Document
from netpolicy.loader.policies import CONVERTERS
from netpolicy.loader.registry import API_GROUPS, Inventory, Meta, Node
from netpolicy.model import Policy, Profile, Tier

SEEDS = list(yaml.safe_load_all("""
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  tier: t
  order: 5
  selector: a == 'b'
  namespaceSelector: has(x)
  serviceAccountSelector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Allow
    protocol: TCP
    ipVersion: 4
    source: {nets: [10.0.0.0/8], notNets: [10.1.0.0/16], selector: "a == 'b'", notSelector: has(c),
             namespaceSelector: global(), ports: [80, '1:2', http], serviceAccounts: {names: [a], selector: has(b)}}
    http: {methods: [GET], paths: [{exact: /a}]}
  - action: Allow
    protocol: ICMP
    icmp: {type: 1, code: 2}
    source: {services: {name: a, namespace: b}}
  egress:
  - action: Deny
    notProtocol: UDP
    notICMP: {type: 3}
    destination: {services: {name: a, namespace: b}}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: s, namespace: n}
spec: {stagedAction: Set, selector: has(a), ingress: [{action: Pass, source: {selector: has(b)}}]}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t}
spec: {order: 1, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: p}
spec: {labelsToApply: {a: b}, ingress: [{action: Allow}], egress: [{action: Log}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k, namespace: n}
spec:
  podSelector: {matchLabels: {a: b}, matchExpressions: [{key: c, operator: In, values: [d]}]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {}, namespaceSelector: {matchLabels: {x: y}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
    ports: [{protocol: UDP, port: 53}, {port: http}, {port: 1, endPort: 9}]
  egress: [{to: [{namespaceSelector: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {matchLabels: {a: b}}, podSelector: {}}}
  ingress: [{name: i, action: Pass, from: [{namespaces: {}}, {pods: {namespaceSelector: {}, podSelector: {}}}],
             ports: [{portNumber: {protocol: UDP, port: 53}}, {namedPort: web}, {portRange: {start: 1, end: 5}}]}]
  egress: [{name: e, action: Deny, to: [{nodes: {matchLabels: {os: linux}}}, {networks: [10.0.0.0/8]},
                                        {domainNames: [a.example.com]}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress: [{action: Allow, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {a: b}}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: c}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {matchExpressions: [{key: a, operator: NotIn, values: [b]}]}}
  ingress: [{name: i, action: Accept, from: [{namespaces: {}}, {pods: {podSelector: {}}}],
             protocols: [{udp: {destinationPort: {number: 53}}}, {destinationNamedPort: web},
                         {tcp: {destinationPort: {range: {start: 1, end: 5}}}}]}]
  egress: [{action: Pass, to: [{nodes: {matchLabels: {os: linux}}}, {networks: [10.0.0.0/8, "::/0"]},
                               {domainNames: ["*.example.com"]}], protocols: [{sctp: {destinationPort: {number: 9}}}]}]
"""))

VALUES: list[Any] = [None, True, 0, -1, 1.5, float("nan"), 10**40, "", "x", "global()", "all()", "((", "0.0.0.0/0",
                     "::/0", "TCP", "ICMPv6", [], {}, [None], [{}], {"a": None}, {1: 2}, ["x"], [[1]], "9" * 60,
                     "a" * 1100, "http", "1:2"]
INVENTORY = Inventory(nodes={"n": Node("n", {"os": "linux"}, ["1.2.3.4", "fd00::4"])})


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, path + (index,))


def _convert(body: dict[str, Any]) -> tuple[list[object], Document]:
    converter, namespaced = CONVERTERS[(API_GROUPS[body["apiVersion"]], body["kind"])]
    meta = Meta(kind=body["kind"], api_version=body["apiVersion"], name=body["metadata"]["name"],
                namespace="n" if namespaced else None)
    doc = Document(body)
    return list(converter(doc.root(), meta, INVENTORY)), doc


def test_seeds_are_valid() -> None:
    for seed in SEEDS:
        objects, doc = _convert(copy.deepcopy(seed))
        assert not doc.problems, doc.problems
        assert len(objects) == 1 and isinstance(objects[0], (Policy, Tier, Profile))


@pytest.mark.parametrize("seed", range(6))
def test_mutated_documents_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(250):
        body = copy.deepcopy(rng.choice(SEEDS))
        for _ in range(rng.randint(1, 3)):
            paths = [p for p in _paths(body) if p and p[0] == "spec"]
            if not paths:  # spec itself was deleted
                break
            path = rng.choice(paths)
            parent: Any = body
            for key in path[:-1]:
                parent = parent[key]
            if rng.random() < 0.75:
                parent[path[-1]] = copy.deepcopy(rng.choice(VALUES))
            elif isinstance(parent, dict):
                del parent[path[-1]]
        objects, doc = _convert(body)
        if doc.problems:
            continue
        for obj in objects:  # what converts cleanly is a well-formed model value
            assert isinstance(obj, (Policy, Tier, Profile))
            hash(obj)
