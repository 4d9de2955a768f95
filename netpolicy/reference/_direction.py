"""One endpoint, one direction: the tiers, policies, rules and profiles that decide
(calico-semantics §C.2, §C.3), and the host-endpoint layers around them (§C.6).
"""

from __future__ import annotations

from typing import Callable

import attrs

from ..errors import PolicyError
from ..model import Action, Direction, Endpoint, Policy, Rule
from ..verdict import Decision, Layer, Reason, RuleRef
from ..resolve.index import Index, TierPolicies
from ._match import rule_matches
from ._packet import Packet
from ._synthetic import synthetic_tests
from ._trace import Trace, describe_order, endpoint_key, describe_rule, describe_tier

__all__ = ["Judge", "staged_applies", "FAILSAFE_INBOUND", "FAILSAFE_OUTBOUND"]

_TCP, _UDP = 6, 17

#: Felix's default failsafe ports, (protocol, destination port) (§C.6).
FAILSAFE_INBOUND = frozenset(
    {(_TCP, 22), (_UDP, 68), (_TCP, 179), (_TCP, 2379), (_TCP, 2380), (_TCP, 5473), (_TCP, 6443), (_TCP, 6666), (_TCP, 6667)}
)
FAILSAFE_OUTBOUND = frozenset(
    {(_UDP, 53), (_UDP, 67), (_TCP, 179), (_TCP, 2379), (_TCP, 2380), (_TCP, 5473), (_TCP, 6443), (_TCP, 6666), (_TCP, 6667)}
)


@attrs.frozen
class _Outcome:
    """What decided, before it becomes a Decision."""

    action: Action
    reason: str
    tier: str | None = None
    policy: Policy | None = None
    rule: int | None = None
    profile: str | None = None


def _is_normal(policy: Policy) -> bool:
    return not policy.do_not_track and not policy.pre_dnat


def _is_untracked(policy: Policy) -> bool:
    return policy.do_not_track


def _is_pre_dnat(policy: Policy) -> bool:
    return policy.pre_dnat


