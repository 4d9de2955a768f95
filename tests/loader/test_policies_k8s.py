"""Kubernetes NetworkPolicy and StagedKubernetesNetworkPolicy conversion (§D)."""

from __future__ import annotations

import ipaddress

import pytest
from test_policies_support import canonical, convert, errors_of

from netpolicy.model import Action, NamedPort, PortRange

NP = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: x}
"""


def np(spec: str) -> str:
    return NP + "spec:\n" + "\n".join("  " + line for line in spec.strip("\n").splitlines()) + "\n"


def test_identity_tier_order_and_selector() -> None:
    policy = convert(np("podSelector: {}")).one
    assert (policy.ref.kind, policy.ref.namespace, policy.ref.name) == ("KubernetesNetworkPolicy", "x", "np")
    assert policy.tier == "default"
    assert policy.order == 1000.0
    assert not policy.staged
    assert str(policy.selector) == canonical(
        "(projectcalico.org/orchestrator == 'k8s') && projectcalico.org/namespace == 'x'")


def test_pod_selector_terms_sorted_then_expressions_in_order() -> None:
    policy = convert(np("""
podSelector:
  matchLabels: {zeta: z, alpha: a}
  matchExpressions:
  - {key: tier, operator: In, values: [b, a]}
  - {key: env, operator: NotIn, values: [prod]}
  - {key: team, operator: Exists}
  - {key: legacy, operator: DoesNotExist}
""")).one
    expected = ("(projectcalico.org/orchestrator == 'k8s' && alpha == 'a' && zeta == 'z' && "
                "tier in { 'b', 'a' } && env not in { 'prod' } && has(team) && ! has(legacy))"
                " && projectcalico.org/namespace == 'x'")
    assert str(policy.selector) == canonical(expected)
    assert policy.selector.matches({"projectcalico.org/orchestrator": "k8s", "projectcalico.org/namespace": "x",
                                    "alpha": "a", "zeta": "z", "tier": "a", "team": "t"})


def test_policy_types_default_like_the_api_server() -> None:
    only_ingress = convert(np("podSelector: {}")).one
    assert only_ingress.ingress == () and only_ingress.egress is None
    with_egress = convert(np("podSelector: {}\negress: [{}]")).one
    assert with_egress.ingress == () and len(with_egress.egress) == 1
    egress_only = convert(np("podSelector: {}\npolicyTypes: [Egress]")).one
    assert egress_only.ingress is None and egress_only.egress == ()


def test_empty_rule_matches_everything() -> None:
    policy = convert(np("podSelector: {}\ningress: [{}]\negress: [{to: []}]")).one
    (rule,) = policy.ingress
    assert rule.action is Action.ALLOW
    assert rule.protocol is None and rule.source.is_empty and rule.destination.is_empty
    (rule,) = policy.egress
    assert rule.source.is_empty and rule.destination.is_empty


def test_rules_expand_per_protocol_then_peer() -> None:
    policy = convert(np("""
podSelector: {}
ingress:
- from:
  - podSelector: {matchLabels: {app: a}}
  - namespaceSelector: {matchLabels: {team: t}}
  ports:
  - {protocol: UDP, port: 53}
  - {port: 80}
  - {protocol: SCTP}
  - {port: 81}
""")).one
    protocols = [r.protocol for r in policy.ingress]
    assert protocols == [132, 132, 6, 6, 17, 17]  # SCTP < TCP < UDP, then the peers
    sctp, _, tcp_pods, tcp_ns, udp, _ = policy.ingress
    assert sctp.destination.ports == ()  # every SCTP port
    assert tcp_pods.destination.ports == (PortRange(80, 81),)  # merged
    assert udp.destination.ports == (PortRange(53, 53),)
    assert str(tcp_pods.source.selector) == canonical(
        "(projectcalico.org/namespace == 'x') && (projectcalico.org/orchestrator == 'k8s' && app == 'a')")
    assert str(tcp_ns.source.selector) == canonical(
        "(pcns.team == 't') && (projectcalico.org/orchestrator == 'k8s')")


def test_port_without_number_covers_the_whole_protocol() -> None:
    policy = convert(np("""
