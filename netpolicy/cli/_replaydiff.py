"""``netpolicy replay --base ... --head ...``: the recorded flows whose verdict changes
between two policy sets, each with what decided it on both sides before and after.

A flow one side cannot decide while the other can (it names a pod that side does not
have) is ``absent`` on that side, which counts as not allowed, as in ``netpolicy diff``.
A flow neither side can decide is invalid input."""

from __future__ import annotations

from typing import IO, Any, Callable, Iterator, Sequence

import attrs

from ..errors import PolicyError
from ..flow import Flow
from ..policyset import PolicySet
from . import _formats as formats
from ._batch import Outcome, allowed_many
from ._common import InvalidInput
from ._replay import MAX_LISTED, Recorded
from ._verdict import decision_data, decision_text, deciding_label, flow_data, flow_text

__all__ = ["FORMATS", "Side", "Changed", "Comparison", "compare", "record", "render", "summary_text"]

FORMATS = ("table", "json", "yaml", "csv", "jsonl")

#: The columns of ``-o csv``, one row per changed flow.
CSV_COLUMNS = (
    "place", "src", "dst", "protocol", "dst_port", "change", "before", "after", "before_decided_by",
    "after_decided_by", "before_egress", "before_ingress", "after_egress", "after_ingress",
)


@attrs.frozen
class Side:
    """A flow on one side: its outcome, or why the side cannot decide it (``absent``)."""

    outcome: Outcome | None
    absent: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is not None and self.outcome.allowed

    @property
    def verdict(self) -> str:
        return "absent" if self.outcome is None else "allow" if self.outcome.allowed else "deny"

    @property
    def decided_by(self) -> str:
        return deciding_label(self.outcome) if self.outcome is not None else str(self.absent)


@attrs.frozen
class Changed:
    """A recorded flow whose verdict changes: where it was read, and both sides."""

    place: str
    flow: Flow
    before: Side
    after: Side

    @property
    def kind(self) -> str:
        """``added`` when the head newly allows the flow, ``removed`` when it no longer does."""
        return "added" if self.after.allowed else "removed"


@attrs.frozen
class Comparison:
    """How many recorded flows there were, those whose verdict changes (in input order),
    and how many each side could not decide (absent there)."""

    flows: int
    changed: tuple[Changed, ...]
    absent_in_base: int = 0
    absent_in_head: int = 0

    def summary(self) -> dict[str, Any]:
        added = sum(1 for c in self.changed if c.kind == "added")
        return {"flows": self.flows, "changed": len(self.changed), "unchanged": self.flows - len(self.changed),
                "added": added, "removed": len(self.changed) - added,
                "absent_in_base": self.absent_in_base, "absent_in_head": self.absent_in_head}


def _message(exc: PolicyError) -> str:
    lines = InvalidInput.from_error(exc).lines
    return lines[0] if lines else type(exc).__name__


def _settle(policy_set: PolicySet, flows: Sequence[Flow], start: int, missing: dict[int, str]) -> list[bool]:
    """Whether each flow is allowed (the batch path); a batch that fails is halved until
    the flows that cannot be decided are found: ``missing`` gets their index and why."""
    try:
        return allowed_many(policy_set, flows)
    except PolicyError as exc:
        if len(flows) == 1:
            missing[start] = _message(exc)
            return [False]
    middle = len(flows) // 2
    return (_settle(policy_set, flows[:middle], start, missing)
            + _settle(policy_set, flows[middle:], start + middle, missing))


def _allowed(policy_set: PolicySet, flows: Sequence[Flow], progress: Callable[[int], None] | None,
             missing: dict[int, str]) -> list[bool]:
    try:
        return allowed_many(policy_set, flows, progress=progress)
    except PolicyError:
        return _settle(policy_set, flows, 0, missing) if flows else []


