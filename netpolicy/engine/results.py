"""What the engine hands back: a batch's answers (:class:`BatchResult`), the action
codes in them, and each endpoint's outcomes, built on first use."""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

import attrs
import numpy as np

from ..flow import Flow
from ..verdict import Decision, RuleRef, Verdict

__all__ = ["ACTION_ALLOW", "ACTION_DENY", "BatchResult"]

ACTION_DENY = 0  #: action code of a denied flow
ACTION_ALLOW = 1  #: action code of an allowed flow


class _Decides(Protocol):
    """What a BatchResult asks of its engine (which it keeps alive)."""

    @property
    def decisions(self) -> Sequence[Decision]: ...

    @property
    def evaluate(self) -> Callable[[Flow], Verdict]: ...


class _Flows(Protocol):
    """The batch's input: flow ``k`` as a :class:`Flow`."""

    @property
    def flow(self) -> Callable[[int], Flow]: ...


class BatchResult:
    """What ``evaluate_many`` returns: per flow, in input order.

    ``allowed`` (bool) and ``action`` (``ACTION_ALLOW`` 1 / ``ACTION_DENY`` 0) are numpy
    arrays. ``egress_decision``/``ingress_decision`` hold decision ids (-2: no policed
    endpoint on that side, -1: decided by the reference evaluator); :meth:`decision`
    turns an id into its :class:`Decision`, :meth:`verdict` gives flow ``k``'s full
    Verdict (what ``evaluate`` returns).
    """

    def __init__(self, engine: _Decides, cols: _Flows, code: np.ndarray, eg: np.ndarray, ing: np.ndarray) -> None:
        self._engine = engine
        self._cols = cols
        #: per flow, ``ACTION_ALLOW`` (1) or ``ACTION_DENY`` (0)
        self.action = code  # 2 (the reference decides) is replaced by evaluate_many
        #: per flow, whether it is allowed
        self.allowed = code == 1
        #: per flow, the egress decision id
        self.egress_decision = eg
        #: per flow, the ingress decision id
        self.ingress_decision = ing

    def __len__(self) -> int:
        return len(self.allowed)

    def decision(self, decision_id: int) -> Decision | None:
        """The Decision a decision id stands for (None for -2; -1 has none: use verdict())."""
        if decision_id == -2:
            return None
        if decision_id < 0:
            raise ValueError("decision -1 was made by the reference evaluator: use verdict(k)")
        return self._engine.decisions[decision_id]

    def flow(self, k: int) -> Flow:
        """Flow ``k`` as a :class:`Flow`."""
        return self._cols.flow(k)

    def verdict(self, k: int) -> Verdict:
        """Flow ``k``'s Verdict, equal to ``evaluate(flow(k))``."""
        flow = self._cols.flow(k)
        return self._engine.evaluate(flow)


class _Outcomes(dict[int, tuple[Decision, tuple[RuleRef, ...], bool]]):
    """One endpoint's outcomes by outcome id: (the Decision naming the endpoint, the Log
    rules that fired, whether it allows), each built on first use; built ones cost one
    dict lookup. ``tables`` is what its engine shares among them: the outcomes'
    Decisions, Log rules and allows, and a one-item list counting what they keep (no
    reference to the engine itself, so that it is freed with its PolicySet, at once)."""

    __slots__ = ("_tables", "_endpoint")

    def __init__(self, tables: tuple[list[Decision], list[tuple[RuleRef, ...]], list[Any], list[int]], endpoint: str) -> None:
        super().__init__()
        self._tables = tables
        self._endpoint = endpoint

    def __missing__(self, outcome: int) -> tuple[Decision, tuple[RuleRef, ...], bool]:
        decisions, logged, allows, kept = self._tables
        found = (attrs.evolve(decisions[outcome], endpoint=self._endpoint), logged[outcome], bool(allows[outcome]))
        if kept[0] < _KEPT_MAX:  # racing threads may overshoot a little: harmless
            kept[0] += 1
            self[outcome] = found
        return found


_EXTERNAL = _Outcomes.__new__(_Outcomes)  # the outcomes of an address of no endpoint (Single)
_KEPT_MAX = 1_000_000  # outcomes kept by all of an engine's _Outcomes together