podSelector: {}
ingress:
- ports: [{protocol: TCP, port: 80}, {protocol: TCP}]
""")).one
    (rule,) = policy.ingress
    assert rule.protocol == 6 and rule.destination.ports == ()


def test_empty_namespace_selector_means_every_namespace() -> None:
    policy = convert(np("""
podSelector: {}
ingress:
- from: [{namespaceSelector: {}}]
""")).one
    (rule,) = policy.ingress
    assert str(rule.source.selector) == canonical(
        "(has(projectcalico.org/namespace)) && (projectcalico.org/orchestrator == 'k8s')")


def test_pod_and_namespace_selector_in_one_peer_are_anded() -> None:
    policy = convert(np("""
podSelector: {}
egress:
- to: [{podSelector: {matchLabels: {app: db}}, namespaceSelector: {matchLabels: {env: prod}}}]
  ports: [{port: 5432}]
""")).one
    (rule,) = policy.egress
    assert rule.protocol == 6
    assert rule.destination.ports == (PortRange(5432, 5432),)
    assert str(rule.destination.selector) == canonical(
        "(pcns.env == 'prod') && (projectcalico.org/orchestrator == 'k8s' && app == 'db')")


def test_ip_block_masks_host_bits_and_keeps_except() -> None:
    policy = convert(np("""
podSelector: {}
egress:
- to: [{ipBlock: {cidr: 10.0.1.1/4, except: [10.0.1.2/32]}}]
""")).one
    (rule,) = policy.egress
    assert rule.destination.nets == (ipaddress.ip_network("0.0.0.0/4"),)
    assert rule.destination.not_nets == (ipaddress.ip_network("10.0.1.2/32"),)
    assert rule.destination.selector is None


def test_ipv6_ip_block() -> None:
    policy = convert(np("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 'fd00::/8', except: ['fd00:1::/32']}}]}]")).one
    (rule,) = policy.ingress
    assert rule.source.nets == (ipaddress.ip_network("fd00::/8"),)


def test_named_port_keeps_its_protocol() -> None:
    policy = convert(np("""
podSelector: {}
ingress:
- ports: [{port: http}, {protocol: UDP, port: dns}]
""")).one
    tcp, udp = policy.ingress
    assert (tcp.protocol, tcp.destination.ports) == (6, (NamedPort("http"),))
    assert (udp.protocol, udp.destination.ports) == (17, (NamedPort("dns"),))


def test_end_port_gives_a_range() -> None:
    policy = convert(np("podSelector: {}\ningress: [{ports: [{port: 8000, endPort: 8080}]}]")).one
    assert policy.ingress[0].destination.ports == (PortRange(8000, 8080),)


def test_staged_kubernetes_network_policy() -> None:
    text = """
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: snp, namespace: y}
spec:
  stagedAction: Set
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""
    policy = convert(text).one
    assert policy.staged
    assert policy.ref.kind == "StagedKubernetesNetworkPolicy"
    assert policy.ingress == () and policy.egress == ()
    assert convert(text.replace("stagedAction: Set\n  podSelector: {}\n  policyTypes: [Ingress, Egress]",
                                "stagedAction: Delete")).objects == []
    assert errors_of(text.replace("Set", "Delete")) == [
        ("spec.policyTypes", "spec fields must all be empty when stagedAction is Delete")]