def compare(base: PolicySet, head: PolicySet, recorded: Recorded, *,
            progress: Callable[[int], None] | None = None) -> Comparison:
    """Decide every recorded flow on both sides (the batch path), then trace the flows
    whose verdict changes on each side (``PolicySet.evaluate``). A flow that only one
    side cannot decide is absent there; one that neither can is invalid input, each
    side's reason labelled with the side."""
    missing_before: dict[int, str] = {}
    missing_after: dict[int, str] = {}
    before = _allowed(base, recorded.flows, progress, missing_before)
    after = _allowed(head, recorded.flows, progress, missing_after)
    neither = sorted(set(missing_before) & set(missing_after))
    if neither:
        lines = [f"{label}: {recorded.place(k)}: {found[k]}" for k in neither[:MAX_LISTED]
                 for label, found in (("base", missing_before), ("head", missing_after))]
        if len(neither) > MAX_LISTED:
            lines.append(f"{recorded.name}: and {len(neither) - MAX_LISTED} more flows that neither side can decide")
        raise InvalidInput(lines)

    def side(policy_set: PolicySet, flow: Flow, k: int, missing: dict[int, str]) -> Side:
        return Side(None, missing[k]) if k in missing else Side(Outcome.of(policy_set.evaluate(flow)))

    changed = tuple(
        Changed(recorded.place(k), flow, side(base, flow, k, missing_before), side(head, flow, k, missing_after))
        for k, (flow, b, a) in enumerate(zip(recorded.flows, before, after))
        if b != a
    )
    return Comparison(flows=len(recorded.flows), changed=changed, absent_in_base=len(missing_before),
                      absent_in_head=len(missing_after))


# -- renderings -----------------------------------------------------------------------------


def _side(side: Side) -> dict[str, Any]:
    outcome = side.outcome
    return {"verdict": side.verdict, "decided_by": side.decided_by,
            "egress": decision_data(outcome.egress) if outcome is not None else None,
            "ingress": decision_data(outcome.ingress) if outcome is not None else None}


def record(changed: Changed) -> dict[str, Any]:
    """One changed flow as plain data (``-o json``, ``yaml``, ``jsonl``)."""
    return {"place": changed.place, "flow": flow_data(changed.flow), "change": changed.kind,
            "before": _side(changed.before), "after": _side(changed.after)}


def _decision_text(side: Side, direction: str) -> str:
    if side.outcome is None:
        return ""
    return decision_text(side.outcome.egress if direction == "egress" else side.outcome.ingress)


def _row(changed: Changed) -> dict[str, Any]:
    flow = flow_data(changed.flow)
    before, after = changed.before, changed.after
    return {
        "place": changed.place, "src": flow["src"], "dst": flow["dst"], "protocol": flow["protocol"],
        "dst_port": flow["dst_port"], "change": changed.kind, "before": before.verdict, "after": after.verdict,
        "before_decided_by": before.decided_by, "after_decided_by": after.decided_by,
        "before_egress": _decision_text(before, "egress"), "before_ingress": _decision_text(before, "ingress"),
        "after_egress": _decision_text(after, "egress"), "after_ingress": _decision_text(after, "ingress"),
    }


def summary_text(summary: dict[str, Any]) -> str:
    absent = [f"{summary[f'absent_in_{side}']} absent from the {side}, which does not have a side they name"
              for side in ("base", "head") if summary[f"absent_in_{side}"]]
    tail = f" ({'; '.join(absent)})" if absent else ""
    if not summary["changed"]:
        return f"No change: each of the {summary['flows']} recorded flows is decided as before{tail}."
    return (f"{summary['changed']} of {summary['flows']} recorded flows change: {summary['added']} newly allowed, "
            f"{summary['removed']} no longer allowed{tail}.")


def _why(side: Side) -> str:
    if side.outcome is None:
        return str(side.absent)
    parts = [f"{name} {decision_text(d)}" for name, d in (("egress", side.outcome.egress), ("ingress", side.outcome.ingress))
             if d is not None]
    return "; ".join(parts) or "not policed"


def _table(result: Comparison) -> str:
    lines = [summary_text(result.summary())]
    if result.changed:
        rows = [[n, c.place, flow_text(c.flow), f"{c.before.verdict} -> {c.after.verdict}"]
                for n, c in enumerate(result.changed, 1)]
        lines.append(formats.columns(["#", "place", "flow", "verdict"], rows))
        lines.append("")
        for n, c in enumerate(result.changed, 1):
            lines.append(f"{n}. {c.place}: {flow_text(c.flow)}")
            lines.append(f"   before: {c.before.verdict}: {_why(c.before)}")
            lines.append(f"   after:  {c.after.verdict}: {_why(c.after)}")
    return "\n".join(lines) + "\n"


def render(result: Comparison, out: IO[str], fmt: str) -> None:
    """``result`` in one of :data:`FORMATS`: json and yaml are the document
    ``{"changes": [...], "summary": {...}}``; csv and jsonl the changed flows alone."""
    if fmt == "table":
        out.write(_table(result))
        return

    def records() -> Iterator[dict[str, Any]]:
        return (record(c) for c in result.changed) if fmt != "csv" else (_row(c) for c in result.changed)

    extra = {"summary": result.summary()} if fmt in ("json", "yaml") else None
    formats.write_records(records, out, fmt, CSV_COLUMNS, key="changes", extra=extra)