class Judge:
    """Evaluates one direction of one endpoint for one packet, recording the trace and
    the Log rules that fire. ``staged`` evaluates staged policies in place (the pending
    verdict, §C.3 notes)."""

    def __init__(self, index: Index, packet: Packet, endpoint: Endpoint, direction: Direction, staged: bool, trace: Trace) -> None:
        self.index = index
        self.packet = packet
        self.endpoint = endpoint
        self.direction = direction
        self.staged = staged
        self.trace = trace
        self.logged: list[RuleRef] = []

    # -- the two kinds of endpoint ------------------------------------------------------------

    def decide(self, depth: int) -> Decision:
        """The decision for this endpoint and direction."""
        if self.endpoint.is_host:
            return self._host(depth)
        outcome = self._tiers_then_profiles(self._layer(_is_normal), depth)
        return self._decision(outcome, None)

    def _host(self, depth: int) -> Decision:
        """§C.6, traffic to or from a process on the host: failsafe ports, then the
        untracked layer, the preDNAT layer (ingress only), then normal policies and the
        host endpoint's profiles."""
        failsafes = FAILSAFE_INBOUND if self.direction is Direction.INGRESS else FAILSAFE_OUTBOUND
        if self.packet.dst_port is not None and (self.packet.protocol, self.packet.dst_port) in failsafes:
            self.trace.add(depth, "failsafe", f"failsafe port {self.packet.dst_port} is always allowed")
            return self._decision(_Outcome(Action.ALLOW, Reason.FAILSAFE), Layer.NORMAL)
        layers: list[tuple[str, Callable[[Policy], bool]]] = [(Layer.UNTRACKED, _is_untracked)]
        if self.direction is Direction.INGRESS:
            layers.append((Layer.PRE_DNAT, _is_pre_dnat))
        layered = False
        for layer, keep in layers:
            groups = self._layer(keep)
            if not groups:
                continue
            layered = True
            self.trace.add(depth, "layer", f"{layer} layer (its tiers end with Pass)")
            outcome = self._tiers(groups, depth + 1, force_pass=True)
            if outcome is not None:
                return self._decision(outcome, layer)
        if layered:
            self.trace.add(depth, "layer", "normal layer")
        outcome = self._tiers_then_profiles(self._layer(_is_normal), depth + 1 if layered else depth)
        return self._decision(outcome, Layer.NORMAL)

    # -- §C.3 -------------------------------------------------------------------------------

    def _layer(self, keep: Callable[[Policy], bool]) -> tuple[TierPolicies, ...]:
        """The participating tiers (§C.2) restricted to the policies of one layer."""
        groups = []
        for group in self.index.applying(self.endpoint, self.direction, self.staged):
            kept = tuple(policy for policy in group.policies if keep(policy))
            if kept:
                groups.append(TierPolicies(group.tier, kept))
        return tuple(groups)

    def _tiers_then_profiles(self, groups: tuple[TierPolicies, ...], depth: int) -> _Outcome:
        outcome = self._tiers(groups, depth, force_pass=False)
        if outcome is not None:
            return outcome
        return self._profiles(depth)

    def _tiers(self, groups: tuple[TierPolicies, ...], depth: int, *, force_pass: bool) -> _Outcome | None:
        """Participating tiers in order; None when every tier passed (or none applied)."""
        if not groups:
            self.trace.add(depth, "tier", "no policy applies")
        for group in groups:
            tier = group.tier
            if self.trace.on:
                self.trace.add(depth, "tier", describe_tier(tier))
            passed = False
            for policy in group.policies:
                if self.trace.on:
                    staged = " [staged]" if policy.staged else ""
                    self.trace.add(depth + 1, "policy", f"{policy.ref} ({describe_order(policy.order)}){staged}")
                outcome, passed = self._policy(tier.name, policy, depth + 2)
                if outcome is not None:
                    return outcome
                if passed:
                    break
            if passed:
                continue
            end = Action.PASS if force_pass else tier.default_action
            if end is Action.PASS:
                self.trace.add(depth + 1, "default", f"end of tier {tier.name}: Pass to the next tier")
                continue
            if end is Action.DENY:
                self.trace.add(depth + 1, "default", f"end of tier {tier.name}: Deny")
                return _Outcome(Action.DENY, Reason.END_OF_TIER, tier=tier.name)
            raise PolicyError(f"internal inconsistency: tier {tier.name} has default action {end}")
        return None

    def _policy(self, tier: str, policy: Policy, depth: int) -> tuple[_Outcome | None, bool]:
        """Rules in order: (outcome, passed)."""
        rules = policy.rules(self.direction)
        if rules is None:
            raise PolicyError(f"internal inconsistency: {policy.ref} has no {self.direction} rules but applied")
        logged = False
        for number, rule in enumerate(rules):
            if self.trace.on and self.packet.synthetic:
                self._note_synthetic(rule, f"rule {number}", depth)
            if not rule_matches(rule, self.packet, self.index):
                continue
            if self.trace.on:
                self.trace.add(depth, "rule", f"rule {number} matched: {describe_rule(rule)}")
            if rule.action is Action.LOG:
                self.logged.append(RuleRef(self.direction, tier, policy.ref, None, number))
                logged = True
                continue
            if rule.action is Action.ALLOW or rule.action is Action.DENY:
                return _Outcome(rule.action, Reason.RULE, tier=tier, policy=policy, rule=number), False
            if rule.action is Action.PASS:
                self.trace.add(depth, "pass", f"Pass: leave tier {tier}")
                return None, True
            raise PolicyError(f"internal inconsistency: rule action {rule.action!r}")
        self.trace.add(depth, "policy", "no other rule matched" if logged else "no rule matched")
        return None, False

    def _profiles(self, depth: int) -> _Outcome:
        """No tier decided: the endpoint's profiles in order, then deny (§C.3). Pass in a
        profile leaves that profile for the next one, as iptables does."""
        names = self.index.profiles_of(self.endpoint)
        self.trace.add(depth, "profile", "profiles: " + (", ".join(names) if names else "none"))
        for name in names:
            profile = self.index.profile(name, self.endpoint)
            if profile is None:
                self.trace.add(depth + 1, "profile", f"profile {name} is not in the policy set: no rules")
                continue
            for number, rule in enumerate(profile.rules(self.direction)):
                if self.trace.on and self.packet.synthetic:
                    self._note_synthetic(rule, f"profile {name} rule {number}", depth + 1)
                if not rule_matches(rule, self.packet, self.index):
                    continue
                if self.trace.on:
                    self.trace.add(depth + 1, "rule", f"profile {name} rule {number} matched: {describe_rule(rule)}")
                if rule.action is Action.LOG:
                    self.logged.append(RuleRef(self.direction, None, None, name, number))
                    continue
                if rule.action is Action.ALLOW or rule.action is Action.DENY:
                    return _Outcome(rule.action, Reason.PROFILE, profile=name, rule=number)
                if rule.action is Action.PASS:
                    break
                raise PolicyError(f"internal inconsistency: rule action {rule.action!r}")
        self.trace.add(depth + 1, "default", "no profile rule decided: Deny")
        return _Outcome(Action.DENY, Reason.NO_PROFILE_MATCH)

    def _note_synthetic(self, rule: Rule, what: str, depth: int) -> None:
        """Trace the tests of ``rule`` that a synthetic address decided."""
        for test in synthetic_tests(rule, self.packet, self.index):
            self.trace.add(depth, "synthetic", f"note: {what} tested {test}")

    def _decision(self, outcome: _Outcome, layer: str | None) -> Decision:
        return Decision(
            direction=self.direction,
            action=outcome.action,
            reason=outcome.reason,
            tier=outcome.tier,
            policy=outcome.policy.ref if outcome.policy is not None else None,
            rule=outcome.rule,
            profile=outcome.profile,
            endpoint=endpoint_key(self.endpoint),
            layer=layer,
        )


def staged_applies(index: Index, endpoint: Endpoint, direction: Direction) -> bool:
    """Whether a staged policy applies to ``endpoint`` in ``direction`` in a layer that
    is evaluated for it (workloads ignore doNotTrack and preDNAT policies)."""
    for group in index.applying(endpoint, direction, True):
        for policy in group.policies:
            if not policy.staged:
                continue
            if endpoint.is_host:
                if not policy.pre_dnat or direction is Direction.INGRESS:
                    return True
            elif _is_normal(policy):
                return True
    return False
