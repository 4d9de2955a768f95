"""The staged preview: enforcing every staged policy gives Calico's pending verdict, and
the diff against it lists exactly the flows whose pending verdict differs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

import netpolicy
from netpolicy.analysis.staged import staged_enforced
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps

from .test_diff_exact import brute_force

EXAMPLES = settings(max_examples=max(10, settings.default.max_examples // 4), deadline=None)
STAGED = ["StagedNetworkPolicy", "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy",
          "NetworkPolicy", "KubernetesNetworkPolicy", "GlobalNetworkPolicy"]


@EXAMPLES
@given(nps.manifests(kinds=STAGED, max_pods=3, max_policies=4, max_rules=2, wrap=False), st.data())
def test_staged_enforced_decides_as_the_pending_verdict(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    ps = netpolicy.from_objects(documents)
    pending = staged_enforced(ps)
    assert pending.staged_policies == ()
    assert len(pending.policies) == len(ps.policies) + len(ps.staged_policies)
    for _ in range(10):
        flow = data.draw(nps.flows(ps))
        try:
            verdict = reference(ps, flow)
        except netpolicy.PolicyError:
            continue
        expected = verdict.pending if verdict.pending is not None else verdict
        assert reference(pending, flow).action == expected.action, flow


@EXAMPLES
@given(nps.manifests(kinds=STAGED, max_pods=3, max_policies=4, max_rules=2, wrap=False))
def test_the_staged_diff_equals_the_reference(documents: list[dict[str, Any]]) -> None:
    ps = netpolicy.from_objects(documents)
    brute_force(ps, staged_enforced(ps))
