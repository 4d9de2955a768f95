"""What would decide a flow in one direction without one rule: the reference evaluator's
direction judge, run with that rule skipped. Used to drop, before the exact comparison of
:mod:`.agree`, the candidate redundant rules whose removal surely changes a verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import PolicyError
from ...flow import Flow
from ...model import Action, Direction, Policy
from ...reference._direction import Judge, _Outcome
from ...reference._match import rule_matches
from ...reference._packet import resolve
from ...reference._trace import Trace
from ...resolve.index import index_of
from ...verdict import Reason
from ..keyspace import key_fields
from .cells import RuleKey, Sample

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["runner_up"]


class _Skipping(Judge):
    """A judge that acts as if one rule of one policy were not there."""

    skip: RuleKey | None = None

    def _policy(self, tier: str, policy: Policy, depth: int) -> tuple[_Outcome | None, bool]:
        skip = self.skip
        if skip is None or skip[0] != policy.ref or skip[1] is not self.direction:
            return super()._policy(tier, policy, depth)
        rules = policy.rules(self.direction) or ()
        for number, rule in enumerate(rules):
            if number == skip[2]:
                continue
            if not rule_matches(rule, self.packet, self.index):
                continue
            if rule.action is Action.LOG:
                continue
            if rule.action is Action.ALLOW or rule.action is Action.DENY:
                return _Outcome(rule.action, Reason.RULE, tier=tier, policy=policy, rule=number), False
            if rule.action is Action.PASS:
                return None, True
        return None, False


def runner_up(ps: Snapshot, key: RuleKey, sample: Sample) -> Action | None:
    """The action that decides the direction ``key`` polices for the flow ``sample``
    with rule ``key`` left out (None when the flow cannot be made)."""
    d, local, peer, flow_key, src_port = sample
    protocol, port, icmp_type, icmp_code = key_fields(flow_key)
    src, dst = (local, peer) if d == 0 else (peer, local)
    index = index_of(ps)
    try:
        packet = resolve(index, Flow(src, dst, protocol, port, src_port, icmp_type, icmp_code))
    except PolicyError:
        return None
    direction = Direction.EGRESS if d == 0 else Direction.INGRESS
    judge = _Skipping(index, packet, local, direction, False, Trace(False))
    judge.skip = key
    return judge.decide(0).action
