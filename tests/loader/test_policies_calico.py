"""Calico NetworkPolicy, GlobalNetworkPolicy, staged kinds, Tier and Profile (§A.7, §B)."""

from __future__ import annotations

import pytest
from test_policies_support import canonical, convert, errors_of

import netpolicy
from netpolicy.model import Action, Direction

NP = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np, namespace: ns1}\nspec:\n"
GNP = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: gnp}\nspec:\n"
SNP = "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: snp, namespace: ns1}\nspec:\n"
SGNP = "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: sgnp}\nspec:\n"


def spec(base: str, body: str) -> str:
    return base + "\n".join("  " + line for line in body.strip("\n").splitlines()) + "\n"


# -- effective policy selectors (§A.7) ---------------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    ("order: 1", "projectcalico.org/namespace == 'ns1'"),
    ("selector: app == 'web'", "(app == 'web') && projectcalico.org/namespace == 'ns1'"),
    ("selector: app == 'web'\nserviceAccountSelector: role == 'db'",
     "((app == 'web') && projectcalico.org/namespace == 'ns1') && pcsa.role == 'db'"),
    ("serviceAccountSelector: all()", "(projectcalico.org/namespace == 'ns1') && all()"),
])
def test_network_policy_selector(body: str, expected: str) -> None:
    policy = convert(spec(NP, body)).one
    assert str(policy.selector) == canonical(expected)


@pytest.mark.parametrize("body, expected", [
    ("order: 1", "all()"),
    ("selector: app == 'web'", "app == 'web'"),
    ("namespaceSelector: team == 'a'", "pcns.team == 'a'"),
    ("selector: app == 'web'\nnamespaceSelector: all()", "(app == 'web') && has(projectcalico.org/namespace)"),
    ("selector: all()\nnamespaceSelector: '!has(team)'", "(has(projectcalico.org/namespace)) && !has(pcns.team)"),
    # The replacement is textual: it rewrites all() in the user's selector text too.
    ("selector: a == 'all()'\nnamespaceSelector: has(x)", "(a == 'has(projectcalico.org/namespace)') && has(pcns.x)"),
    ("serviceAccountSelector: all()", "has(projectcalico.org/serviceaccount)"),
    ("selector: has(a)\nnamespaceSelector: all()\nserviceAccountSelector: role == 'x'",
     "((has(a)) && has(projectcalico.org/namespace)) && pcsa.role == 'x'"),
])
def test_global_network_policy_selector(body: str, expected: str) -> None:
    policy = convert(spec(GNP, body)).one
    assert str(policy.selector) == canonical(expected)


def test_global_policy_namespace_selector_can_select_host_endpoints() -> None:
    policy = convert(spec(GNP, "namespaceSelector: '!has(team)'")).one
    assert policy.selector.matches({"host": "h"})  # a HostEndpoint has no pcns.team
    policy = convert(spec(GNP, "namespaceSelector: all()")).one
    assert not policy.selector.matches({"host": "h"})


# -- fields, defaults ---------------------------------------------------------------------------


def test_defaults() -> None:
    policy = convert(spec(NP, "selector: all()")).one
    assert (policy.ref.kind, policy.ref.namespace, policy.ref.name) == ("NetworkPolicy", "ns1", "np")
    assert policy.tier == "default" and policy.order is None
    assert policy.ingress == () and policy.egress is None  # no rules: Ingress
    assert not (policy.staged or policy.pre_dnat or policy.do_not_track or policy.apply_on_forward)


@pytest.mark.parametrize("body, ingress, egress", [
    ("ingress: [{action: Allow}]", 1, None),
    ("egress: [{action: Allow}]", None, 1),
    ("ingress: [{action: Allow}]\negress: [{action: Deny}]", 1, 1),
    ("types: [Egress]\ningress: [{action: Allow}]", None, 0),
    ("types: [Ingress, Egress]", 0, 0),
])
def test_types(body: str, ingress: int | None, egress: int | None) -> None:
    policy = convert(spec(GNP, body)).one
    assert (None if policy.ingress is None else len(policy.ingress)) == ingress
    assert (None if policy.egress is None else len(policy.egress)) == egress
    assert policy.rules(Direction.INGRESS) is policy.ingress


def test_order_tier_and_flags() -> None:
    policy = convert(spec(GNP, "tier: security\norder: 10.5\npreDNAT: true\napplyOnForward: true\n"
                                "ingress: [{action: Deny}]")).one
    assert policy.tier == "security" and policy.order == 10.5
    assert policy.pre_dnat and policy.apply_on_forward and not policy.do_not_track
    policy = convert(spec(GNP, "order: 3\ndoNotTrack: true\napplyOnForward: true")).one
    assert policy.order == 3.0 and policy.do_not_track


