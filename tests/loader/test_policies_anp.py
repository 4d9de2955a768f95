"""AdminNetworkPolicy and BaselineAdminNetworkPolicy conversion (§E.1, upstream API)."""

from __future__ import annotations

import ipaddress

import pytest
from test_policies_support import canonical, convert, errors_of

from netpolicy.loader.registry import Inventory, Node
from netpolicy.model import Action, NamedPort, PortRange

ANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: anp}
spec:
  priority: 75
  subject: {namespaces: {matchLabels: {house: gryffindor}}}
"""
BANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {house: gryffindor}}}
"""

NODES = Inventory(nodes={
    "worker": Node("worker", {"kubernetes.io/os": "linux"}, ["172.18.0.2", "fd00::2"]),
    "worker2": Node("worker2", {"kubernetes.io/os": "linux"}, ["172.18.0.3"]),
    "win": Node("win", {"kubernetes.io/os": "windows"}, ["172.18.0.9"]),
})


def with_rules(base: str, rules: str) -> str:
    return base + "\n".join("  " + line for line in rules.strip("\n").splitlines()) + "\n"


def test_anp_tier_order_kind_and_subject_namespaces() -> None:
    policy = convert(with_rules(ANP, "ingress: [{name: r, action: Deny, from: [{namespaces: {}}]}]")).one
    assert (policy.ref.kind, policy.ref.namespace, policy.ref.name) == ("AdminNetworkPolicy", None, "anp")
    assert policy.tier == "adminnetworkpolicy"
    assert policy.order == 75.0
    assert str(policy.selector) == canonical(
        "(projectcalico.org/orchestrator == 'k8s') && pcns.house == 'gryffindor'")
    assert policy.ingress is not None and policy.egress is None


def test_subject_pods_and_empty_namespace_selector() -> None:
    text = ANP.replace("subject: {namespaces: {matchLabels: {house: gryffindor}}}",
                       "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}")
    policy = convert(text).one
    assert str(policy.selector) == canonical(
        "(projectcalico.org/orchestrator == 'k8s' && app == 'a') && has(projectcalico.org/namespace)")


def test_banp_tier_order_and_actions() -> None:
    policy = convert(with_rules(BANP, """
ingress: [{name: i, action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {}}}]}]
egress: [{name: e, action: Deny, to: [{namespaces: {matchLabels: {house: slytherin}}}]}]
""")).one
    assert (policy.ref.kind, policy.ref.name) == ("BaselineAdminNetworkPolicy", "default")
    assert policy.tier == "baselineadminnetworkpolicy"
    assert policy.order == 1000.0
    assert [r.action for r in policy.ingress] == [Action.ALLOW]
    assert [r.action for r in policy.egress] == [Action.DENY]
    assert policy.egress[0].name == "e"
    assert str(policy.egress[0].destination.selector) == canonical(
        "(pcns.house == 'slytherin') && (projectcalico.org/orchestrator == 'k8s')")


def test_banp_must_be_named_default_and_has_no_pass() -> None:
    errors = errors_of(with_rules(BANP.replace("name: default", "name: other"),
                                  "ingress: [{action: Pass, from: [{namespaces: {}}]}]"))
    assert ("metadata.name", "a BaselineAdminNetworkPolicy must be named 'default'") in errors
    assert ("spec.ingress[0].action", "'Pass' is not one of Allow, Deny") in errors


def test_actions_and_rule_names_are_kept() -> None:
    policy = convert(with_rules(ANP, """
egress:
- {name: a, action: Allow, to: [{namespaces: {}}]}
- {name: d, action: Deny, to: [{namespaces: {}}]}
- {name: p, action: Pass, to: [{namespaces: {}}]}
""")).one
    assert [(r.action, r.name) for r in policy.egress] == [
        (Action.ALLOW, "a"), (Action.DENY, "d"), (Action.PASS, "p")]
    assert policy.ingress is None


