"""ClusterNetworkPolicy (v1alpha2) validation and conversion (§E.2, upstream API, and
Calico's own conversion where it departs from it)."""

from __future__ import annotations

import ipaddress

import pytest
import yaml
from test_policies_anp import CLUSTER
from test_policies_support import Converted, canonical, convert, errors_of

import netpolicy
from netpolicy.loader._fields import Document
from netpolicy.loader.cnp import cluster_network_policy
from netpolicy.loader.registry import Inventory, Meta, Node
from netpolicy.model import Action, NamedPort, PortRange

CNP = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: cnp}
spec:
  tier: Admin
  priority: 75
  subject: {namespaces: {matchLabels: {house: gryffindor}}}
"""

NODES = Inventory(nodes={
    "worker": Node("worker", {"kubernetes.io/os": "linux"}, ["172.18.0.2", "fd00::2"]),
    "win": Node("win", {"kubernetes.io/os": "windows"}, ["172.18.0.9"]),
})


def with_rules(rules: str, base: str = CNP) -> str:
    return base + "\n".join("  " + line for line in rules.strip("\n").splitlines()) + "\n"


def exact(text: str, inventory: Inventory | None = None) -> Converted:
    """Converted as Calico converts it."""
    body = yaml.safe_load(text)
    doc = Document(body)
    meta = Meta(kind=body["kind"], api_version=body["apiVersion"], name=body["metadata"]["name"], namespace=None)
    policy = cluster_network_policy(doc.root(), meta, inventory or Inventory(), exact=True)
    return Converted([policy] if policy is not None else [], list(doc.problems), list(doc.warnings))


# -- conversion -------------------------------------------------------------------------


@pytest.mark.parametrize("tier, calico_tier", [("Admin", "kube-admin"), ("Baseline", "kube-baseline")])
def test_tier_order_kind_and_namespaces_subject(tier: str, calico_tier: str) -> None:
    text = with_rules("ingress: [{action: Deny, from: [{namespaces: {}}]}]", CNP.replace("Admin", tier))
    policy = convert(text).one
    assert (policy.ref.kind, policy.ref.namespace, policy.ref.name) == ("KubernetesClusterNetworkPolicy", None, "cnp")
    assert (policy.tier, policy.order) == (calico_tier, 75.0)
    # a namespaces subject selects pods only: never host endpoints
    assert str(policy.selector) == canonical(
        "(projectcalico.org/orchestrator == 'k8s') && pcns.house == 'gryffindor'")
    assert policy.ingress is not None and policy.egress is None


def test_pods_subject_without_namespace_selector_means_every_namespace() -> None:
    policy = convert(CNP.replace("subject: {namespaces: {matchLabels: {house: gryffindor}}}",
                                 "subject: {pods: {podSelector: {matchLabels: {app: a}}}}")).one
    assert str(policy.selector) == canonical(
        "(projectcalico.org/orchestrator == 'k8s' && app == 'a') && has(projectcalico.org/namespace)")


def test_actions_accept_is_allow() -> None:
    policy = convert(with_rules("""
egress:
- {name: a, action: Accept, to: [{namespaces: {}}]}
- {name: d, action: Deny, to: [{namespaces: {}}]}
- {action: Pass, to: [{namespaces: {}}]}
""")).one
    assert [(r.action, r.name) for r in policy.egress] == [(Action.ALLOW, "a"), (Action.DENY, "d"), (Action.PASS, None)]
    assert policy.ingress is None


def test_one_rule_per_protocol_and_peer_with_the_manifest_rule_named() -> None:
    policy = convert(with_rules("""
ingress:
- {action: Deny, from: [{namespaces: {}}]}
- name: multi
  action: Deny
  from: [{namespaces: {matchLabels: {house: slytherin}}}, {pods: {podSelector: {matchLabels: {app: x}}}}]
  protocols:
  - udp: {destinationPort: {number: 53}}
  - tcp: {destinationPort: {number: 80}}
  - tcp: {destinationPort: {range: {start: 81, end: 90}}}
  - destinationNamedPort: web
  - sctp: {destinationPort: {number: 9}}
