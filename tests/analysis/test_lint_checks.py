"""Each check of ``netpolicy.analyze`` on a manifest that has what it looks for and on
one that does not."""

from __future__ import annotations

import textwrap

import pytest

import netpolicy
from netpolicy.model import Direction

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {kubernetes.io/metadata.name: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {kubernetes.io/metadata.name: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: b, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.2}
"""


def _calico(name: str, spec: str, kind: str = "NetworkPolicy", namespace: str | None = "a") -> str:
    meta = f"{{name: {name}, namespace: {namespace}}}" if namespace else f"{{name: {name}}}"
    return f"---\napiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {meta}\nspec:\n" + textwrap.indent(
        textwrap.dedent(spec).strip("\n"), "  ") + "\n"


def _analyze(extra: str, only: str) -> netpolicy.Findings:
    ps = netpolicy.loads(BASE + extra)
    return netpolicy.analyze(ps, disable=[c for c in netpolicy.CHECKS if c != only])


def _rules(findings: netpolicy.Findings) -> set[tuple[str, str, int | None]]:
    return {(f.policy.name if f.policy else "", str(f.direction), f.rule) for f in findings}


ALLOW_ALL_THEN_DENY_80 = _calico("p", """
    selector: app == 'web'
    order: 10
    ingress:
    - action: Allow
    - action: Deny
      protocol: TCP
      destination: {ports: [80]}
    """)
DENY_80_THEN_ALLOW_ALL = _calico("p", """
    selector: app == 'web'
    order: 10
    ingress:
    - action: Deny
      protocol: TCP
      destination: {ports: [80]}
    - action: Allow
    """)


def test_shadowed_rule_names_what_covers_it() -> None:
    found = _analyze(ALLOW_ALL_THEN_DENY_80, "shadowed-rule")
    assert _rules(found) == {("p", "Ingress", 1)}
    assert found[0].level == "warning"
    assert any("covered by" in e and "p rule 0" in e for e in found[0].evidence), found[0].evidence
    assert found[0].origin is not None and found[0].origin.line is not None


def test_no_shadowed_rule_when_each_acts() -> None:
    assert not _analyze(DENY_80_THEN_ALLOW_ALL, "shadowed-rule")


def test_redundant_rules_shadowed_and_agreeing() -> None:
    found = _analyze(ALLOW_ALL_THEN_DENY_80, "redundant-rule")
    assert _rules(found) == {("p", "Ingress", 1)} and found[0].evidence == ("shadowed",)
    agreeing = _calico("p", """
        selector: app == 'web'
        ingress:
        - {action: Allow, protocol: TCP, destination: {ports: [80]}}
        - action: Allow
        """)
    found = _analyze(agreeing, "redundant-rule")
    assert _rules(found) == {("p", "Ingress", 0)}
    assert found[0].evidence == ("agrees with what happens anyway",)


def test_no_redundant_rule_when_removing_it_changes_a_verdict() -> None:
    needed = _calico("p", """
        selector: app == 'web'
        ingress:
        - {action: Allow, protocol: TCP, destination: {ports: [80]}}
        - {action: Allow, protocol: TCP, destination: {ports: [443]}}
        """)
    assert not _analyze(needed, "redundant-rule")
    assert not _analyze(DENY_80_THEN_ALLOW_ALL, "redundant-rule")


def test_empty_policy_selector() -> None:
    ghost = _calico("ghost", "selector: app == 'wbe'\ningress: [{action: Allow}]")
    found = _analyze(ghost, "empty-policy-selector")
    assert _rules(found) == {("ghost", "None", None)}
    assert not _analyze(_calico("real", "selector: app == 'web'\ningress: [{action: Allow}]"), "empty-policy-selector")


def test_empty_rule_selector() -> None:
    typo = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, source: {selector: app == 'clinet'}}]")
    found = _analyze(typo, "empty-rule-selector")
    assert _rules(found) == {("p", "Ingress", 0)} and "source" in found[0].message
    fine = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, source: {selector: app == 'client', "
                        "namespaceSelector: all()}}]")
    assert not _analyze(fine, "empty-rule-selector")


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_unprotected(direction: str) -> None:
    check = f"unprotected-{direction}"
    found = _analyze("", check)
    assert {f.subject for f in found} == {"a/web", "b/client"}
    policy = _calico("all", f"selector: all()\n{direction}: [{{action: Allow}}]", kind="GlobalNetworkPolicy", namespace=None)
    assert not _analyze(policy, check)


def test_namespace_without_default_deny() -> None:
    found = _analyze("", "no-default-deny")
    assert {(f.subject, "ingress" in f.message) for f in found} == {("a", True), ("a", False), ("b", True), ("b", False)}
    deny = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""
    found = _analyze(deny, "no-default-deny")
    assert {f.subject for f in found} == {"b"}


TIER = """---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
"""


def test_log_only_drop() -> None:
    log_only = TIER + _calico("audit", "tier: security\nselector: app == 'web'\ningress: [{action: Log}]",
                              kind="GlobalNetworkPolicy", namespace=None)
    found = _analyze(log_only, "log-only-drop")
    assert _rules(found) == {("audit", "Ingress", 0)}
    passing = TIER + _calico("audit", "tier: security\nselector: app == 'web'\ningress: [{action: Log}, {action: Pass}]",
                             kind="GlobalNetworkPolicy", namespace=None)
    assert not _analyze(passing, "log-only-drop")


def test_exposed_to_every_external_address() -> None:
    public = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, protocol: TCP, "
                          "source: {nets: [0.0.0.0/0]}, destination: {ports: [443]}}]")
    found = _analyze(public, "exposed-external")
    assert [(f.subject, "TCP 443" in f.message) for f in found if f.subject == "a/web"] == [("a/web", True)]
    private = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, protocol: TCP, "
                           "source: {nets: [10.0.0.0/8]}, destination: {ports: [443]}}]")
    assert "a/web" not in {f.subject for f in _analyze(private, "exposed-external")}


def test_exposed_to_every_namespace() -> None:
    everyone = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, protocol: TCP, "
                            "source: {namespaceSelector: all()}, destination: {ports: [80]}}]")
    found = [f for f in _analyze(everyone, "exposed-all-namespaces") if f.subject == "a/web"]
    assert len(found) == 1 and "TCP 80" in found[0].message
    own = _calico("p", "selector: app == 'web'\ningress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]")
    own = own.replace("destination: {ports: [80]}", "source: {selector: all()}, destination: {ports: [80]}")
    assert "a/web" not in {f.subject for f in _analyze(own, "exposed-all-namespaces")}


def _pair(second_order: int) -> str:
    return _calico("allow-web", "selector: app == 'web'\norder: 100\ningress: [{action: Allow, protocol: TCP, "
                                "destination: {ports: [80]}}]") + _calico(
        "deny-web", f"selector: app == 'web'\norder: {second_order}\ningress: [{{action: Deny, protocol: TCP}}]")


def test_order_conflict() -> None:
    found = _analyze(_pair(100), "order-conflict")
    assert _rules(found) == {("allow-web", "Ingress", 0)} and "deny-web" in found[0].message
    assert not _analyze(_pair(200), "order-conflict")


def test_disable_and_unknown_check() -> None:
    ps = netpolicy.loads(BASE)
    assert not netpolicy.analyze(ps, disable=list(netpolicy.CHECKS))
    with pytest.raises(ValueError, match="unknown check"):
        netpolicy.analyze(ps, disable=["no-such-check"])
    assert all(f.direction in (None, Direction.INGRESS, Direction.EGRESS) for f in netpolicy.analyze(ps))