def test_ports_group_by_protocol_with_named_ports_unqualified() -> None:
    policy = convert(with_rules(ANP, """
ingress:
- name: r
  action: Allow
  from: [{namespaces: {}}, {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}}]
  ports:
  - {portNumber: {protocol: UDP, port: 53}}
  - {portNumber: {port: 80}}
  - {portRange: {protocol: TCP, start: 81, end: 90}}
  - {namedPort: web}
""")).one
    assert [(r.protocol, r.destination.ports) for r in policy.ingress] == [
        (None, (NamedPort("web"),)),
        (None, (NamedPort("web"),)),
        (6, (PortRange(80, 90),)),
        (6, (PortRange(80, 90),)),
        (17, (PortRange(53, 53),)),
        (17, (PortRange(53, 53),)),
    ]


def test_no_ports_means_any_protocol() -> None:
    policy = convert(with_rules(ANP, "egress: [{action: Deny, to: [{namespaces: {}}]}]")).one
    (rule,) = policy.egress
    assert rule.protocol is None and rule.destination.ports == ()


def test_networks_peer() -> None:
    policy = convert(with_rules(ANP, "egress: [{action: Deny, to: [{networks: [0.0.0.0/0, '::/0', 10.1.2.3/8]}]}]")).one
    (rule,) = policy.egress
    assert rule.destination.nets == tuple(ipaddress.ip_network(n) for n in ("0.0.0.0/0", "::/0", "10.0.0.0/8"))
    assert rule.destination.selector is None


def test_nodes_peer_resolves_node_addresses() -> None:
    policy = convert(with_rules(ANP, """
egress:
- action: Allow
  to: [{nodes: {matchLabels: {kubernetes.io/os: linux}}}]
  ports: [{portNumber: {protocol: TCP, port: 36363}}]
"""), NODES).one
    (rule,) = policy.egress
    assert rule.destination.nets == tuple(ipaddress.ip_network(a) for a in ("172.18.0.2", "172.18.0.3", "fd00::2"))
    assert rule.protocol == 6 and rule.destination.ports == (PortRange(36363, 36363),)


@pytest.mark.parametrize("action", ["Allow", "Deny", "Pass"])
def test_nodes_peer_without_nodes_matches_nothing(action: str) -> None:
    policy = convert(with_rules(ANP, f"""
egress:
- action: {action}
  to: [{{nodes: {{matchLabels: {{kubernetes.io/os: plan9}}}}}}, {{namespaces: {{}}}}]
"""), NODES).one
    (rule,) = policy.egress  # only the namespaces peer is left
    assert rule.destination.selector is not None and rule.destination.nets == ()
    result = convert(with_rules(ANP, f"egress: [{{action: {action}, to: [{{nodes: {{}}}}]}}]"), Inventory())
    assert result.one.egress == () and result.one.ingress == ()  # no rules left: both directions, empty
    assert any("no Node given matches this nodes selector" in w for w in result.warnings)


def test_domain_names_in_allow_match_nothing_but_keep_other_peers() -> None:
    result = convert(with_rules(ANP, "egress: [{action: Allow, to: [{domainNames: [a.example.com]}, {namespaces: {}}]}]"))
    (rule,) = result.one.egress
    assert rule.action is Action.ALLOW and rule.destination.selector is not None
    assert any("domainNames" in w for w in result.warnings)


@pytest.mark.parametrize("action", ["Deny", "Pass"])
def test_domain_names_in_deny_or_pass_become_a_bare_deny(action: str) -> None:
    policy = convert(with_rules(ANP, f"egress: [{{name: n, action: {action}, to: [{{domainNames: [a.com]}}, {{namespaces: {{}}}}]}}]")).one
    (rule,) = policy.egress
    assert rule.action is Action.DENY and rule.name == "n"
    assert rule.protocol is None and rule.source.is_empty and rule.destination.is_empty


def test_policy_without_rules_counts_in_both_directions() -> None:
    policy = convert(ANP).one
    assert policy.ingress == () and policy.egress == ()


