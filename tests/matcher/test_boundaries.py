"""Boundary flows whose verdicts are worked out by hand from Calico's semantics, not by
another part of netpolicy.

The differential properties compare paths that share the loader and the model, so a
loader bug is invisible to them. Here the manifests go through the whole pipeline (text,
loader, reference evaluator, compiled tables of each twin, ``evaluate_many``) and every
path must give the verdict written next to each flow. Each expectation says why.
"""

from __future__ import annotations

from typing import Any

import pytest

import netpolicy
from netpolicy import Flow, PolicySet
from netpolicy.reference import evaluate as reference

NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {kubernetes.io/metadata.name: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {kubernetes.io/metadata.name: dev}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: dev, labels: {app: client}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
"""


def _server(name: str, ip: str, ports: str = "[]") -> str:
    return f"""
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: prod, labels: {{app: server}}}}
spec: {{containers: [{{name: c, image: i, ports: {ports}}}]}}
status: {{podIP: {ip}}}
"""


#: (flow, allowed, why the server's ingress decided so): ("rule", policy kind, namespace,
#: name, rule number) or ("end of tier", tier)
Expected = tuple[Flow, bool, tuple[Any, ...]]
END_OF_DEFAULT = ("end of tier", "default")


def _why(decision: netpolicy.Decision | None) -> tuple[Any, ...] | None:
    if decision is None:
        return None
    if decision.reason == netpolicy.Reason.RULE and decision.policy is not None:
        ref = decision.policy
        return ("rule", ref.kind, ref.namespace, ref.name, decision.rule)
    if decision.reason == netpolicy.Reason.END_OF_TIER:
        return ("end of tier", decision.tier)
    return (decision.reason,)


def _decide_everywhere(ps: PolicySet, make_engine: Any, expected: list[Expected], logged: frozenset[int] | set[int] = frozenset()) -> None:
    """Every path gives each flow the expected verdict and deciding policy; the flows
    numbered in ``logged`` fire a Log rule, the others none. The tables decide every
    flow themselves (none goes back to the reference evaluator)."""
    engine = make_engine(ps)
    flows = [flow for flow, _, _ in expected]
    many = engine.evaluate_many(flows)
    for k, (flow, allowed, why) in enumerate(expected):
        for path, verdict in (("reference", reference(ps, flow)), ("tables", engine.evaluate(flow)), ("batch", many.verdict(k))):
            assert verdict.allowed is allowed, (path, flow, verdict.explain())
            assert _why(verdict.ingress) == why, (path, flow, verdict.explain())
            assert bool(verdict.logged) is (k in logged), (path, flow, verdict.explain())
        assert bool(many.allowed[k]) is allowed, ("batch", flow)
    assert engine.counting.calls == 0


def _flow(protocol: str, port: int, dst: str = "prod/server") -> Flow:
    return Flow(src="dev/client", dst=dst, protocol=protocol, dst_port=port)


# -- endPort: the range's first and last ports are in it, their neighbours are not -------------

K8S_RANGE = NAMESPACES + _server("server", "10.0.0.2") + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: prod}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - ports:
    - {protocol: TCP, port: 8000, endPort: 8080}
    - {protocol: UDP, port: 65000, endPort: 65535}
"""


def test_end_port_includes_both_ends_and_nothing_past_them(make_engine: Any) -> None:
    # port + endPort is the inclusive range port:endPort of that protocol. The rule
    # becomes one Calico Allow rule per protocol, protocols sorted: 0 TCP, 1 UDP. A pod
    # that a Kubernetes NetworkPolicy selects is denied at the end of tier default
    # when no rule allows.
    tcp, udp = ("rule", "KubernetesNetworkPolicy", "prod", "range", 0), ("rule", "KubernetesNetworkPolicy", "prod", "range", 1)
    _decide_everywhere(netpolicy.loads(K8S_RANGE), make_engine, [
        (_flow("TCP", 7999), False, END_OF_DEFAULT),
        (_flow("TCP", 8000), True, tcp),
        (_flow("TCP", 8080), True, tcp),
        (_flow("TCP", 8081), False, END_OF_DEFAULT),
        (_flow("UDP", 8000), False, END_OF_DEFAULT),  # the range is TCP's
        (_flow("SCTP", 8080), False, END_OF_DEFAULT),
        (_flow("UDP", 64999), False, END_OF_DEFAULT),
        (_flow("UDP", 65000), True, udp),
        (_flow("UDP", 65535), True, udp),
        (_flow("TCP", 65535), False, END_OF_DEFAULT),
    ])


