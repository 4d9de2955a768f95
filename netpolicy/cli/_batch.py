"""Verdicts for many flows: the batch path (``PolicySet.evaluate_many``) when the policy
set has it, one :meth:`PolicySet.evaluate` per flow otherwise. Both give the same answers
(the batch path is specified to equal ``evaluate``)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import attrs

from ..flow import Flow
from ..model import Action
from ..policyset import PolicySet
from ..verdict import Decision, Verdict

__all__ = ["CHUNK", "Outcome", "allowed_many", "decide_many", "has_batch"]

#: Flows per batch call (and per progress step).
CHUNK = 8192

_NOT_POLICED = -2  # BatchResult decision id: no policed endpoint on that side


@attrs.frozen
class Outcome:
    """A flow's verdict without its trace: allowed, and each side's decision."""

    allowed: bool
    egress: Decision | None
    ingress: Decision | None

    @classmethod
    def of(cls, verdict: Verdict) -> "Outcome":
        return cls(verdict.action is Action.ALLOW, verdict.egress, verdict.ingress)


def has_batch(policy_set: PolicySet) -> bool:
    return callable(getattr(policy_set, "evaluate_many", None))


def _chunks(flows: Sequence[Flow]) -> list[Sequence[Flow]]:
    return [flows[start : start + CHUNK] for start in range(0, len(flows), CHUNK)]


def allowed_many(
    policy_set: PolicySet, flows: Sequence[Flow], *, progress: Callable[[int], None] | None = None
) -> list[bool]:
    """Whether each flow is allowed, in input order."""
    result: list[bool] = []
    batch = has_batch(policy_set)
    for chunk in _chunks(flows):
        if batch:
            result.extend(bool(x) for x in policy_set.evaluate_many(list(chunk)).allowed)
        else:
            result.extend(policy_set.evaluate(flow).action is Action.ALLOW for flow in chunk)
        if progress is not None:
            progress(len(chunk))
    return result


def _from_batch(answer: Any, size: int) -> list[Outcome] | None:
    """Outcomes from a batch result's decision ids, when it carries them."""
    if not (hasattr(answer, "egress_decision") and hasattr(answer, "decision") and hasattr(answer, "verdict")):
        return None
    allowed = [bool(x) for x in answer.allowed]
    egress = [int(x) for x in answer.egress_decision]
    ingress = [int(x) for x in answer.ingress_decision]
    out: list[Outcome] = []
    for k in range(size):
        e, i = egress[k], ingress[k]
        if (e < 0 and e != _NOT_POLICED) or (i < 0 and i != _NOT_POLICED):
            out.append(Outcome.of(answer.verdict(k)))  # decided by the reference evaluator
        else:
            out.append(Outcome(allowed[k], answer.decision(e), answer.decision(i)))
    return out


def decide_many(
    policy_set: PolicySet, flows: Sequence[Flow], *, progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    """Each flow's verdict and deciding decisions, in input order."""
    result: list[Outcome] = []
    batch = has_batch(policy_set)
    for chunk in _chunks(flows):
        outcomes = _from_batch(policy_set.evaluate_many(list(chunk)), len(chunk)) if batch else None
        if outcomes is None:
            outcomes = [Outcome.of(policy_set.evaluate(flow)) for flow in chunk]
        result.extend(outcomes)
        if progress is not None:
            progress(len(chunk))
    return result
