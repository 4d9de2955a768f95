"""Verdicts for many flows: the batch path (``PolicySet.evaluate_many``) when the policy
set has it, one :meth:`PolicySet.evaluate` per flow otherwise. Both give the same answers
(the batch path is specified to equal ``evaluate``)."""

from __future__ import annotations

from typing import Callable, Sequence

from ..flow import Flow
from ..model import Action
from ..policyset import PolicySet

__all__ = ["CHUNK", "allowed_many", "has_batch"]

#: Flows per batch call (and per progress step).
CHUNK = 4096


def has_batch(policy_set: PolicySet) -> bool:
    return callable(getattr(policy_set, "evaluate_many", None))


def allowed_many(
    policy_set: PolicySet, flows: Sequence[Flow], *, progress: Callable[[int], None] | None = None
) -> list[bool]:
    """Whether each flow is allowed, in input order."""
    result: list[bool] = []
    batch = has_batch(policy_set)
    for start in range(0, len(flows), CHUNK):
        chunk = flows[start : start + CHUNK]
        if batch:
            answer = policy_set.evaluate_many(chunk)
            result.extend(bool(x) for x in answer.allowed)
        else:
            result.extend(policy_set.evaluate(flow).action is Action.ALLOW for flow in chunk)
        if progress is not None:
            progress(len(chunk))
    return result
