"""§C.3 notes, H.10: staged policies never change the verdict; the pending verdict
evaluates them in place."""

from __future__ import annotations

from evalmodels import ALLOW, DENY, LOG, gnp, pod, policy_set
from netpolicy import Flow
from netpolicy.model import Action, Rule, Tier
from netpolicy.verdict import Reason

A = pod("x", "a", "10.0.0.1", labels={"app": "a"})
B = pod("x", "b", "10.0.0.2", labels={"app": "b"})
TO_B = Flow("x/a", "x/b", dst_port=80)
STAGING = Tier("staging", 50.0, Action.DENY)


def test_staged_deny_does_not_change_the_verdict_but_the_pending_one() -> None:
    ps = policy_set(endpoints=[A, B], policies=[gnp("stage-deny", "app == 'b'", ingress=[Rule(DENY)], staged=True)])
    v = ps.evaluate(TO_B)
    assert v.allowed and v.ingress.reason == Reason.PROFILE
    assert v.pending is not None and not v.pending.allowed
    assert v.pending.ingress.policy.name == "stage-deny" and v.pending.ingress.reason == Reason.RULE
    assert v.pending.pending is None


def test_no_staged_policy_applied_means_no_pending_verdict() -> None:
    ps = policy_set(endpoints=[A, B], policies=[gnp("stage-other", "app == 'zzz'", ingress=[Rule(DENY)], staged=True)])
    assert ps.evaluate(TO_B).pending is None


def test_a_tier_with_only_staged_policies_does_not_participate() -> None:
    # H.10: staged-only tiers never drop; its default Deny would fire in the pending verdict
    ps = policy_set(
        endpoints=[A, B],
        tiers=[STAGING],
        policies=[gnp("nothing", "app == 'b'", tier="staging", ingress=[], staged=True)],
    )
    v = ps.evaluate(TO_B)
    assert v.allowed
    assert v.pending.ingress.reason == Reason.END_OF_TIER and v.pending.ingress.tier == "staging"


def test_staged_policies_sit_in_their_sorted_place_next_to_enforced_ones() -> None:
    ps = policy_set(
        endpoints=[A, B],
        policies=[
            gnp("enforced", "app == 'b'", order=20, ingress=[Rule(ALLOW)]),
            gnp("enforced", "app == 'b'", order=10, ingress=[Rule(DENY)], staged=True),
        ],
    )
    v = ps.evaluate(TO_B)
    assert v.ingress.policy.kind == "GlobalNetworkPolicy" and v.allowed
    # the enforced policy of the same name is not removed; the staged one runs first
    assert v.pending.ingress.policy.kind == "StagedGlobalNetworkPolicy" and not v.pending.allowed


def test_staged_log_rules_only_in_the_pending_verdict() -> None:
    ps = policy_set(endpoints=[A, B], policies=[gnp("s", "app == 'b'", ingress=[Rule(LOG), Rule(ALLOW)], staged=True)])
    v = ps.evaluate(TO_B)
    assert v.logged == ()
    assert [r.policy.name for r in v.pending.logged] == ["s"]