CALICO_NOT_PORTS = NAMESPACES + _server("server", "10.0.0.2") + """
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: not-range, namespace: prod}
spec:
  selector: app == 'server'
  types: [Ingress]
  ingress:
  - {action: Deny, protocol: TCP, destination: {notPorts: ['8000:8080']}}
  - {action: Allow}
"""


def test_not_ports_range_excludes_both_ends_and_nothing_past_them(make_engine: Any) -> None:
    # notPorts holds when the port is in none of the entries: the Deny rule takes every
    # TCP port outside 8000..8080; the ports inside fall to the Allow rule; other
    # protocols never match the TCP rule.
    deny, allow = ("rule", "NetworkPolicy", "prod", "not-range", 0), ("rule", "NetworkPolicy", "prod", "not-range", 1)
    _decide_everywhere(netpolicy.loads(CALICO_NOT_PORTS), make_engine, [
        (_flow("TCP", 7999), False, deny),
        (_flow("TCP", 8000), True, allow),
        (_flow("TCP", 8080), True, allow),
        (_flow("TCP", 8081), False, deny),
        (_flow("TCP", 1), False, deny),
        (_flow("UDP", 7999), True, allow),
    ])


# -- a named port is the declared (address, protocol, port), per endpoint ------------------------

NAMED = NAMESPACES + _server("udp-dns", "10.0.0.2", "[{name: dns, containerPort: 53, protocol: UDP}]") + _server(
    "tcp-dns", "10.0.0.3", "[{name: dns, containerPort: 5353}]"
)

K8S_NAMED = NAMED + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: prod}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: dns}]
"""


def test_kubernetes_named_port_is_tcp_unless_it_says_otherwise(make_engine: Any) -> None:
    # A Kubernetes port without protocol is TCP, so {port: dns} resolves to the TCP
    # ports named dns: tcp-dns's 5353, not udp-dns's UDP 53.
    _decide_everywhere(netpolicy.loads(K8S_NAMED), make_engine, [
        (_flow("UDP", 53, "prod/udp-dns"), False, END_OF_DEFAULT),
        (_flow("TCP", 53, "prod/udp-dns"), False, END_OF_DEFAULT),
        (_flow("TCP", 5353, "prod/tcp-dns"), True, ("rule", "KubernetesNetworkPolicy", "prod", "dns", 0)),
        (_flow("UDP", 5353, "prod/tcp-dns"), False, END_OF_DEFAULT),
        (_flow("TCP", 53, "prod/tcp-dns"), False, END_OF_DEFAULT),  # another pod's number for the name
    ])


CALICO_NAMED = NAMED + """
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: dns, namespace: prod}
spec:
  selector: app == 'server'
  types: [Ingress]
  ingress:
  - {action: Log, destination: {ports: [dns]}}
  - {action: Allow, protocol: UDP, destination: {ports: [dns]}}
  - {action: Allow, protocol: TCP, destination: {ports: [dns]}}
  - {action: Deny, protocol: TCP}
"""


def test_calico_named_port_matches_only_the_protocol_it_was_declared_with(make_engine: Any) -> None:
    # Rule 0 (Log, no protocol) takes the name with each declaration's own protocol:
    # udp-dns's UDP 53 and tcp-dns's TCP 5353, nothing else. Rule 1 (UDP) resolves dns
    # to the UDP declarations only, rule 2 (TCP) to the TCP ones only. Rule 3 denies the
    # rest of TCP; a UDP flow that rule 1 does not take reaches no rule: end of tier
    # default, Deny.
    def rule(number: int) -> tuple[Any, ...]:
        return ("rule", "NetworkPolicy", "prod", "dns", number)

    _decide_everywhere(netpolicy.loads(CALICO_NAMED), make_engine, [
        (_flow("UDP", 53, "prod/udp-dns"), True, rule(1)),
        (_flow("TCP", 53, "prod/udp-dns"), False, rule(3)),
        (_flow("TCP", 5353, "prod/tcp-dns"), True, rule(2)),
        (_flow("UDP", 5353, "prod/tcp-dns"), False, END_OF_DEFAULT),
        (_flow("UDP", 53, "prod/tcp-dns"), False, END_OF_DEFAULT),  # another pod's number for the name
    ], logged={0, 2})


# -- order ties: the key <name>/<namespace>/<kind>, compared byte by byte ------------------------


def _tied(policies: str) -> str:
    return NAMESPACES + _server("server", "10.0.0.2") + policies


KNP_ALLOW = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: prod}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress: [{ports: [{protocol: TCP, port: 80}]}]
"""