@pytest.mark.parametrize(
    "rules, path, message",
    [
        ("ingress: [{action: Drop, from: [{namespaces: {}}]}]", "spec.ingress[0].action",
         "'Drop' is not one of Allow, Deny, Pass"),
        ("ingress: [{action: Allow}]", "spec.ingress[0].from", "required field is missing"),
        ("ingress: [{action: Allow, from: []}]", "spec.ingress[0].from", "from must hold 1-100 peers, got 0"),
        ("ingress: [{action: Allow, from: [{}]}]", "spec.ingress[0].from[0]",
         "exactly one of namespaces, pods must be set"),
        ("ingress: [{action: Allow, from: [{namespaces: {}, pods: {podSelector: {}}}]}]", "spec.ingress[0].from[0]",
         "exactly one of namespaces, pods must be set, got namespaces, pods"),
        ("egress: [{action: Allow, to: [{pods: {namespaceSelector: {}}}]}]", "spec.egress[0].to[0].pods.podSelector",
         "required field is missing"),
        ("egress: [{action: Allow, to: [{networks: []}]}]", "spec.egress[0].to[0].networks",
         "networks must hold 1-25 CIDRs, got 0"),
        ("egress: [{action: Allow, to: [{networks: [10.0.0.0/40]}]}]", "spec.egress[0].to[0].networks[0]",
         "'10.0.0.0/40' is not a valid CIDR"),
        ("egress: [{action: Allow, to: [{networks: [10.0.0.0/8]}], ports: [{namedPort: web}]}]",
         "spec.egress[0].to[0]", "networks/nodes/domainNames peers cannot be used with namedPort ports"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: []}]", "spec.egress[0].ports",
         "ports must hold 1-100 entries, got 0"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: [{}]}]", "spec.egress[0].ports[0]",
         "exactly one of portNumber, portRange or namedPort must be set"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {port: 0}}]}]",
         "spec.egress[0].ports[0].portNumber.port", "port 0 is outside 1-65535"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 1}}]}]",
         "spec.egress[0].ports[0].portNumber.protocol", "protocol 'ICMP' is not supported"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: [{portRange: {start: 9, end: 9}}]}]",
         "spec.egress[0].ports[0].portRange", "start port 9 must be less than end port 9"),
        ("egress: [{action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP}}]}]",
         "spec.egress[0].ports[0].portNumber.port", "required field is missing"),
        ("egress: [{name: " + "x" * 101 + ", action: Allow, to: [{namespaces: {}}]}]", "spec.egress[0].name",
         "rule name is 101 characters long, at most 100 allowed"),
        ("egress: [{action: Allow, to: [{namespaces: {matchLabels: {k: 'a b'}}}]}]",
         "spec.egress[0].to[0].namespaces.matchLabels.k", "label value 'a b' is not valid"),
    ],
)
def test_invalid_admin_network_policies(rules: str, path: str, message: str) -> None:
    errors = errors_of(with_rules(ANP, rules))
    assert any(p == path and m.startswith(message) for p, m in errors), errors


@pytest.mark.parametrize("priority, message", [
    ("1001", "1001 is outside 0-1000"), ("-1", "-1 is outside 0-1000"), ("'5'", "expected an integer")])
def test_priority_bounds(priority: str, message: str) -> None:
    errors = errors_of(ANP.replace("priority: 75", f"priority: {priority}"))
    assert errors[0][0] == "spec.priority" and errors[0][1].startswith(message)


def test_priority_and_subject_required() -> None:
    errors = errors_of(ANP.replace("  priority: 75\n", "").replace(
        "  subject: {namespaces: {matchLabels: {house: gryffindor}}}\n", "  ingress: []\n"))
    assert ("spec.priority", "required field is missing") in errors
    assert ("spec.subject", "required field is missing") in errors


def test_subject_needs_exactly_one_kind() -> None:
    errors = errors_of(ANP.replace("subject: {namespaces: {matchLabels: {house: gryffindor}}}",
                                   "subject: {namespaces: {}, pods: {podSelector: {}}}"))
    assert errors == [("spec.subject", "exactly one of namespaces or pods must be set")]


