"""§C.1-§C.3: tiers, policies, rules and profiles, in Calico's order, with the deciding
rule checked for every verdict."""

from __future__ import annotations

import attrs
from evalmodels import ALLOW, DENY, LOG, PASS, TCP, UDP, gnp, kns, np, pod, policy_set, side
from netpolicy import Flow
from netpolicy.model import Action, Direction, PolicyRef, PortRange, Profile, Rule, Tier
from netpolicy.verdict import Decision, Reason, RuleRef

A = pod("x", "a", "10.0.0.1", labels={"app": "a"})
B = pod("x", "b", "10.0.0.2", labels={"app": "b"})
TO_B = Flow("x/a", "x/b", dst_port=80)
SECURITY = Tier("security", 100.0, Action.DENY)
PASSING = Tier("passing", 200.0, Action.PASS)


def why(decision: Decision | None) -> tuple[object, ...] | None:
    """A side's decision in short: action, reason, tier, policy name or profile, rule."""
    if decision is None:
        return None
    owner = decision.policy.name if decision.policy else decision.profile
    return (decision.action.value, decision.reason, decision.tier, owner, decision.rule)


def ingress_of_b(*policies, tiers=()):
    return policy_set(endpoints=[A, B], policies=policies, tiers=tiers).evaluate(TO_B)


def test_no_policy_falls_to_the_namespace_profile() -> None:
    v = ingress_of_b()
    assert v.allowed
    assert why(v.egress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)
    assert v.egress.endpoint == "x/a" and v.ingress.endpoint == "x/b"


def test_allow_rule_decides_and_skips_later_tiers() -> None:
    v = ingress_of_b(
        gnp("first", "app == 'b'", tier="security", ingress=[Rule(ALLOW)]),
        gnp("later", "app == 'b'", ingress=[Rule(DENY)]),
        tiers=[SECURITY],
    )
    assert v.allowed
    assert why(v.ingress) == ("Allow", Reason.RULE, "security", "first", 0)


def test_deny_rule_decides() -> None:
    v = ingress_of_b(gnp("d", "app == 'b'", ingress=[Rule(DENY, protocol=UDP), Rule(DENY, protocol=TCP), Rule(ALLOW)]))
    assert not v.allowed
    assert why(v.ingress) == ("Deny", Reason.RULE, "default", "d", 1)
    assert v.egress.action is Action.ALLOW


def test_rules_in_order_first_match_wins() -> None:
    v = ingress_of_b(gnp("p", "app == 'b'", ingress=[Rule(ALLOW, protocol=TCP), Rule(DENY)]))
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "p", 0)


def test_policies_in_order_within_a_tier_lower_order_first() -> None:
    v = ingress_of_b(
        gnp("z-allow", "app == 'b'", order=10, ingress=[Rule(ALLOW)]),
        gnp("a-deny", "app == 'b'", order=20, ingress=[Rule(DENY)]),
    )
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "z-allow", 0)


def test_policies_without_order_run_last_and_ties_break_by_name() -> None:
    v = ingress_of_b(
        gnp("a-unordered", "app == 'b'", ingress=[Rule(DENY)]),
        gnp("b-ordered", "app == 'b'", order=5000, ingress=[Rule(ALLOW)]),
    )
    assert why(v.ingress)[3] == "b-ordered"
    v = ingress_of_b(
        gnp("b", "app == 'b'", order=1, ingress=[Rule(DENY)]),
        gnp("a", "app == 'b'", order=1, ingress=[Rule(ALLOW)]),
    )
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "a", 0)


def test_no_rule_matches_falls_through_to_the_next_policy_of_the_tier() -> None:
    v = ingress_of_b(
        gnp("udp-only", "app == 'b'", order=1, ingress=[Rule(ALLOW, protocol=UDP)]),
        gnp("tcp", "app == 'b'", order=2, ingress=[Rule(ALLOW, protocol=TCP)]),
    )
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "tcp", 0)


def test_end_of_tier_deny_when_a_policy_applied_and_nothing_matched() -> None:
    v = ingress_of_b(gnp("udp-only", "app == 'b'", ingress=[Rule(ALLOW, protocol=UDP)]))
    assert not v.allowed
    assert why(v.ingress) == ("Deny", Reason.END_OF_TIER, "default", None, None)