@pytest.mark.parametrize(
    "spec, path, message",
    [
        ("podSelector: {matchLabels: {'bad key!': v}}", "spec.podSelector.matchLabels.bad key!",
         "label key 'bad key!' is not a valid qualified name"),
        ("podSelector: {matchLabels: {k: 'bad value'}}", "spec.podSelector.matchLabels.k",
         "label value 'bad value' is not valid"),
        ("podSelector: {matchExpressions: [{key: k, operator: In}]}", "spec.podSelector.matchExpressions[0].values",
         "must be specified when operator is 'In'"),
        ("podSelector: {matchExpressions: [{key: k, operator: NotIn, values: []}]}",
         "spec.podSelector.matchExpressions[0].values", "must be specified when operator is 'NotIn'"),
        ("podSelector: {matchExpressions: [{key: k, operator: Exists, values: [a]}]}",
         "spec.podSelector.matchExpressions[0].values", "may not be specified when operator is 'Exists'"),
        ("podSelector: {matchExpressions: [{key: k, operator: Equals, values: [a]}]}",
         "spec.podSelector.matchExpressions[0].operator", "'Equals' is not one of In, NotIn, Exists, DoesNotExist"),
        ("podSelector: {}\npolicyTypes: [Sideways]", "spec.policyTypes[0]", "'Sideways' is not one of Ingress, Egress"),
        ("podSelector: {}\ningress: [{from: [{}]}]", "spec.ingress[0].from[0]",
         "must specify a peer: podSelector, namespaceSelector or ipBlock"),
        ("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
         "spec.ingress[0].from[0]", "may not specify both ipBlock and another peer"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]", "spec.egress[0].to[0].ipBlock.cidr",
         "'10.0.0.0/33' is not a valid CIDR"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {cidr: 10.0.0.1}}]}]", "spec.egress[0].to[0].ipBlock.cidr",
         "'10.0.0.1' is not a valid CIDR"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {except: [10.0.0.0/8]}}]}]", "spec.egress[0].to[0].ipBlock.cidr",
         "required field is missing"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]",
         "spec.egress[0].to[0].ipBlock.except[0]", "'11.0.0.0/16' must be a strict subset of `cidr` '10.0.0.0/8'"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]}]",
         "spec.egress[0].to[0].ipBlock.except[0]", "'10.0.0.0/8' must be a strict subset of `cidr` '10.0.0.0/8'"),
        ("podSelector: {}\negress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: ['fd00::/64']}}]}]",
         "spec.egress[0].to[0].ipBlock.except[0]", "'fd00::/64' must be a strict subset of `cidr` '10.0.0.0/8'"),
        ("podSelector: {}\ningress: [{ports: [{port: 0}]}]", "spec.ingress[0].ports[0].port", "port 0 is outside 1-65535"),
        ("podSelector: {}\ningress: [{ports: [{port: 65536}]}]", "spec.ingress[0].ports[0].port",
         "port 65536 is outside 1-65535"),
        ("podSelector: {}\ningress: [{ports: [{protocol: ICMP, port: 1}]}]", "spec.ingress[0].ports[0].protocol",
         "protocol 'ICMP' is not supported: must be TCP, UDP or SCTP"),
        ("podSelector: {}\ningress: [{ports: [{protocol: tcp, port: 1}]}]", "spec.ingress[0].ports[0].protocol",
         "protocol 'tcp' is not supported: must be TCP, UDP or SCTP"),
        ("podSelector: {}\ningress: [{ports: [{port: '80'}]}]", "spec.ingress[0].ports[0].port",
         "port '80' must be a number or an IANA service name"),
        ("podSelector: {}\ningress: [{ports: [{port: Http}]}]", "spec.ingress[0].ports[0].port",
         "port 'Http' must be a number or an IANA service name"),
        ("podSelector: {}\ningress: [{ports: [{port: 80, endPort: 79}]}]", "spec.ingress[0].ports[0].endPort",
         "endPort 79 must be greater than or equal to `port` 80"),
        ("podSelector: {}\ningress: [{ports: [{port: http, endPort: 90}]}]", "spec.ingress[0].ports[0].endPort",
         "may not be specified when `port` is non-numeric"),
        ("podSelector: {}\ningress: [{ports: [{endPort: 90}]}]", "spec.ingress[0].ports[0].endPort",
         "may not be specified when `port` is not specified"),
    ],
)
def test_invalid_network_policies(spec: str, path: str, message: str) -> None:
    errors = errors_of(np(spec))
    assert any(p == path and m.startswith(message) for p, m in errors), errors


