"""Normalization: built-in tiers and profiles, Tier and Profile documents against them,
effective labels (also of hand-built endpoints), cross-document checks."""

from __future__ import annotations

import textwrap

import pytest

import netpolicy
from netpolicy import Action, Direction, Endpoint, ValidationError
from netpolicy.loader.records import BUILTIN_TIERS
from netpolicy.resolve import effective_endpoint_labels
from netpolicy.model import Profile


def load(text: str) -> netpolicy.PolicySet:
    return netpolicy.loads(textwrap.dedent(text))


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(textwrap.dedent(text))
    return [str(p) for p in info.value.problems]


def test_builtin_tiers_in_order() -> None:
    ps = netpolicy.loads("")
    assert [(t.name, t.order, t.default_action) for t in ps.tiers] == [
        ("adminnetworkpolicy", 1000.0, Action.PASS),
        ("kube-admin", 1000.0, Action.PASS),
        ("default", 1_000_000.0, Action.DENY),
        ("baselineadminnetworkpolicy", 10_000_000.0, Action.PASS),
        ("kube-baseline", 10_000_000.0, Action.PASS),
    ]
    assert {t.name for t in BUILTIN_TIERS} == {t.name for t in ps.tiers}


def test_user_tiers_sort_among_builtins() -> None:
    ps = load(
        """\
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: security}
        spec: {order: 100, defaultAction: Pass}
        ---
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: last}
        spec: {}
        """
    )
    assert [t.name for t in ps.tiers][:2] == ["security", "adminnetworkpolicy"]
    assert ps.tiers[-1].name == "last" and ps.tiers[-1].order is None
    assert ps.tier("security").default_action is Action.PASS
    assert ps.tier("last").default_action is Action.DENY


def test_builtin_tier_document_as_calicoctl_prints_it_is_accepted() -> None:
    ps = load(
        """\
        apiVersion: projectcalico.org/v3
        kind: TierList
        items:
        - apiVersion: projectcalico.org/v3
          kind: Tier
          metadata: {name: default, resourceVersion: "1"}
          spec: {order: 1e+06, defaultAction: Deny}
        - apiVersion: projectcalico.org/v3
          kind: Tier
          metadata: {name: kube-admin}
          spec: {order: 1000, defaultAction: Pass}
          status: {conditions: [{type: Ready, status: "True"}]}
        """
    )
    assert ps.tier("default").order == 1_000_000.0
    assert len(ps.tiers) == 5


@pytest.mark.parametrize("spec", ["{order: 5}", "{defaultAction: Pass}"])
def test_builtin_tier_cannot_change(spec: str) -> None:
    (found,) = problems(f"apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {{name: default}}\nspec: {spec}\n")
    assert "the default tier's" in found and "must be" in found


def test_policy_in_missing_tier() -> None:
    text = """\
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: p}
    spec:
      tier: nowhere
      selector: all()
      ingress: [{action: Allow}]
    """
    assert problems(text) == ["<input>:5:9: tier 'nowhere' does not exist (document 1, GlobalNetworkPolicy p, spec.tier)"]


def test_policy_in_tier_defined_later_in_the_input() -> None:
    ps = load(
        """\
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: p}
        spec: {tier: later, selector: all(), ingress: [{action: Allow}]}
        ---
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: later}
        spec: {order: 1}
        """
    )
    assert [p.tier for p in ps.policies] == ["later"]


def test_builtin_default_allow_profile() -> None:
    profile = netpolicy.loads("").profiles["projectcalico-default-allow"]
    allow = netpolicy.model.Rule(action=Action.ALLOW)
    assert (profile.ingress, profile.egress, dict(profile.labels_to_apply)) == ((allow,), (allow,), {})


def test_profile_document_replaces_synthesized_one_with_the_etcd_datastore() -> None:
    # With the Kubernetes datastore (the default) such a document is an error:
    # tests/loader/test_generated_profiles.py.
    ps = netpolicy.loads(
        textwrap.dedent(
            """\
        apiVersion: v1
        kind: Namespace
        metadata: {name: x, labels: {team: a}}
        ---
        apiVersion: projectcalico.org/v3
        kind: Profile
        metadata: {name: kns.x}
        spec:
          labelsToApply: {pcns.team: b}
          ingress: [{action: Deny}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: x}
        status: {podIP: 10.0.0.1}
            """
        ),
        datastore="etcd",
    )
    assert dict(ps.profiles["kns.x"].labels_to_apply) == {"pcns.team": "b"}
    assert (ps.endpoints[0].effective_labels or {})["pcns.team"] == "b"


def test_own_labels_shadow_and_first_profile_wins() -> None:
    profiles = {
        "p1": Profile("p1", {"a": "p1", "b": "p1"}),
        "p2": Profile("p2", {"b": "p2", "c": "p2"}),
    }
    host = Endpoint(labels={"a": "own"}, name="h", kind="HostEndpoint", profiles=("p1", "p2"))
    assert dict(effective_endpoint_labels(host, profiles)) == {"a": "own", "b": "p1", "c": "p2"}


def test_hand_built_endpoint_is_treated_like_a_pod_in_its_namespace() -> None:
    ps = load(
        """\
        apiVersion: v1
        kind: Namespace
        metadata: {name: x, labels: {team: red}}
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: red-team}
        spec:
          namespaceSelector: team == 'red'
          serviceAccountSelector: projectcalico.org/name == 'builder'
          ingress: [{action: Allow}]
        """
    )
    probe = Endpoint(labels={"app": "web", "pcns.team": "blue"}, namespace="x", name="probe", service_account="builder")
    labels = effective_endpoint_labels(probe, ps.profiles)
    assert labels["pcns.team"] == "red"  # the spoofed label is dropped, the namespace's wins
    assert labels["projectcalico.org/namespace"] == "x"
    assert labels["projectcalico.org/orchestrator"] == "k8s"
    assert labels["pcsa.projectcalico.org/name"] == "builder"
    assert [p.ref.name for p in ps.policies_for(probe, Direction.INGRESS)] == ["red-team"]
    elsewhere = Endpoint(labels={}, namespace="unknown-ns", name="probe")
    assert effective_endpoint_labels(elsewhere, ps.profiles)["pcns.projectcalico.org/name"] == "unknown-ns"
    assert ps.policies_for(elsewhere, Direction.INGRESS) == []


def test_pods_without_namespace_documents_behave_as_in_a_cluster() -> None:
    ps = load(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: a, namespace: shop}
        status: {podIP: 10.0.0.1}
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: by-ns-name}
        spec:
          namespaceSelector: kubernetes.io/metadata.name == 'shop'
          ingress: [{action: Allow}]
        """
    )
    assert set(ps.profiles) >= {"kns.shop", "ksa.shop.default"}
    assert [p.ref.name for p in ps.policies_for(ps.endpoints[0], Direction.INGRESS)] == ["by-ns-name"]


def test_namespace_gets_metadata_name_label() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {kubernetes.io/metadata.name: wrong}}\n")
    assert ps.profiles["kns.x"].labels_to_apply["pcns.kubernetes.io/metadata.name"] == "x"
