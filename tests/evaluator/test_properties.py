"""Properties every verdict has, on generated policy sets and flows."""

from __future__ import annotations

import ipaddress
import pickle

import attrs
from hypothesis import given, reject
from hypothesis import strategies as st

from netpolicy import Flow, PolicyError, from_objects
from netpolicy.model import Action, Direction, Policy, Profile, Rule
from netpolicy.policyset import PolicySet
from netpolicy.testing import strategies as nps
from netpolicy.verdict import Reason, Verdict


def _verdict(ps: PolicySet, flow: Flow) -> Verdict | None:
    try:
        return ps.evaluate(flow)
    except PolicyError:  # e.g. sides that share no IP family
        return None


def _rebuild(ps: PolicySet, policies: list[Policy], profiles: list[Profile] | None = None) -> PolicySet:
    return PolicySet(
        tiers=ps.tiers,
        policies=policies,
        profiles=ps.profiles.values() if profiles is None else profiles,
        endpoints=ps.endpoints,
        network_sets=ps.network_sets,
        services=ps.services,
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[PolicySet, list[Flow]]:
    objects = draw(nps.manifests(max_pods=4, max_policies=4))
    try:
        ps = from_objects(objects)
    except PolicyError:  # a generator/loader disagreement is not what these tests are about
        reject()
    flows = draw(st.lists(nps.flows(ps), min_size=1, max_size=6))
    return ps, flows


@given(cases())
def test_a_verdict_is_the_and_of_its_policed_sides(case: tuple[PolicySet, list[Flow]]) -> None:
    ps, flows = case
    for flow in flows:
        v = _verdict(ps, flow)
        if v is None:
            continue
        assert v.action in (Action.ALLOW, Action.DENY)
        sides = [d for d in (v.egress, v.ingress) if d is not None]
        assert v.allowed == all(d.action is Action.ALLOW for d in sides)
        for decision, direction in ((v.egress, Direction.EGRESS), (v.ingress, Direction.INGRESS)):
            if decision is None:
                continue
            assert decision.direction is direction
            assert decision.reason in Reason.ALL
            if decision.reason == Reason.RULE:
                assert decision.policy is not None and decision.rule is not None and decision.tier is not None
        assert v == ps.evaluate(flow)
        assert pickle.loads(pickle.dumps(v)) == v
        lines = v.explain().splitlines()
        assert f"verdict: {v.action}" in lines
        assert [line for line in lines if line.startswith("logged: ")] == [f"logged: {ref}" for ref in v.logged]


@given(cases())
def test_staged_policies_never_change_the_verdict(case: tuple[PolicySet, list[Flow]]) -> None:
    ps, flows = case
    without = _rebuild(ps, list(ps.policies))
    for flow in flows:
        v = _verdict(ps, flow)
        if v is None:
            continue
        assert attrs.evolve(v, pending=None) == without.evaluate(flow)


@given(cases())
def test_log_rules_never_change_the_decision(case: tuple[PolicySet, list[Flow]]) -> None:
    ps, flows = case
    # every Log rule becomes one that never matches, keeping rule indexes: IPv4 only,
    # with a source CIDR list that holds only IPv6 (§F.2)
    nowhere = (ipaddress.ip_network("fd00::/128"),)

    def silence(rules: tuple[Rule, ...] | None) -> tuple[Rule, ...] | None:
        if rules is None:
            return None
        return tuple(
            attrs.evolve(r, ip_version=4, source=attrs.evolve(r.source, nets=nowhere)) if r.action is Action.LOG else r
            for r in rules
        )

    policies = [attrs.evolve(p, ingress=silence(p.ingress), egress=silence(p.egress)) for p in (*ps.policies, *ps.staged_policies)]
    profiles = [attrs.evolve(p, ingress=silence(p.ingress), egress=silence(p.egress)) for p in ps.profiles.values()]
    quiet = _rebuild(ps, policies, profiles)
    for flow in flows:
        v = _verdict(ps, flow)
        if v is None:
            continue
        q = quiet.evaluate(flow)
        assert q.logged == ()
        assert (q.action, q.egress, q.ingress) == (v.action, v.egress, v.ingress)
