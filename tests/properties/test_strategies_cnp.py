"""The ClusterNetworkPolicy strategy draws manifests the CRD accepts, which load into
policies of tiers kube-admin and kube-baseline; policy sets drawn with the kind decide
every flow as the reference evaluator does, compiled tables or not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.errors import InvalidArgument

import netpolicy
from netpolicy.engine import Engine
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps


def _cluster_with(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}, policy]


@given(nps.cluster_network_policies(max_rules=4))
def test_drawn_policies_load(policy: dict[str, Any]) -> None:
    ps = netpolicy.from_objects(_cluster_with(policy))
    (loaded,) = ps.policies
    assert loaded.ref.kind == "KubernetesClusterNetworkPolicy"
    assert loaded.tier == {"Admin": "kube-admin", "Baseline": "kube-baseline"}[policy["spec"]["tier"]]
    assert loaded.order == policy["spec"]["priority"]
    for direction in ("ingress", "egress"):
        written = policy["spec"].get(direction, [])
        rules = getattr(loaded, direction) or ()
        assert {r.from_rule for r in rules} == {f"{direction}[{i}]" for i in range(len(written))}


@given(nps.cluster_network_policies(tier="Baseline", priority=7, name="x"))
def test_arguments_fix_tier_priority_and_name(policy: dict[str, Any]) -> None:
    assert (policy["spec"]["tier"], policy["spec"]["priority"], policy["metadata"]["name"]) == ("Baseline", 7, "x")


@pytest.mark.parametrize("make", [
    lambda: nps.cluster_network_policies(tier="admin"),
    lambda: nps.cluster_network_policies(priority=1001),
    lambda: nps.cluster_network_policies(max_rules=26),
])
def test_bad_arguments_raise_at_once(make: Any) -> None:
    with pytest.raises(InvalidArgument):
        make()


@settings(max_examples=40, deadline=None)
@given(st.data(), nps.policy_sets(kinds=["ClusterNetworkPolicy", "KubernetesNetworkPolicy"], min_policies=2))
def test_tables_decide_drawn_cluster_policies_as_the_reference(data: st.DataObject, ps: netpolicy.PolicySet) -> None:
    flows = data.draw(st.lists(nps.flows(ps), min_size=1, max_size=8))
    engine = Engine(ps, lambda p, f: reference(p, f))
    for flow in flows:
        try:
            want = reference(ps, flow)
        except netpolicy.PolicyError:
            continue
        assert engine.evaluate(flow) == want, flow
