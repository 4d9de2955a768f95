"""Deciding a batch of flow-log records: each distinct flow once, on the compiled tables
where its sides are endpoints or addresses (``PolicySet.evaluate_many``), one at a time
where a side is built from logged labels; then every record takes its flow's outcome.

Outcomes are kept across batches (up to :data:`KEPT` distinct flows), so a log's
repeated flows cost one lookup each.
"""

from __future__ import annotations

from typing import Any, Sequence

import attrs
import numpy as np

from ..errors import PolicyError
from ..flow import Flow
from ..model import Action
from ..policyset import PolicySet
from ..verdict import Decision, Verdict
from .batch import LogBatch, SideValue, unique_rows
from .exact import Analyzer
from .sides import Resolved, Resolver

__all__ = ["Outcome", "Decider", "deciding", "label_of", "EXACT", "UNCERTAIN", "UNKNOWN", "KEPT"]

EXACT, UNCERTAIN, UNKNOWN = "exact", "uncertain", "unknown"
#: Distinct flows whose outcomes are kept from one batch to the next.
KEPT = 1_000_000
_NOT_POLICED = -2


@attrs.frozen
class Outcome:
    """What netpolicy says of one distinct flow: ``action`` ("Allow"/"Deny", None when
    it cannot decide), each side's decision, the pending verdict's (with staged
    policies; None when none applies), ``certainty`` (exact, uncertain, unknown) and
    the reasons, and the flow decided (None when unknown)."""

    action: str | None
    egress: Decision | None
    ingress: Decision | None
    pending: tuple[str, Decision | None, Decision | None] | None
    certainty: str
    reasons: tuple[str, ...]
    flow: Flow | None
    src: Resolved
    dst: Resolved

    @property
    def allowed(self) -> bool:
        return self.action == "Allow"

    @property
    def label(self) -> str:
        return label_of(self.action, self.egress, self.ingress)


def deciding(allowed: bool, egress: Decision | None, ingress: Decision | None) -> Decision | None:
    """The side that settled a verdict: the first that denied for a Deny; for an Allow the
    destination's decision when policed, else the source's."""
    sides = [d for d in (egress, ingress) if d is not None]
    if not allowed:
        for decision in sides:
            if decision.action is Action.DENY:
                return decision
    return sides[-1] if sides else None


def label_of(action: str | None, egress: Decision | None, ingress: Decision | None) -> str:
    """What decided, for summaries: ``<policy> (tier <t>) rule <n>``, ``end of tier <t>``..."""
    if action is None:
        return "not decided"
    decision = deciding(action == "Allow", egress, ingress)
    if decision is None:
        return "no policed endpoint (external, or to itself)"
    if decision.policy is not None and decision.rule is not None:
        return f"{decision.policy} (tier {decision.tier}) rule {decision.rule}"
    if decision.tier is not None and decision.profile is None:
        return f"end of tier {decision.tier}"
    if decision.profile is not None:
        return f"profile {decision.profile}"
    return decision.why


def _keys(batch: LogBatch) -> tuple[np.ndarray, np.ndarray]:
    """Each record's flow as two integers; the distinct ones and each record's index."""
    n = len(batch)
    first = (batch.src.astype(np.uint64) << np.uint64(32)) | batch.dst.astype(np.uint64)
    second = ((batch.protocol.astype(np.uint64) << np.uint64(56)) | (batch.dst_port.astype(np.uint64) << np.uint64(40))
              | (batch.src_port.astype(np.uint64) << np.uint64(24)) | ((batch.icmp_type.astype(np.int64) + 1).astype(np.uint64) << np.uint64(12))
              | (batch.icmp_code.astype(np.int64) + 1).astype(np.uint64))
    first_row, inverse = unique_rows([first, second])
    return np.stack([first[first_row], second[first_row]], axis=1), inverse


def _flow(src: Any, dst: Any, key: Sequence[int]) -> Flow:
    protocol, dport, sport, itype, icode = key
    return Flow(src, dst, protocol, dport or None, sport or None, None if itype < 0 else itype, None if icode < 0 else icode)