def test_invalid_name() -> None:
    errors = errors_of(NP.replace("name: np", "name: Bad_Name") + "spec: {podSelector: {}}")
    assert errors[0][0] == "metadata.name" and "DNS-1123 subdomain" in errors[0][1]


def test_every_problem_is_reported() -> None:
    errors = errors_of(np("""
podSelector: {matchLabels: {k: 'a b'}}
ingress:
- ports: [{port: 0}, {protocol: XTP}]
egress:
- to: [{ipBlock: {cidr: nope}}]
"""))
    assert [p for p, _ in errors] == [
        "spec.podSelector.matchLabels.k",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].ports[1].protocol",
        "spec.egress[0].to[0].ipBlock.cidr",
    ]


def test_unknown_field_is_a_warning() -> None:
    result = convert(np("podSelector: {}\nfrobnicate: true"))
    assert result.one is not None
    assert any("unknown field 'frobnicate'" in w for w in result.warnings)


def test_multiple_peers_and_ports_like_calico() -> None:
    # Calico's conversion test: UDP 90 and TCP 80 from two pod peers give four rules,
    # TCP first, each protocol once per peer.
    policy = convert(np("""
podSelector: {matchLabels: {label: value}}
ingress:
- ports: [{port: 90, protocol: UDP}, {port: 80, protocol: TCP}]
  from: [{podSelector: {matchLabels: {k: v}}}, {podSelector: {matchLabels: {k2: v2}}}]
""")).one
    rules = [(r.protocol, r.destination.ports, str(r.source.selector)) for r in policy.ingress]
    k = canonical("(projectcalico.org/namespace == 'x') && (projectcalico.org/orchestrator == 'k8s' && k == 'v')")
    k2 = canonical("(projectcalico.org/namespace == 'x') && (projectcalico.org/orchestrator == 'k8s' && k2 == 'v2')")
    assert rules == [
        (6, (PortRange(80, 80),), k),
        (6, (PortRange(80, 80),), k2),
        (17, (PortRange(90, 90),), k),
        (17, (PortRange(90, 90),), k2),
    ]


def test_numeric_and_named_ports_share_a_rule() -> None:
    policy = convert(np("podSelector: {}\ningress: [{ports: [{port: foo}, {port: 80}]}]")).one
    (rule,) = policy.ingress
    assert rule.protocol == 6 and rule.destination.ports == (PortRange(80, 80), NamedPort("foo"))


def test_through_the_loader() -> None:
    import netpolicy

    ps = netpolicy.loads(NP + "spec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {matchLabels: {a: b}}}]}]\n")
    (policy,) = ps.policies
    assert policy.ref == netpolicy.PolicyRef("KubernetesNetworkPolicy", "x", "np")
    with pytest.raises(netpolicy.ValidationError) as caught:
        netpolicy.loads(NP + "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 99999\n")
    assert caught.value.path == "spec.ingress[0].ports[0].port"
    assert caught.value.line == 9


@pytest.mark.parametrize("spec, path", [
    ("podSelector: {matchExpressions: [{key: k, operator: In, values: abc}]}",
     "spec.podSelector.matchExpressions[0].values"),
    ("podSelector: {matchLabels: {1: a}}", "spec.podSelector.matchLabels"),
    ("podSelector: []", "spec.podSelector"),
    ("podSelector: {}\ningress: [null]", "spec.ingress[0]"),
    ("podSelector: {}\ningress: [{from: x}]", "spec.ingress[0].from"),
])
def test_malformed_shapes_are_problems(spec: str, path: str) -> None:
    assert path in [p for p, _ in errors_of(np(spec))]


def test_at_most_two_policy_types() -> None:
    assert ("spec.policyTypes", "may not specify more than two policyTypes") in errors_of(
        np("podSelector: {}\npolicyTypes: [Ingress, Egress, Ingress]"))