""")).one
    rules = policy.ingress
    assert len(rules) == 1 + 4 * 2
    expanded = rules[1:]
    assert [r.protocol for r in expanded] == [None, None, 132, 132, 6, 6, 17, 17]  # named ports first, then sorted
    assert [r.destination.ports for r in expanded[::2]] == [
        (NamedPort("web"),), (PortRange(9, 9),), (PortRange(80, 90),), (PortRange(53, 53),)]
    slytherin = canonical("(pcns.house == 'slytherin') && (projectcalico.org/orchestrator == 'k8s')")
    assert [str(r.source.selector) for r in expanded[:2]] == [slytherin, canonical(
        "(has(projectcalico.org/namespace)) && (projectcalico.org/orchestrator == 'k8s' && app == 'x')")]
    assert {(r.name, r.from_rule) for r in expanded} == {("multi", "ingress[1]")}
    assert (rules[0].name, rules[0].from_rule, rules[0].protocol) == (None, "ingress[0]", None)


def test_egress_networks_peer_carries_the_ports() -> None:
    policy = convert(with_rules("""
egress: [{action: Deny, to: [{networks: [10.0.0.1/8, "::/0"]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}]
""")).one
    (rule,) = policy.egress
    assert rule.destination.nets == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::/0"))
    assert (rule.protocol, rule.destination.ports, rule.source.is_empty) == (6, (PortRange(443, 443),), True)


def test_nodes_peer_follows_the_upstream_api() -> None:
    policy = convert(with_rules("egress: [{action: Deny, to: [{nodes: {matchLabels: {kubernetes.io/os: linux}}}]}]"),
                     NODES).one
    assert policy.egress[0].destination.nets == (ipaddress.ip_network("172.18.0.2/32"), ipaddress.ip_network("fd00::2/128"))
    none = convert(with_rules("egress: [{action: Deny, to: [{nodes: {matchLabels: {x: y}}}, {namespaces: {}}]}]"), NODES)
    (rule,) = none.one.egress  # the nodes peer matches nothing
    assert rule.destination.selector is not None
    assert any("no Node given matches" in w for w in none.warnings)


@pytest.mark.parametrize("peer", ["{nodes: {matchLabels: {kubernetes.io/os: linux}}}", "{domainNames: [example.com]}"])
def test_calico_drops_rules_with_nodes_or_domain_names_peers(peer: str) -> None:
    rules = f"""
egress:
- {{name: a, action: Accept, to: [{peer}, {{namespaces: {{}}}}]}}
- {{name: d, action: Deny, to: [{{namespaces: {{}}}}, {peer}]}}
- {{name: p, action: Pass, to: [{peer}]}}
"""
    policy = exact(with_rules(rules), NODES).one
    assert [(r.action, r.name, r.destination.is_empty, r.from_rule) for r in policy.egress] == [
        (Action.DENY, "d", True, "egress[1]"), (Action.DENY, "p", True, "egress[2]")]
    accepted = exact(with_rules(f"egress: [{{action: Accept, to: [{peer}]}}]"), NODES).one
    assert accepted.egress == () and accepted.ingress == ()  # no rules left: both directions, empty


def test_domain_names_fail_closed_by_default() -> None:
    accept = convert(with_rules("egress: [{action: Accept, to: [{domainNames: ['*.example.com']}, {namespaces: {}}]}]"))
    (rule,) = accept.one.egress  # the domainNames peer matches nothing, the other still applies
    assert rule.action is Action.ALLOW and rule.destination.selector is not None
    assert any("domainNames peers are not resolved" in w and "Accept rule" in w for w in accept.warnings)
    (deny,) = convert(with_rules("egress: [{action: Pass, to: [{domainNames: [example.com]}]}]")).one.egress
    assert deny.action is Action.DENY and deny.destination.is_empty


def test_namespaces_peer_in_calico_matches_every_endpoint_of_the_namespaces() -> None:
    text = with_rules("ingress: [{action: Deny, from: [{namespaces: {matchLabels: {house: slytherin}}}]}]")
    assert str(convert(text).one.ingress[0].source.selector) == canonical(
        "(pcns.house == 'slytherin') && (projectcalico.org/orchestrator == 'k8s')")
    assert str(exact(text).one.ingress[0].source.selector) == canonical("pcns.house == 'slytherin'")


def test_empty_named_port() -> None:
    rules = "egress: [{action: %s, to: [{namespaces: {}}], protocols: [{destinationNamedPort: ''}, %s]}]"
    accept = convert(with_rules(rules % ("Accept", "{tcp: {destinationPort: {number: 80}}}")))
    (rule,) = accept.one.egress  # the empty entry matches nothing, the other still applies
    assert (rule.protocol, rule.destination.ports) == (6, (PortRange(80, 80),))
    assert any("empty destinationNamedPort" in w for w in accept.warnings)
    (deny,) = convert(with_rules(rules % ("Deny", "{tcp: {destinationPort: {number: 80}}}"))).one.egress
    assert deny.action is Action.DENY and deny.destination.is_empty
    (calico,) = exact(with_rules(rules % ("Accept", "{tcp: {destinationPort: {number: 80}}}"))).one.egress
    assert (calico.protocol, calico.destination.ports) == (None, ())  # Calico: every protocol and port


def test_named_port_calico_refuses_fails_the_rule_in_calico_only() -> None:
    text = with_rules("egress: [{action: Deny, to: [{namespaces: {}}], protocols: [{destinationNamedPort: 'a b'}]}]")
    default = convert(text)
    assert default.one.egress[0].destination.ports == (NamedPort("a b"),)  # no pod port has that name
    assert any("not a valid container port name" in w for w in default.warnings)
    (rule,) = exact(text).one.egress
    assert rule.action is Action.DENY and rule.destination.is_empty and rule.protocol is None


def test_policy_without_rules_counts_in_both_directions() -> None:
    policy = convert(CNP).one
    assert policy.ingress == () and policy.egress == ()


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules, path, message",
    [
        ("ingress: [{action: Allow, from: [{namespaces: {}}]}]", "spec.ingress[0].action",
         "'Allow' is not one of Accept, Deny, Pass"),
        ("ingress: [{from: [{namespaces: {}}]}]", "spec.ingress[0].action", "required field is missing"),
        ("ingress: [{action: Deny}]", "spec.ingress[0].from", "required field is missing"),
        ("ingress: [{action: Deny, from: []}]", "spec.ingress[0].from", "from must hold 1-25 peers, got 0"),
        ("ingress: [{action: Deny, from: [" + ", ".join(["{namespaces: {}}"] * 26) + "]}]", "spec.ingress[0].from",
         "from must hold 1-25 peers, got 26"),
        ("ingress: [{action: Deny, from: [{}]}]", "spec.ingress[0].from[0]", "exactly one of namespaces, pods must be set"),
        ("egress: [{action: Deny, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}]", "spec.egress[0].to[0]",
         "exactly one of namespaces, pods, networks, nodes, domainNames must be set, got namespaces, networks"),
        ("ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}}}]}]", "spec.ingress[0].from[0].pods.podSelector",
         "required field is missing"),
        ("egress: [{action: Deny, to: [{networks: []}]}]", "spec.egress[0].to[0].networks",
         "networks must hold 1-25 CIDRs, got 0"),
        ("egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}]", "spec.egress[0].to[0].networks[1]",
         "duplicate value '10.0.0.0/8'"),
        ("egress: [{action: Deny, to: [{networks: [10.0.0.0/33]}]}]", "spec.egress[0].to[0].networks[0]",
         "'10.0.0.0/33' is not a valid CIDR"),
        ("egress: [{action: Deny, to: [{networks: [10.0.0.0/08]}]}]", "spec.egress[0].to[0].networks[0]",
         "'10.0.0.0/08' is not a valid CIDR"),
        ("egress: [{action: Deny, to: [{networks: ['0000:0000:0000:0000:0000:ffff:192.168.100.200/128']}]}]",
         "spec.egress[0].to[0].networks[0]", "'0000:0000:0000:0000:0000:ffff:192.168.100.200/128' is not a valid CIDR"),
        ("egress: [{action: Accept, to: [{domainNames: []}]}]", "spec.egress[0].to[0].domainNames",
         "domainNames must hold 1-25 entries, got 0"),
        ("egress: [{action: Accept, to: [{domainNames: [a.com, a.com]}]}]", "spec.egress[0].to[0].domainNames[1]",
         "duplicate value 'a.com'"),
        ("egress: [{action: Accept, to: [{domainNames: [localhost]}]}]", "spec.egress[0].to[0].domainNames[0]",
         "'localhost' is not a domain name"),
        ("egress: [{action: Accept, to: [{domainNames: ['a.*.com']}]}]", "spec.egress[0].to[0].domainNames[0]",
         "'a.*.com' is not a domain name"),
        ("egress: [{action: Accept, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: web}]}]",
         "spec.egress[0].to[0]", "networks/nodes/domainNames peers cannot be used with destinationNamedPort ports"),
        ("egress: [{action: Accept, to: [{pods: {podSelector: {}}}, {nodes: {}}], protocols: [{destinationNamedPort: ''}]}]",
         "spec.egress[0].to[1]", "networks/nodes/domainNames peers cannot be used with destinationNamedPort ports"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: []}]", "spec.ingress[0].protocols",
         "protocols must hold 1-25 entries, got 0"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{}]}]", "spec.ingress[0].protocols[0]",
         "exactly one of tcp, udp, sctp, destinationNamedPort must be set"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 1}},"
         " udp: {destinationPort: {number: 1}}}]}]", "spec.ingress[0].protocols[0]",
         "exactly one of tcp, udp, sctp, destinationNamedPort must be set"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {}}]}]",
         "spec.ingress[0].protocols[0].tcp.destinationPort", "required field is missing"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{udp: {destinationPort: {}}}]}]",
         "spec.ingress[0].protocols[0].udp.destinationPort", "exactly one of number or range must be set"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{sctp: {destinationPort: {number: 0}}}]}]",
         "spec.ingress[0].protocols[0].sctp.destinationPort.number", "port 0 is outside 1-65535"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 70000}}}]}]",
         "spec.ingress[0].protocols[0].tcp.destinationPort.number", "port 70000 is outside 1-65535"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 9, end: 9}}}}]}]",
         "spec.ingress[0].protocols[0].tcp.destinationPort.range", "start port 9 must be less than end port 9"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 9}}}}]}]",
         "spec.ingress[0].protocols[0].tcp.destinationPort.range.end", "required field is missing"),
        ("ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{destinationNamedPort: 5}]}]",
         "spec.ingress[0].protocols[0].destinationNamedPort", "expected a string"),
        ("egress: [{name: " + "x" * 101 + ", action: Deny, to: [{namespaces: {}}]}]", "spec.egress[0].name",
         "rule name is 101 characters long, at most 100 allowed"),
        ("egress: [{action: Deny, to: [{namespaces: {matchLabels: {k: 'a b'}}}]}]",
         "spec.egress[0].to[0].namespaces.matchLabels.k", "label value 'a b' is not valid"),
        ("egress: [" + ", ".join(["{action: Deny, to: [{namespaces: {}}]}"] * 26) + "]", "spec.egress",
         "at most 25 rules allowed, got 26"),
    ],
)
def test_invalid_cluster_network_policies(rules: str, path: str, message: str) -> None:
    errors = errors_of(with_rules(rules))
    assert any(p == path and m.startswith(message) for p, m in errors), errors


@pytest.mark.parametrize("name", ["a.com", "*.a.com", "a-b_c.example.org.", "x1.y2"])
def test_domain_names_the_crd_accepts(name: str) -> None:
    assert convert(with_rules(f"egress: [{{action: Accept, to: [{{domainNames: ['{name}']}}]}}]")).one.egress == ()


@pytest.mark.parametrize("priority, message", [
    ("1001", "1001 is outside 0-1000"), ("-1", "-1 is outside 0-1000"), ("'5'", "expected an integer")])
def test_priority_bounds(priority: str, message: str) -> None:
    errors = errors_of(CNP.replace("priority: 75", f"priority: {priority}"))
    assert errors[0][0] == "spec.priority" and errors[0][1].startswith(message)


def test_tier_priority_and_subject_required() -> None:
    errors = errors_of(CNP.replace("  priority: 75\n", "").replace("  tier: Admin\n", "").replace(
        "  subject: {namespaces: {matchLabels: {house: gryffindor}}}\n", "  ingress: []\n"))
    assert {p for p, m in errors if m == "required field is missing"} == {"spec.tier", "spec.priority", "spec.subject"}
    assert errors_of(CNP.replace("tier: Admin", "tier: admin")) == [
        ("spec.tier", "'admin' is not one of Admin, Baseline")]


def test_subject_needs_exactly_one_kind() -> None:
    errors = errors_of(CNP.replace("subject: {namespaces: {matchLabels: {house: gryffindor}}}",
                                   "subject: {namespaces: {}, pods: {podSelector: {}}}"))
    assert errors == [("spec.subject", "exactly one of namespaces or pods must be set")]


def test_problems_carry_file_line_and_path(tmp_path: object) -> None:
    text = with_rules("egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{tcp: {destinationPort: {number: 0}}}]}]")
    with pytest.raises(netpolicy.ValidationError) as caught:
        netpolicy.loads("---\n" + text)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.kind, problem.name) == (
        "spec.egress[0].protocols[0].tcp.destinationPort.number", 10, "ClusterNetworkPolicy", "cnp")


@pytest.mark.parametrize("api_version, kind", [
    ("policy.networking.k8s.io/v1alpha1", "ClusterNetworkPolicy"),
    ("policy.networking.k8s.io/v1alpha2", "AdminNetworkPolicy"),
])
def test_kinds_belong_to_their_api_version(api_version: str, kind: str) -> None:
    with pytest.raises(netpolicy.ValidationError, match="unknown kind"):
        netpolicy.loads(f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\nspec: {{}}\n")


# -- evaluation -------------------------------------------------------------------------


def test_named_port_matches_the_destination_pods_declared_port() -> None:
    ps = netpolicy.loads(CLUSTER + with_rules("""
egress:
- {action: Accept, to: [{namespaces: {}}], protocols: [{destinationNamedPort: web}]}
- {action: Deny, to: [{namespaces: {}}]}
"""))
    assert ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=8080)).allowed
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)).allowed
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", protocol="UDP", dst_port=8080)).allowed


def test_tiers_admin_then_network_policy_then_baseline() -> None:
    baseline = CNP.replace("name: cnp", "name: base").replace("tier: Admin", "tier: Baseline")
    ps = netpolicy.loads(CLUSTER + with_rules("""
egress:
- {action: Pass, to: [{namespaces: {matchLabels: {house: slytherin}}}], protocols: [{tcp: {destinationPort: {number: 80}}}]}
""") + "---\n" + with_rules("egress: [{action: Deny, to: [{namespaces: {}}]}]", baseline))
    tiers = {t.name: (t.order, t.default_action) for t in ps.tiers}
    assert tiers["kube-admin"] == (1000.0, Action.PASS) and tiers["kube-baseline"] == (10_000_000.0, Action.PASS)
    verdict = ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80))
    assert not verdict.allowed  # passed on by Admin, denied by Baseline
    assert verdict.egress is not None and verdict.egress.tier == "kube-baseline"
    assert (verdict.egress.policy.kind, verdict.egress.policy.name) == ("KubernetesClusterNetworkPolicy", "base")


def test_explain_names_the_manifest_rule_and_the_calico_rule_index() -> None:
    ps = netpolicy.loads(CLUSTER + with_rules("""
egress:
- name: no-slytherin
  action: Deny
  to: [{networks: [198.51.100.0/24]}, {namespaces: {matchLabels: {house: slytherin}}}]
  protocols: [{tcp: {destinationPort: {number: 80}}}]
"""))
    verdict = ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80))
    assert verdict.egress is not None and verdict.egress.rule == 1  # the second expanded rule
    text = verdict.explain()
    assert "KubernetesClusterNetworkPolicy cnp (order 75)" in text
    assert 'rule 1 matched: Deny TCP to selector' in text and '[egress[0] "no-slytherin"]' in text


def test_namespaces_peer_leaves_network_sets_alone() -> None:
    ps = netpolicy.loads(CLUSTER + with_rules("egress: [{action: Deny, to: [{namespaces: {matchLabels: {house: slytherin}}}]}]"))
    assert not ps.evaluate(netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)).allowed
    assert ps.evaluate(netpolicy.Flow(src="a/p", dst="192.0.2.7", dst_port=80)).allowed