def test_nodes_peer_through_the_loader() -> None:
    import netpolicy

    ps = netpolicy.loads("""
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: infra}}
status: {addresses: [{type: InternalIP, address: 10.9.0.1}, {type: Hostname, address: n1}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {role: app}}
status: {addresses: [{type: InternalIP, address: 10.9.0.2}]}
---
""" + with_rules(ANP, "egress: [{action: Deny, to: [{nodes: {matchLabels: {role: infra}}}]}]"))
    (policy,) = ps.policies
    assert policy.egress[0].destination.nets == (ipaddress.ip_network("10.9.0.1/32"),)
    tiers = {t.name: (t.order, t.default_action) for t in ps.tiers}
    assert tiers["adminnetworkpolicy"] == (1000.0, Action.PASS)
    assert tiers["baselineadminnetworkpolicy"] == (10_000_000.0, Action.PASS)


@pytest.mark.parametrize("peer", [
    "{namespaces: {sameLabels: [tenant]}}",
    "{namespaces: {namespaceSelector: {matchLabels: {a: b}}}}",
    "{pods: {namespaces: {namespaceSelector: {}}, podSelector: {}}}",
    "{pods: {namespaceSelector: {notSameLabels: [x]}, podSelector: {}}}",
])
def test_peers_of_other_api_versions_fail_closed(peer: str) -> None:
    allow = convert(with_rules(ANP, f"ingress: [{{action: Allow, from: [{peer}, {{namespaces: {{}}}}]}}]"))
    (rule,) = allow.one.ingress  # the unknown peer matches nothing, the other still applies
    assert rule.action is Action.ALLOW and rule.source.selector is not None
    assert any("this API version does not have" in w for w in allow.warnings)
    deny = convert(with_rules(ANP, f"ingress: [{{action: Pass, from: [{peer}]}}]")).one
    (rule,) = deny.ingress
    assert rule.action is Action.DENY and rule.source.is_empty


def test_subject_of_another_api_version_is_refused() -> None:
    errors = errors_of(ANP.replace("subject: {namespaces: {matchLabels: {house: gryffindor}}}",
                                   "subject: {namespaces: {sameLabels: [tenant]}}"))
    assert errors == [("spec.subject.namespaces", "subject holds fields this API version does not have "
                                                  "(for example sameLabels); the pods it selects are unknown")]


CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {house: gryffindor}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {house: slytherin}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a}
spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: q, namespace: b}
spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
status: {podIP: 10.0.0.2}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: ext, namespace: b, labels: {role: ext}}
spec: {nets: [192.0.2.0/24]}
---
"""


def test_namespaces_peers_select_pods_not_network_sets() -> None:
    import netpolicy

    ps = netpolicy.loads(CLUSTER + with_rules(ANP, "egress: [{action: Deny, to: [{namespaces: {matchLabels: {house: slytherin}}}]}]"))
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)).allowed
    assert ps.evaluate(netpolicy.Flow(src="a/p", dst="192.0.2.7", dst_port=80)).allowed


def test_named_port_matches_the_destination_pods_port() -> None:
    import netpolicy

    ps = netpolicy.loads(CLUSTER + with_rules(ANP, """
egress:
- {action: Allow, to: [{namespaces: {}}], ports: [{namedPort: web}]}
- {action: Deny, to: [{namespaces: {}}]}
"""))
    assert ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=8080)).allowed
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)).allowed
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", protocol="UDP", dst_port=8080)).allowed


def test_domain_names_deny_denies_everything_from_the_subject() -> None:
    import netpolicy

    ps = netpolicy.loads(CLUSTER + with_rules(ANP, "egress: [{action: Deny, to: [{domainNames: [x.example.com]}]}]"))
    assert any("domainNames" in w for w in ps.warnings)
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)).allowed
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="198.51.100.1", dst_port=443)).allowed
    assert ps.evaluate(netpolicy.Flow(src="b/q", dst="a/p", dst_port=80)).allowed  # not the subject


def test_at_most_100_rules() -> None:
    rules = "".join("  - {action: Deny, to: [{namespaces: {}}]}\n" for _ in range(101))
    errors = errors_of(ANP + "  egress:\n" + rules)
    assert errors == [("spec.egress", "at most 100 rules allowed, got 101")]