class Decider:
    """Decides flow-log batches against one policy set."""

    def __init__(self, ps: PolicySet) -> None:
        self.ps = ps
        self.resolver = Resolver(ps)
        self.analyzer = Analyzer(ps, self.resolver.namespace_known)
        self.outcomes: list[Outcome] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self._staged = bool(ps.staged_policies)

    def decide(self, batch: LogBatch) -> np.ndarray:
        """Each record's index into :attr:`outcomes`."""
        distinct, inverse = _keys(batch)
        where = np.empty(len(distinct), np.int64)
        todo: list[tuple[int, tuple[Any, ...]]] = []
        for k, (first, second) in enumerate(distinct.tolist()):
            key = (batch.src_values[first >> 32], batch.dst_values[first & 0xFFFFFFFF], second >> 56, (second >> 40) & 0xFFFF,
                   (second >> 24) & 0xFFFF, ((second >> 12) & 0xFFF) - 1, (second & 0xFFF) - 1)
            found = self._index.get(key)
            if found is None:
                todo.append((k, key))
            else:
                where[k] = found
        if todo:
            if len(self._index) + len(todo) > KEPT:
                self._index.clear()
            for (k, key), outcome in zip(todo, self._decide([key for _, key in todo])):
                where[k] = self._index[key] = len(self.outcomes)
                self.outcomes.append(outcome)
        return where[inverse] if len(inverse) else np.zeros(0, np.int64)

    def _decide(self, keys: list[tuple[Any, ...]]) -> list[Outcome]:
        resolved = [(self.resolver.resolve(key[0]), self.resolver.resolve(key[1])) for key in keys]
        results: list[Outcome | None] = [None] * len(keys)
        batch: list[int] = []
        for k, (src, dst) in enumerate(resolved):
            if src.side is None or dst.side is None:
                why = (src.note if src.side is None else "") or dst.note
                results[k] = Outcome(None, None, None, None, UNKNOWN, (why,), None, src, dst)
            elif isinstance(src.side, str) and isinstance(dst.side, str):
                batch.append(k)
            else:
                results[k] = self._one(keys[k], src, dst)
        if batch:
            for k, outcome in zip(batch, self._many([keys[k] for k in batch], [resolved[k] for k in batch])):
                results[k] = outcome
        return [r for r in results if r is not None]

    def _many(self, keys: list[tuple[Any, ...]], resolved: list[tuple[Resolved, Resolved]]) -> list[Outcome]:
        columns: dict[str, Any] = {
            "src": np.array([src.side for src, _ in resolved], dtype=object),
            "dst": np.array([dst.side for _, dst in resolved], dtype=object),
            "protocol": np.array([key[2] for key in keys], np.uint8),
            "dst_port": np.array([key[3] for key in keys], np.uint16),
        }
        if any(key[4] for key in keys):
            columns["src_port"] = np.array([key[4] for key in keys], np.uint16)
        if any(key[5] >= 0 for key in keys):
            columns["icmp_type"] = np.array([key[5] for key in keys], np.int16)
            columns["icmp_code"] = np.array([key[6] for key in keys], np.int16)
        try:
            result = self.ps.evaluate_many(columns)
        except PolicyError:
            return [self._one(key, src, dst) for key, (src, dst) in zip(keys, resolved)]
        allowed = result.allowed.tolist()
        egress, ingress = result.egress_decision.tolist(), result.ingress_decision.tolist()
        out = []
        for k, (key, (src, dst)) in enumerate(zip(keys, resolved)):
            e, i = egress[k], ingress[k]
            needs_verdict = self._staged or not (src.exact and dst.exact) or (e < 0 and e != _NOT_POLICED) or (i < 0 and i != _NOT_POLICED)
            if needs_verdict:
                out.append(self._outcome(result.verdict(k), src, dst))
            else:
                action = "Allow" if allowed[k] else "Deny"
                out.append(Outcome(action, result.decision(e), result.decision(i), None, EXACT, (), result.flow(k), src, dst))
        return out

    def _one(self, key: tuple[Any, ...], src: Resolved, dst: Resolved) -> Outcome:
        try:
            flow = _flow(src.side, dst.side, key[2:])
            verdict = self.ps.evaluate(flow)
        except PolicyError as exc:
            return Outcome(None, None, None, None, UNKNOWN, (str(exc).splitlines()[0],), None, src, dst)
        return self._outcome(verdict, src, dst)

    def _outcome(self, verdict: Verdict, src: Resolved, dst: Resolved) -> Outcome:
        reasons = tuple(self.analyzer.reasons(src, dst, verdict.flow, verdict)) if not (src.exact and dst.exact) else ()
        pending = None
        if verdict.pending is not None:
            pending = (verdict.pending.action.value, verdict.pending.egress, verdict.pending.ingress)
        return Outcome(verdict.action.value, verdict.egress, verdict.ingress, pending, UNCERTAIN if reasons else EXACT,
                       reasons, verdict.flow, src, dst)


def side_text(value: SideValue) -> str:
    return value.text()
