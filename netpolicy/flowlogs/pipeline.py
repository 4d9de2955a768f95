"""Replaying a flow log: read it in batches, decide each distinct flow once, compare with
what was logged, write one output record per input record and count everything.

Memory is bounded by the batch size and the number of distinct flows kept
(:data:`~.decide.KEPT`), not by the log's length.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import IO, Any, Callable, Sequence

import numpy as np

from ..model import PROTOCOL_NAMES
from ..policyset import PolicySet
from .batch import LogBatch, RecordError, unique_rows
from .check import Check, Checker
from .decide import Decider, Outcome
from .reading import DEFAULT_BATCH, read_batches
from .summary import Summary

__all__ = ["replay", "OUTPUTS", "columns_for"]

#: Output formats of the per-record results.
OUTPUTS = ("csv", "jsonl")
_BASE = ("src", "dst", "protocol", "dst_port", "verdict", "decided_by", "certainty", "reason")
_LOGGED = ("reporter", "logged_action", "netpolicy_action", "agrees", "logged_hit", "netpolicy_hit",
           "hits_agree", "netpolicy_pending", "logged_pending", "pending_agrees")
_CALICO = ("goldmane", "whisker", "enterprise")


def columns_for(input_format: str) -> tuple[str, ...]:
    """The output columns: what netpolicy decides, and for Calico's logs the comparison."""
    if input_format in _CALICO:
        return ("place", "count") + _BASE + _LOGGED
    return ("place",) + _BASE


def _fields(batch: LogBatch, k: int, outcome: Outcome, check: Check | None) -> dict[str, Any]:
    src, dst = batch.src_values[int(batch.src[k])], batch.dst_values[int(batch.dst[k])]
    protocol = int(batch.protocol[k])
    data: dict[str, Any] = {
        "src": src.text(), "dst": dst.text(), "protocol": PROTOCOL_NAMES.get(protocol, str(protocol)),
        "dst_port": int(batch.dst_port[k]) or None, "verdict": outcome.action or "", "decided_by": outcome.label,
        "certainty": outcome.certainty, "reason": "; ".join(outcome.reasons),
    }
    if check is not None:
        data.update({
            "reporter": check.reporter, "logged_action": check.logged, "netpolicy_action": check.expected,
            "agrees": check.agrees, "logged_hit": check.logged_hit, "netpolicy_hit": check.netpolicy_hit,
            "hits_agree": check.hits_agree, "netpolicy_pending": check.pending_expected,
            "logged_pending": check.logged_pending, "pending_agrees": check.pending_agrees,
        })
    return data


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Writer:
    """Renders each distinct (outcome, check) once; records add their place and count."""

    def __init__(self, out: IO[str] | None, fmt: str, columns: Sequence[str]) -> None:
        if fmt not in OUTPUTS:
            raise ValueError(f"output format must be one of {', '.join(OUTPUTS)}, not {fmt!r}")
        self.out, self.fmt, self.columns = out, fmt, columns
        self.logged = "count" in columns
        if out is not None and fmt == "csv":
            out.write(",".join(columns) + "\n")

    def template(self, fields: dict[str, Any]) -> str:
        rest = [c for c in self.columns if c not in ("place", "count")]
        if self.fmt == "jsonl":
            return ", ".join(f"{json.dumps(c)}: {json.dumps(fields.get(c))}" for c in rest) + "}\n"
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([_csv_text(fields.get(c)) for c in rest])
        return buffer.getvalue()

    def write(self, batch: LogBatch, group: np.ndarray, templates: list[str]) -> None:
        out = self.out
        if out is None:
            return
        places = [batch.place(k) for k in range(len(batch))]
        counts = batch.count.tolist()
        lines = []
        if self.fmt == "jsonl":
            for k, g in enumerate(group.tolist()):
                count = f'"count": {counts[k]}, ' if self.logged else ""
                lines.append(f'{{"place": {json.dumps(places[k])}, {count}{templates[g]}')
        else:
            for k, g in enumerate(group.tolist()):
                place = places[k] if "," not in places[k] and '"' not in places[k] else '"' + places[k].replace('"', '""') + '"'
                count = f"{counts[k]}," if self.logged else ""
                lines.append(f"{place},{count}{templates[g]}")
        out.write("".join(lines))


def replay(
    policy_set: PolicySet,
    source: str | os.PathLike[str] | IO[bytes],
    input_format: str,
    *,
    name: str | None = None,
    out: IO[str] | None = None,
    output_format: str = "csv",
    batch_size: int = DEFAULT_BATCH,
    on_error: str = "fail",
    skipped: Callable[[RecordError], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Replays a flow log (a path or a binary stream) in ``input_format`` against
    ``policy_set``: per-record results to ``out`` (CSV or JSON lines, columns
    :func:`columns_for`), the :class:`Summary` returned. A malformed record raises
    :class:`~.reading.RecordErrors` (``on_error="fail"``) or is skipped and handed to
    ``skipped``. ``out`` is written as batches are decided: give a temporary file when
    nothing may be written on failure."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return replay(policy_set, stream, input_format, name=name or os.fspath(source), out=out,
                          output_format=output_format, batch_size=batch_size, on_error=on_error, skipped=skipped,
                          progress=progress)
    summary = Summary()

    def count_skipped(error: RecordError) -> None:
        summary.skipped += 1
        if skipped is not None:
            skipped(error)

    decider, checker = Decider(policy_set), Checker(policy_set)
    writer = _Writer(out, output_format, columns_for(input_format))
    logged = input_format in _CALICO
    label = name or str(getattr(source, "name", "<input>"))
    for batch in read_batches(source, input_format, source=label,
                              batch_size=batch_size, on_error=on_error, skipped=count_skipped):
        _replay_batch(policy_set, batch, decider, checker, writer, summary, logged)
        if progress is not None:
            progress(len(batch))
    return summary


def _replay_batch(ps: PolicySet, batch: LogBatch, decider: Decider, checker: Checker, writer: _Writer,
                  summary: Summary, logged: bool) -> None:
    if not len(batch):
        return
    where = decider.decide(batch)
    first, group = unique_rows([where, batch.reporter, batch.logged, batch.enforced, batch.pending])
    distinct = np.stack([where[first], batch.reporter[first], batch.logged[first], batch.enforced[first],
                         batch.pending[first]], axis=1).astype(np.int64)
    records = np.bincount(group, minlength=len(distinct))
    connections = np.bincount(group, weights=batch.count, minlength=len(distinct))
    templates = []
    for g, (index, reporter, logged_action, enforced, pending) in enumerate(distinct.tolist()):
        outcome = decider.outcomes[index]
        enforced_text, pending_text = batch.hit_values[enforced], batch.hit_values[pending]
        check = checker.check(outcome, reporter, logged_action, enforced_text, pending_text) if logged else None
        k = int(first[g])

        def traces(outcome: Outcome = outcome, logged_trace: str = enforced_text) -> tuple[str, str]:
            ours = ps.evaluate(outcome.flow).explain() if outcome.flow is not None else ""
            return logged_trace.replace(";", "\n"), ours

        summary.add(outcome, check, int(records[g]), int(connections[g]), batch.place(k),
                    key=(id(outcome), reporter, logged_action, enforced_text, pending_text), traces=traces)
        templates.append(writer.template(_fields(batch, k, outcome, check)) if writer.out is not None else "")
    writer.write(batch, group, templates)
