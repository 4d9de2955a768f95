"""Flow sides named as kubectl names them, and flows that stand for several: a Service
(each backend after DNAT) or a workload whose Pods are in the input."""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import PolicyError
from ..flow import Flow
from ..policyset import PolicySet
from ..resolve.fanout import expand
from ..resolve.names import KIND_NAMES
from ..verdict import Verdict, Verdicts
from ._common import InvalidInput, style
from ._formats import columns
from ._verdict import action_text, flow_data, verdict_data, verdict_table

__all__ = [
    "qualify", "decide", "result_table", "result_data", "result_explain", "explain_data", "explain_table", "synthetic_note",
]

def qualify(side: str, namespaces: Sequence[str]) -> str:
    """``KIND/NAME`` in the namespace ``-n`` gives, as kubectl reads it."""
    parts = side.split("/")
    if namespaces and len(parts) == 2 and parts[0].lower() in KIND_NAMES:
        return f"{namespaces[0]}/{side}"
    return side


def decide(policy_set: PolicySet, flow: Flow) -> Verdict | Verdicts:
    """The verdict on ``flow``, or the verdicts on every flow it stands for; invalid
    input (exit 3) for a side that names nothing or a Service port it does not have."""
    try:
        fanout = expand(policy_set, flow)
        if not fanout.fanned:  # the flow between the endpoints named, as output names them
            return policy_set.evaluate(fanout.flows[0] if len(fanout.flows) == 1 else flow)
        return policy_set.evaluate_each(flow)
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc


_SUMMARY = {"all": "allowed to all", "some": "allowed to some", "none": "allowed to none"}


def synthetic_note(verdict: Verdict | Verdicts) -> str | None:
    if not verdict.depends_on_synthetic_address:
        return None
    return "depends on a synthetic address (explain shows which test): the pods' real addresses may decide otherwise"


def result_table(result: Verdict | Verdicts) -> str:
    """The verdict(s) as ``KEY  value`` lines; several flows one block each, then the
    summary."""
    if isinstance(result, Verdict):
        text = verdict_table(result)
        note = synthetic_note(result)
        return text + (f"\nNOTE     {note}" if note else "")
    blocks = [verdict_table(verdict) for verdict in result]
    lines = ["\n\n".join(blocks)] if blocks else []
    count = sum(verdict.allowed for verdict in result)
    summary = f"{_SUMMARY[result.summary]} ({count} of {len(result)}) from {result.src} to {result.dst}"
    colour = "green" if result.summary == "all" else "red" if result.summary == "none" else "yellow"
    lines.append(("\n" if blocks else "") + f"SUMMARY  {style(summary, fg=colour, bold=True)}")
    lines.extend(f"NOTE     {note}" for note in result.notes)
    note = synthetic_note(result)
    if note:
        lines.append(f"NOTE     {note}")
    return "\n".join(lines)


def result_data(result: Verdict | Verdicts) -> dict[str, Any]:
    """The verdict(s) as JSON-ready data."""
    if isinstance(result, Verdict):
        data = verdict_data(result)
        data["depends_on_synthetic_address"] = result.depends_on_synthetic_address
        return data
    return {
        "flow": flow_data(result.flow),
        "src": result.src,
        "dst": result.dst,
        "summary": result.summary,
        "allowed": result.allowed,
        "verdicts": [
            {**verdict_data(verdict), "depends_on_synthetic_address": verdict.depends_on_synthetic_address}
            for verdict in result
        ],
        "notes": list(result.notes),
    }


def result_explain(result: Verdict | Verdicts) -> str:
    """The readable trace(s), the final verdict coloured."""
    if isinstance(result, Verdicts):
        parts = [_coloured(verdict) for verdict in result]
        text = "\n\n".join(parts)
        notes = "".join(f"\nnote: {note}" for note in result.notes)
        count = sum(verdict.allowed for verdict in result)
        summary = f"{_SUMMARY[result.summary]} ({count} of {len(result)}) from {result.src} to {result.dst}"
        return f"{text}{notes}\n\nsummary: {summary}" if text else f"{notes.lstrip()}\nsummary: {summary}".lstrip()
    return _coloured(result)


def _coloured(verdict: Verdict) -> str:
    lines = verdict.explain().splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] == f"verdict: {verdict.action}":
            lines[index] = "verdict: " + action_text(verdict.action)
            break
    return "\n".join(lines)


def _trace(verdict: Verdict) -> list[dict[str, Any]]:
    return [{"event": step.event, "depth": step.depth, "text": step.text} for step in verdict.steps()]


def explain_data(result: Verdict | Verdicts) -> dict[str, Any]:
    """``explain -o json``: :func:`result_data`, each verdict with its ``trace``."""
    data = result_data(result)
    if isinstance(result, Verdict):
        data["trace"] = _trace(result)
    else:
        for entry, verdict in zip(data["verdicts"], result):
            entry["trace"] = _trace(verdict)
    return data


def _steps_table(verdict: Verdict) -> str:
    return columns(["event", "trace"], [(step.event, "  " * step.depth + step.text) for step in verdict.steps()])


def explain_table(result: Verdict | Verdicts) -> str:
    """``explain -o table``: one row per step of the trace (several flows: a table each,
    then the summary)."""
    if isinstance(result, Verdict):
        return _steps_table(result)
    blocks = [_steps_table(verdict) for verdict in result]
    count = sum(verdict.allowed for verdict in result)
    summary = f"SUMMARY  {_SUMMARY[result.summary]} ({count} of {len(result)}) from {result.src} to {result.dst}"
    tail = "\n".join([summary, *(f"NOTE     {note}" for note in result.notes)])
    return "\n\n".join([*blocks, tail])