def _calico(kind: str, name: str, action: str, namespace: str | None = None) -> str:
    meta = f"{{name: {name}, namespace: {namespace}}}" if namespace else f"{{name: {name}}}"
    return f"""
---
apiVersion: projectcalico.org/v3
kind: {kind}
metadata: {meta}
spec:
  order: 1000
  selector: app == 'server'
  types: [Ingress]
  ingress: [{{action: {action}, protocol: TCP, destination: {{ports: [80]}}}}]
"""


# Every policy sits in tier default at order 1000 (Kubernetes NetworkPolicies always do),
# so the key decides which of them is asked first; the first one's rule decides TCP 80.
TIES = [
    pytest.param(
        (KNP_ALLOW, _calico("NetworkPolicy", "a", "Deny", "prod")),
        # 3.32: 'a/prod/KubernetesNetworkPolicy' < 'a/prod/NetworkPolicy' ('K' < 'N').
        # 3.31: 'prod/default.a' < 'prod/knp.default.a' ('d' < 'k').
        (True, ("rule", "KubernetesNetworkPolicy", "prod", "a", 0)),
        (False, ("rule", "NetworkPolicy", "prod", "a", 0)),
        id="kubernetes-and-calico-policy-of-one-name",
    ),
    pytest.param(
        (_calico("NetworkPolicy", "a", "Deny", "prod"), _calico("GlobalNetworkPolicy", "a-b", "Allow")),
        # 3.32: 'a-b//GlobalNetworkPolicy' < 'a/prod/NetworkPolicy' ('-' 0x2D < '/' 0x2F),
        # although 'a' < 'a-b'. 3.31: 'default.a-b' < 'prod/default.a'.
        (True, ("rule", "GlobalNetworkPolicy", None, "a-b", 0)),
        (True, ("rule", "GlobalNetworkPolicy", None, "a-b", 0)),
        id="global-name-with-a-dash-before-namespaced",
    ),
    pytest.param(
        (_calico("NetworkPolicy", "a", "Allow", "prod"), _calico("GlobalNetworkPolicy", "a0", "Deny")),
        # 3.32: 'a/prod/NetworkPolicy' < 'a0//GlobalNetworkPolicy' ('/' 0x2F < '0' 0x30).
        # 3.31: 'default.a0' < 'prod/default.a'.
        (True, ("rule", "NetworkPolicy", "prod", "a", 0)),
        (False, ("rule", "GlobalNetworkPolicy", None, "a0", 0)),
        id="namespaced-before-global-name-with-a-digit",
    ),
    pytest.param(
        (_calico("GlobalNetworkPolicy", "a", "Deny"), _calico("NetworkPolicy", "a", "Allow", "prod")),
        # 3.32: 'a//GlobalNetworkPolicy' < 'a/prod/NetworkPolicy' (no namespace: '/' first).
        # 3.31: 'default.a' < 'prod/default.a'.
        (False, ("rule", "GlobalNetworkPolicy", None, "a", 0)),
        (False, ("rule", "GlobalNetworkPolicy", None, "a", 0)),
        id="global-and-namespaced-of-one-name",
    ),
]


@pytest.mark.parametrize(("policies", "newest", "older"), TIES)
def test_order_ties_break_by_calico_key(make_engine: Any, policies: tuple[str, str], newest: Any, older: Any) -> None:
    for version, (allowed, why) in (("3.32", newest), ("3.31", older)):
        for documents in (policies, policies[::-1]):  # the order they are read in does not count
            ps = netpolicy.loads(_tied("".join(documents)), calico_version=version)
            _decide_everywhere(ps, make_engine, [(_flow("TCP", 80), allowed, why)])