def test_legacy_tier_prefixed_names_are_accepted_as_written() -> None:
    policy = convert(spec(NP.replace("name: np", "name: security.np"), "tier: security")).one
    assert policy.ref.name == "security.np"
    policy = convert(spec(NP.replace("name: np", "name: knp.default.a.b"), "order: 1")).one
    assert policy.ref.name == "knp.default.a.b"
    assert convert(spec(GNP.replace("name: gnp", "name: security.g"), "tier: security")).one.ref.name == "security.g"


def test_staged_policies() -> None:
    policy = convert(spec(SNP, "stagedAction: Set\nselector: has(a)\ningress: [{action: Deny}]")).one
    assert policy.staged and policy.ref.kind == "StagedNetworkPolicy" and policy.ref.namespace == "ns1"
    policy = convert(spec(SGNP, "stagedAction: Learn\nselector: has(a)")).one
    assert policy.staged and policy.ref.kind == "StagedGlobalNetworkPolicy"
    assert convert(spec(SGNP, "stagedAction: Ignore")).one.staged
    assert convert(spec(SNP, "selector: has(a)")).one.staged  # Set is the default
    deleted = convert(spec(SNP, "stagedAction: Delete\ntier: security"))
    assert deleted.objects == [] and deleted.problems == []
    assert errors_of(spec(SGNP, "stagedAction: Delete\nselector: has(a)")) == [
        ("spec.selector", "must be empty when stagedAction is Delete (only tier may be set)")]
    assert errors_of(spec(SNP, "stagedAction: Remove")) == [
        ("spec.stagedAction", "'Remove' is not one of Set, Delete, Learn, Ignore")]


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("base, body, path, message", [
    (NP, "order: high", "spec.order", "expected a number"),
    (NP, "order: true", "spec.order", "expected a number"),
    (NP, "tier: Bad_Tier", "spec.tier", "tier 'Bad_Tier' must be a DNS-1123 label"),
    (NP, "selector: 'a =='", "spec.selector", "invalid selector"),
    (NP, "selector: global()", "spec.selector", "global() can only be used in an EntityRule namespaceSelector"),
    (NP, "serviceAccountSelector: global()", "spec.serviceAccountSelector", "global() can only be used"),
    (GNP, "selector: has(a) && global()", "spec.selector", "global() can only be used"),
    (GNP, "namespaceSelector: global()", "spec.namespaceSelector", "global() can only be used"),
    (GNP, "serviceAccountSelector: '!global()'", "spec.serviceAccountSelector", "global() can only be used"),
    (NP, "selector: \"a == '" + "x" * 1020 + "'\"", "spec.selector", "selector is 1027 characters long"),
    (NP, "types: [Ingress, Ingress]", "spec.types[1]", "'Ingress' type specified more than once"),
    (NP, "types: [Both]", "spec.types[0]", "'Both' is not one of Ingress, Egress"),
    (NP, "types: [Ingress, Egress, Ingress]", "spec.types", "at most 2 types allowed"),
    (NP, "performanceHints: [Fast]", "spec.performanceHints[0]", "'Fast' is not one of AssumeNeededOnEveryNode"),
    (GNP, "preDNAT: true\ndoNotTrack: true\napplyOnForward: true", "spec.preDNAT",
     "preDNAT and doNotTrack cannot both be true"),
    (GNP, "preDNAT: true\napplyOnForward: true\negress: [{action: Allow}]", "spec.egress",
     "preDNAT policy cannot have any egress rules"),
    (GNP, "preDNAT: true\napplyOnForward: true\ntypes: [Egress]", "spec.types", "preDNAT policy cannot have 'Egress' type"),
    (GNP, "preDNAT: true", "spec.applyOnForward", "applyOnForward must be true if either preDNAT or doNotTrack is true"),
    (GNP, "doNotTrack: true", "spec.applyOnForward", "applyOnForward must be true"),
    (GNP, "doNotTrack: 'yes'", "spec.doNotTrack", "expected true or false"),
    (NP, "ingress: {action: Allow}", "spec.ingress", "expected a list"),
    (NP, "ingress: [{action: Allow, protocol: TCP, destination: {ports: [0]}}]",
     "spec.ingress[0].destination.ports[0]", "port 0 is outside 1-65535"),
])
def test_invalid_policies(base: str, body: str, path: str, message: str) -> None:
    found = errors_of(spec(base, body))
    assert any(p == path and m.startswith(message) for p, m in found), found


@pytest.mark.parametrize("base, name, ok", [
    (NP, "a.b", True), (NP, "a.b.c", False), (NP, "Upper", False), (NP, "knp.default.x.y", True),
    (NP, "-a", False), (GNP, "a.b", True), (GNP, "a.b.c", False), (GNP, "knp.default.x", False),
    (GNP, "a" * 253, True), (GNP, "a" * 254, False),
])
def test_policy_names(base: str, name: str, ok: bool) -> None:
    old = "name: np" if base is NP else "name: gnp"
    result = convert(spec(base.replace(old, f"name: {name}"), "order: 1"))
    if ok:
        assert result.one.ref.name == name
    else:
        assert [p for p, _ in result.errors] == ["metadata.name"]