def test_tier_default_pass_continues_to_the_next_tier() -> None:
    v = ingress_of_b(
        gnp("nothing", "app == 'b'", tier="passing", ingress=[Rule(DENY, protocol=UDP)]),
        gnp("allow", "app == 'b'", ingress=[Rule(ALLOW)]),
        tiers=[PASSING],
    )
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "allow", 0)
    v = ingress_of_b(gnp("nothing", "app == 'b'", tier="passing", ingress=[]), tiers=[PASSING])
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)


def test_pass_leaves_the_tier_skipping_its_later_policies() -> None:
    v = ingress_of_b(
        gnp("pass", "app == 'b'", tier="security", order=1, ingress=[Rule(PASS)]),
        gnp("deny", "app == 'b'", tier="security", order=2, ingress=[Rule(DENY)]),
        gnp("allow", "app == 'b'", ingress=[Rule(ALLOW)]),
        tiers=[SECURITY],
    )
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "allow", 0)


def test_pass_from_the_last_tier_goes_to_the_profiles() -> None:
    v = ingress_of_b(gnp("pass", "app == 'b'", ingress=[Rule(PASS)]))
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)


def test_log_records_and_continues() -> None:
    v = ingress_of_b(
        gnp("p", "app == 'b'", ingress=[Rule(LOG), Rule(LOG, protocol=UDP), Rule(LOG, protocol=TCP), Rule(DENY)])
    )
    assert why(v.ingress) == ("Deny", Reason.RULE, "default", "p", 3)
    ref = PolicyRef("GlobalNetworkPolicy", None, "p")
    assert v.logged == (RuleRef(Direction.INGRESS, "default", ref, None, 0), RuleRef(Direction.INGRESS, "default", ref, None, 2))


def test_log_rules_after_the_decision_do_not_fire() -> None:
    v = ingress_of_b(gnp("p", "app == 'b'", ingress=[Rule(ALLOW), Rule(LOG)]))
    assert v.logged == ()


def test_a_tier_without_applying_policy_does_not_participate() -> None:
    # the security tier's only policy selects app == 'zzz': its default Deny never fires
    v = ingress_of_b(gnp("other", "app == 'zzz'", tier="security", ingress=[Rule(DENY)]), tiers=[SECURITY])
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)


def test_a_policy_is_invisible_in_a_direction_not_in_its_types() -> None:
    # H.9: egress-only policy in the security tier does not make the tier participate for ingress
    v = ingress_of_b(gnp("egress-only", "app == 'b'", tier="security", egress=[Rule(DENY)]), tiers=[SECURITY])
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)
    # ... but an empty egress list is a default deny for egress
    ps = policy_set(endpoints=[A, B], policies=[gnp("deny-egress", "app == 'a'", egress=[])])
    v = ps.evaluate(TO_B)
    assert why(v.egress) == ("Deny", Reason.END_OF_TIER, "default", None, None)


def test_lower_order_calico_deny_overrides_kubernetes_allow() -> None:
    # H.11: K8s NP has order 1000 in tier default; a Calico policy with order 100 runs first
    knp = np("x", "allow-all", "projectcalico.org/orchestrator == 'k8s'", order=1000, kind="KubernetesNetworkPolicy",
             ingress=[Rule(ALLOW)])
    v = ingress_of_b(knp, gnp("deny", "app == 'b'", order=100, ingress=[Rule(DENY)]))
    assert why(v.ingress) == ("Deny", Reason.RULE, "default", "deny", 0)
    v = ingress_of_b(knp, gnp("deny", "app == 'b'", order=2000, ingress=[Rule(DENY)]))
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "allow-all", 0)


