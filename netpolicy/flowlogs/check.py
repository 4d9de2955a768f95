"""The log against the policies: for each record, what Calico logged beside what
netpolicy decides, on the side that reported it.

A record reported by the source (``reporter`` src) logs the source's egress decision;
one reported by the destination its ingress decision. Netpolicy's decision on that side
is compared with the logged action, and its deciding policy hit with the logged trace's
last hit: by tier, kind, namespace, name, action and Calico's expanded rule index. The
pending trace (with staged policies) is compared the same way. Netpolicy's deciding hit
is written in Calico's hit form (:meth:`~.hits.Hit.text`); its index counts the tiers
the side passed before it.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..model import Action, Endpoint
from ..policyset import PolicySet
from ..resolve.index import index_of
from ..verdict import Decision, Reason
from .batch import LOGGED_ALLOW, LOGGED_DENY, LOGGED_PASS, REPORTER_DST, REPORTER_SRC
from .decide import UNKNOWN, Outcome
from .hits import PROFILE_TIER, Hit, split_hits

__all__ = ["Check", "Checker", "same_policy"]

_LOGGED_TEXT = {0: "", LOGGED_ALLOW: "allow", LOGGED_DENY: "deny", LOGGED_PASS: "pass"}


@attrs.frozen
class Check:
    """One record's comparison. ``agrees``, ``hits_agree``, ``pending_agrees`` are None
    where there is nothing to compare (no reporter or logged action, no logged trace,
    netpolicy could not decide)."""

    reporter: str
    logged: str
    expected: str
    agrees: bool | None
    logged_hit: str
    netpolicy_hit: str
    hits_agree: bool | None
    pending_expected: str
    logged_pending: str
    pending_agrees: bool | None

    @property
    def disagrees(self) -> bool:
        return False in (self.agrees, self.hits_agree, self.pending_agrees)


def same_policy(logged: Hit, ours: Hit) -> bool:
    """Whether two hits name the same policy rule (a logged name may carry its tier as a
    prefix, as older Calico releases required)."""
    if logged.tier != ours.tier or logged.kind != ours.kind or (logged.namespace or None) != (ours.namespace or None):
        return False
    names = {ours.name, f"{ours.tier}.{ours.name}"}
    if logged.name not in names and ours.name != f"{logged.tier}.{logged.name}":
        return False
    return logged.action == ours.action and (logged.rule is None or logged.rule == ours.rule)


class Checker:
    """Compares records with outcomes; netpolicy's hits are built once per decision."""

    def __init__(self, ps: PolicySet) -> None:
        self.ps = ps
        self._hits: dict[tuple[Any, ...], Hit | None] = {}

    def hit(self, decision: Decision | None, endpoint: Endpoint | None, pending: bool) -> Hit | None:
        """Netpolicy's deciding hit for one side's decision, in Calico's terms."""
        if decision is None or endpoint is None:
            return None
        key = (decision.direction, decision.reason, decision.tier, decision.policy, decision.rule, decision.profile,
               decision.action, endpoint, pending)
        if key not in self._hits:
            self._hits[key] = self._hit(decision, endpoint, pending)
        return self._hits[key]

    def _hit(self, decision: Decision, endpoint: Endpoint, pending: bool) -> Hit | None:
        groups = index_of(self.ps).applying(endpoint, decision.direction, pending)
        tiers = [group.tier.name for group in groups]
        policies = [policy for group in groups for policy in group.policies]
        action = decision.action.value.lower()
        if decision.reason == Reason.RULE and decision.policy is not None and decision.tier is not None:
            ref = decision.policy
            return Hit(decision.tier, ref.kind, ref.namespace, ref.name, action, decision.rule,
                       index=tiers.index(decision.tier) if decision.tier in tiers else None)
        if decision.reason == Reason.END_OF_TIER and decision.tier is not None:
            trigger = next((p for p in policies if p.tier == decision.tier), None)
            if trigger is None:
                return None
            return Hit(decision.tier, trigger.ref.kind, trigger.ref.namespace, trigger.ref.name, action, -1,
                       index=tiers.index(decision.tier))
        if decision.reason == Reason.PROFILE and decision.profile is not None:
            return Hit(PROFILE_TIER, "Profile", None, decision.profile, action, decision.rule, index=len(tiers))
        if decision.reason == Reason.NO_PROFILE_MATCH:
            chain = endpoint.profiles or ()
            return Hit(PROFILE_TIER, "Profile", None, chain[0] if chain else "none", "deny", -1, index=len(tiers))
        return None

    def check(self, outcome: Outcome, reporter: int, logged: int, enforced: str, pending: str) -> Check:
        """One record's comparison (``enforced``/``pending``: its logged traces)."""
        side = "egress" if reporter == REPORTER_SRC else "ingress" if reporter == REPORTER_DST else ""
        logged_hits = split_hits(enforced)
        pending_hits = split_hits(pending)
        last = logged_hits[-1] if logged_hits else None
        last_pending = pending_hits[-1] if pending_hits else None
        if not side or outcome.certainty == UNKNOWN:
            return Check(side and ("src" if side == "egress" else "dst"), _LOGGED_TEXT[logged], "", None,
                         last.text() if last else "", "", None, "", last_pending.action if last_pending else "", None)
        resolved = outcome.src if side == "egress" else outcome.dst
        decision: Decision | None = outcome.egress if side == "egress" else outcome.ingress
        expected = _action(decision)
        agrees = (expected == _LOGGED_TEXT[logged]) if logged else None
        ours = self.hit(decision, resolved.endpoint, False)
        hits_agree = (ours is not None and same_policy(last, ours)) if last is not None else None
        if outcome.pending is not None:
            p_decision = outcome.pending[1] if side == "egress" else outcome.pending[2]
            p_hit = self.hit(p_decision, resolved.endpoint, True)
        else:
            p_decision, p_hit = decision, ours
        pending_expected = _action(p_decision)
        pending_agrees = None
        if last_pending is not None:
            pending_agrees = p_hit is not None and same_policy(last_pending, p_hit)
        return Check(
            "src" if side == "egress" else "dst", _LOGGED_TEXT[logged], expected, agrees,
            last.text() if last else "", ours.text() if ours else "", hits_agree,
            pending_expected, last_pending.action if last_pending else "", pending_agrees,
        )


def _action(decision: Decision | None) -> str:
    """A side's action as Calico logs it; "" for a side netpolicy does not police."""
    if decision is None:
        return ""
    return "allow" if decision.action is Action.ALLOW else "deny"

