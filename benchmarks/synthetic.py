"""A deterministic synthetic cluster, as YAML text, for benchmarks and tests.

``generate(size, seed=0)`` returns multi-document YAML shaped like ``kubectl get -o
yaml`` and ``calicoctl get -o yaml`` output: Namespaces, ServiceAccounts, Nodes, Pods
(6-7 labels, named container ports, status IPs), Tiers, Kubernetes NetworkPolicies,
Calico NetworkPolicies and GlobalNetworkPolicies in several tiers.

Sizes: ``small`` (5 namespaces × 10 pods, 50 policies), ``medium`` (20 × 50, 500) and
``large`` (100 × 100, 2,000 policies, about 7 MB).
"""

from __future__ import annotations

import random
from typing import NamedTuple

__all__ = ["SIZES", "Size", "generate"]


class Size(NamedTuple):
    namespaces: int
    pods_per_namespace: int
    policies: int
    nodes: int


SIZES = {
    "small": Size(5, 10, 50, 3),
    "medium": Size(20, 50, 500, 10),
    "large": Size(100, 100, 2000, 50),
}

_APPS = ["web", "api", "db", "cache", "queue", "worker", "auth", "search", "billing", "metrics"]
_TIERS = [("security", 100, "Deny"), ("platform", 200, "Pass"), ("application", 300, "Pass")]
_ENVS = ["prod", "staging", "dev"]
_TEAMS = ["red", "blue", "green", "gold"]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _namespace(index: int, rng: random.Random) -> str:
    return (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        f"  name: ns-{index}\n"
        "  labels:\n"
        f"    kubernetes.io/metadata.name: ns-{index}\n"
        f"    env: {rng.choice(_ENVS)}\n"
        f"    team: {rng.choice(_TEAMS)}\n"
        f"  resourceVersion: '{1000 + index}'\n"
        f"  uid: 00000000-0000-4000-8000-{index:012d}\n"
        "  creationTimestamp: '2026-01-01T00:00:00Z'\n"
        "spec:\n  finalizers:\n  - kubernetes\n"
        "status:\n  phase: Active\n"
    )


def _service_account(namespace: int, name: str) -> str:
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: ns-{namespace}\n  labels:\n    role: {name}\n"


def _node(index: int) -> str:
    return (
        "apiVersion: v1\nkind: Node\nmetadata:\n"
        f"  name: node-{index}\n"
        "  labels:\n"
        f"    kubernetes.io/hostname: node-{index}\n"
        "    kubernetes.io/os: linux\n"
        f"    topology.kubernetes.io/zone: zone-{index % 3}\n"
        "status:\n  addresses:\n"
        f"  - type: InternalIP\n    address: 172.16.{index // 250}.{index % 250 + 1}\n"
        f"  - type: Hostname\n    address: node-{index}\n"
    )


def _pod(namespace: int, index: int, size: Size, rng: random.Random) -> str:
    app = _APPS[index % len(_APPS)]
    serial = namespace * size.pods_per_namespace + index
    ip = f"10.{serial // 65536 + 1}.{serial // 256 % 256}.{serial % 256}"
    labels = [
        f"app: {app}",
        f"version: v{rng.randint(1, 3)}",
        f"env: {rng.choice(_ENVS)}",
        f"team: {rng.choice(_TEAMS)}",
        f"tier: {rng.choice(['frontend', 'backend', 'data'])}",
        f"pod-template-hash: '{rng.getrandbits(40):010x}'",
    ]
    if rng.random() < 0.5:
        labels.append(f"release: r{rng.randint(1, 20)}")
    account = rng.choice(["default", "app", "ops"])
    port = rng.choice([80, 443, 8080, 5432, 6379])
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n"
        f"  name: {app}-{index}\n"
        f"  namespace: ns-{namespace}\n"
        "  labels:\n" + "".join(f"    {label}\n" for label in labels) + f"  resourceVersion: '{5000 + serial}'\n"
        "spec:\n"
        f"  serviceAccountName: {account}\n"
        f"  nodeName: node-{serial % size.nodes}\n"
        "  restartPolicy: Always\n"
        "  containers:\n"
        f"  - name: {app}\n"
        f"    image: registry.example.com/{app}:1.{rng.randint(0, 9)}\n"
        "    ports:\n"
        f"    - containerPort: {port}\n      name: http\n      protocol: TCP\n"
        "    - containerPort: 9090\n      name: metrics\n      protocol: TCP\n"
        "status:\n"
        "  phase: Running\n"
        f"  podIP: {ip}\n"
        f"  podIPs:\n  - ip: {ip}\n"
    )