def test_profiles_in_order_and_no_profile_match_denies() -> None:
    deny80 = Profile("deny80", ingress=(Rule(DENY, protocol=TCP, destination=side(ports=(PortRange(80, 80),))),))
    allow = Profile("allow", ingress=(Rule(ALLOW),))
    b = pod("x", "b", "10.0.0.2")
    b = attrs.evolve(b, profiles=("deny80", "allow"))
    ps = policy_set(endpoints=[A, b], profiles=[kns("x"), deny80, allow])
    v = ps.evaluate(TO_B)
    assert why(v.ingress) == ("Deny", Reason.PROFILE, None, "deny80", 0)
    v = ps.evaluate(Flow("x/a", "x/b", dst_port=81))
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "allow", 0)
    nothing = attrs.evolve(b, profiles=())
    v = policy_set(endpoints=[A, nothing], profiles=[kns("x")]).evaluate(TO_B)
    assert why(v.ingress) == ("Deny", Reason.NO_PROFILE_MATCH, None, None, None)


def test_pass_in_a_profile_moves_to_the_next_profile() -> None:
    first = Profile("first", ingress=(Rule(PASS), Rule(DENY)))
    second = Profile("second", ingress=(Rule(ALLOW),))
    b = attrs.evolve(B, profiles=("first", "second"))
    v = policy_set(endpoints=[A, b], profiles=[kns("x"), first, second]).evaluate(TO_B)
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "second", 0)


def test_unknown_profile_contributes_nothing() -> None:
    b = attrs.evolve(B, profiles=("missing",))
    v = policy_set(endpoints=[A, b], profiles=[kns("x")]).evaluate(TO_B)
    assert why(v.ingress) == ("Deny", Reason.NO_PROFILE_MATCH, None, None, None)


def test_both_sides_must_allow() -> None:
    ps = policy_set(endpoints=[A, B], policies=[gnp("a-out", "app == 'a'", egress=[Rule(DENY)])])
    v = ps.evaluate(TO_B)
    assert not v.allowed
    assert why(v.egress) == ("Deny", Reason.RULE, "default", "a-out", 0)
    assert why(v.ingress) == ("Allow", Reason.PROFILE, None, "kns.x", 0)


def test_ingress_log_rules_do_not_fire_when_egress_drops() -> None:
    ps = policy_set(
        endpoints=[A, B],
        policies=[gnp("a-out", "app == 'a'", egress=[Rule(LOG), Rule(DENY)]), gnp("b-in", "app == 'b'", ingress=[Rule(LOG)])],
    )
    v = ps.evaluate(TO_B)
    assert [r.policy.name for r in v.logged] == ["a-out"]
    ps = policy_set(
        endpoints=[A, B],
        policies=[gnp("a-out", "app == 'a'", egress=[Rule(LOG), Rule(ALLOW)]), gnp("b-in", "app == 'b'", ingress=[Rule(LOG)])],
    )
    v = ps.evaluate(TO_B)
    assert [(r.direction, r.policy.name) for r in v.logged] == [(Direction.EGRESS, "a-out"), (Direction.INGRESS, "b-in")]
    assert why(v.ingress) == ("Deny", Reason.END_OF_TIER, "default", None, None)



def test_tiers_in_order_ties_by_name_and_no_order_last() -> None:
    first = Tier("aaa", 100.0, Action.DENY)
    second = Tier("bbb", 100.0, Action.DENY)
    unordered = Tier("early-name", None, Action.DENY)
    policies = [
        gnp("in-bbb", "app == 'b'", tier="bbb", ingress=[Rule(ALLOW)]),
        gnp("in-aaa", "app == 'b'", tier="aaa", ingress=[Rule(DENY)]),
        gnp("in-unordered", "app == 'b'", tier="early-name", ingress=[Rule(ALLOW)]),
    ]
    v = ingress_of_b(*policies, tiers=[first, second, unordered])
    assert why(v.ingress) == ("Deny", Reason.RULE, "aaa", "in-aaa", 0)
    v = ingress_of_b(*policies[::2], tiers=[first, second, unordered])
    assert why(v.ingress) == ("Allow", Reason.RULE, "bbb", "in-bbb", 0)
    # the default tier (order 1e6) runs before a tier without order
    v = ingress_of_b(gnp("late", "app == 'b'", tier="early-name", ingress=[Rule(DENY)]),
                     gnp("default-allow", "app == 'b'", ingress=[Rule(ALLOW)]), tiers=[unordered])
    assert why(v.ingress) == ("Allow", Reason.RULE, "default", "default-allow", 0)