def test_unknown_spec_fields_warn_and_global_fields_are_unknown_on_network_policies() -> None:
    result = convert(spec(NP, "namespaceSelector: has(a)\norderr: 1"))
    assert result.one.selector is not None
    assert sum("unknown field" in w for w in result.warnings) == 2


# -- Tier ---------------------------------------------------------------------------------------

TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\n"


def test_tier() -> None:
    tier = convert(TIER + "spec: {order: 100, defaultAction: Pass}").one
    assert (tier.name, tier.order, tier.default_action) == ("security", 100.0, Action.PASS)
    tier = convert(TIER + "spec: {}").one
    assert (tier.order, tier.default_action) == (None, Action.DENY)


def test_builtin_tiers_keep_their_values() -> None:
    tier = convert(TIER.replace("security", "default") + "spec: {order: 1000000}").one
    assert (tier.order, tier.default_action) == (1_000_000.0, Action.DENY)
    tier = convert(TIER.replace("security", "kube-admin") + "spec: {}").one
    assert (tier.order, tier.default_action) == (1000.0, Action.PASS)
    assert errors_of(TIER.replace("security", "default") + "spec: {order: 5}") == [
        ("spec.order", "the default tier's order must be 1e+06")]
    assert errors_of(TIER.replace("security", "kube-baseline") + "spec: {defaultAction: Deny}") == [
        ("spec.defaultAction", "the kube-baseline tier's defaultAction must be Pass")]


@pytest.mark.parametrize("body, path, message", [
    ("spec: {defaultAction: Allow}", "spec.defaultAction", "'Allow' is not one of Deny, Pass"),
    ("spec: {order: x}", "spec.order", "expected a number"),
])
def test_invalid_tiers(body: str, path: str, message: str) -> None:
    found = errors_of(TIER + body)
    assert any(p == path and m.startswith(message) for p, m in found), found


def test_tier_names_are_dns_labels() -> None:
    found = errors_of(TIER.replace("security", "a.b") + "spec: {}")
    assert found[0][0] == "metadata.name" and "DNS-1123 label" in found[0][1]


# -- Profile ------------------------------------------------------------------------------------

PROFILE = "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof}\n"


def test_profile() -> None:
    profile = convert(PROFILE + "spec:\n  labelsToApply: {team: a}\n  ingress: [{action: Allow}]\n"
                                "  egress: [{action: Deny, destination: {services: {name: s}}}]\n").one
    assert profile.name == "prof" and dict(profile.labels_to_apply) == {"team": "a"}
    assert [r.action for r in profile.ingress] == [Action.ALLOW]
    assert [r.action for r in profile.egress] == [Action.DENY]
    assert profile.ingress[0].source.selector is None


def test_invalid_profile() -> None:
    found = errors_of(PROFILE + "spec:\n  labelsToApply: {'bad key!': a}\n  ingress: [{action: Accept}]\n")
    assert [p for p, _ in found] == ["spec.labelsToApply.bad key!", "spec.ingress[0].action"]


# -- through the loader -------------------------------------------------------------------------


def test_loader_reports_path_and_line() -> None:
    text = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec:\n" \
           "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination: {ports: ['9:1']}\n"
    with pytest.raises(netpolicy.ValidationError) as caught:
        netpolicy.loads(text)
    assert caught.value.path == "spec.ingress[0].destination.ports[0]"
    assert caught.value.line == 8
    assert "port range '9:1' is invalid" in str(caught.value)


def test_loader_orders_calico_and_kubernetes_policies() -> None:
    ps = netpolicy.loads("""
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: early, namespace: x}
spec: {order: 10, ingress: [{action: Deny}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k, namespace: x}
spec: {podSelector: {}}
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: late}
spec: {order: 2000, selector: all()}
""")
    names = [(p.ref.kind, p.ref.name, p.order) for p in ps.policies]
    assert names == [("NetworkPolicy", "early", 10.0), ("KubernetesNetworkPolicy", "k", 1000.0),
                     ("GlobalNetworkPolicy", "late", 2000.0)]


def test_hostile_values_are_problems_not_exceptions() -> None:
    found = errors_of(spec(GNP, "order: " + "9" * 400))
    assert found[0][0] == "spec.order" and "too large" in found[0][1]
    found = errors_of(PROFILE + "spec:\n  labelsToApply: {1: a}\n")
    assert [p for p, _ in found] == ["spec.labelsToApply"]