def _k8s_policy(index: int, size: Size, rng: random.Random) -> str:
    namespace = rng.randrange(size.namespaces)
    app, peer = rng.sample(_APPS, 2)
    port = rng.choice([80, 443, 8080, 5432])
    block = rng.randint(0, 200)
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        f"  name: knp-{index}\n  namespace: ns-{namespace}\n"
        "spec:\n"
        f"  podSelector:\n    matchLabels:\n      app: {app}\n"
        "  policyTypes: [Ingress, Egress]\n"
        "  ingress:\n"
        "  - from:\n"
        f"    - podSelector:\n        matchLabels:\n          app: {peer}\n"
        f"    - namespaceSelector:\n        matchLabels:\n          team: {rng.choice(_TEAMS)}\n"
        "      podSelector:\n        matchExpressions:\n"
        f"        - {{key: env, operator: In, values: [{rng.choice(_ENVS)}, dev]}}\n"
        f"    ports:\n    - protocol: TCP\n      port: {port}\n"
        "  egress:\n"
        "  - to:\n"
        f"    - ipBlock:\n        cidr: 10.{block}.0.0/16\n"
        f"        except: [10.{block}.{rng.randint(0, 255)}.0/24]\n"
        "    ports:\n    - protocol: UDP\n      port: 53\n"
    )


def _calico_rule(rng: random.Random, direction: str) -> str:
    action = rng.choice(["Allow", "Allow", "Deny", "Pass", "Log"])
    side = "source" if direction == "ingress" else "destination"
    other = "destination" if side == "source" else "source"
    app = rng.choice(_APPS)
    lines = [f"  - action: {action}\n    protocol: {rng.choice(['TCP', 'UDP'])}\n"]
    choice = rng.random()
    if choice < 0.45:
        lines.append(f"    {side}:\n      selector: app == {_quote(app)} && env != 'dev'\n")
    elif choice < 0.9:
        lines.append(f"    {side}:\n      nets: [192.168.{rng.randint(0, 255)}.0/24, 172.{rng.randint(16, 31)}.0.0/16]\n")
    else:
        lines.append(f"    {side}:\n      nets: ['fd00:{rng.randint(1, 999):x}::/64']\n")
    lines.append(f"    {other}:\n      ports: [{rng.choice([80, 443, 8080])}, '9000:9100']\n")
    return "".join(lines)


def _calico_policy(index: int, size: Size, rng: random.Random, *, is_global: bool) -> str:
    tier, _, _ = rng.choice(_TIERS + [("default", 0, "")])
    kind = "GlobalNetworkPolicy" if is_global else "NetworkPolicy"
    prefix = "gnp" if is_global else "cnp"
    namespace = "" if is_global else f"  namespace: ns-{rng.randrange(size.namespaces)}\n"
    app = rng.choice(_APPS)
    spec = [
        f"  tier: {tier}\n",
        f"  order: {rng.choice([10, 100, 500.5, 1000])}\n",
        f"  selector: app == {_quote(app)} && team in {{'{rng.choice(_TEAMS)}', '{rng.choice(_TEAMS)}'}}\n",
        "  types: [Ingress, Egress]\n",
    ]
    if is_global:
        spec.append(f"  namespaceSelector: env == {_quote(rng.choice(_ENVS))}\n")
    spec.append("  ingress:\n" + "".join(_calico_rule(rng, "ingress") for _ in range(rng.randint(1, 3))))
    spec.append("  egress:\n" + "".join(_calico_rule(rng, "egress") for _ in range(rng.randint(1, 2))))
    return (
        f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata:\n"
        f"  name: {prefix}-{index}\n{namespace}"
        "spec:\n" + "".join(spec)
    )


def generate(size: str = "large", seed: int = 0) -> str:
    """The synthetic cluster of ``size`` (``small``, ``medium`` or ``large``) as YAML text;
    the same ``size`` and ``seed`` always give the same text."""
    shape = SIZES[size]
    rng = random.Random(seed)
    documents = [_node(index) for index in range(shape.nodes)]
    for namespace in range(shape.namespaces):
        documents.append(_namespace(namespace, rng))
        documents.extend(_service_account(namespace, name) for name in ("app", "ops"))
        documents.extend(_pod(namespace, index, shape, rng) for index in range(shape.pods_per_namespace))
    for name, order, action in _TIERS:
        documents.append(
            f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: {name}\n"
            f"spec:\n  order: {order}\n  defaultAction: {action}\n"
        )
    for index in range(shape.policies):
        pick = index % 4
        if pick in (0, 1):
            documents.append(_k8s_policy(index, shape, rng))
        else:
            documents.append(_calico_policy(index, shape, rng, is_global=pick == 3))
    return "---\n".join(documents)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(generate(sys.argv[1] if len(sys.argv) > 1 else "large"))
