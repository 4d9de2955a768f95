"""Replaying recorded flows: reading them (CSV, JSON lines, Parquet), deciding every one,
and writing per-record verdicts and a summary."""

from __future__ import annotations

import collections
import csv
import io
import json
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

import attrs

from ..errors import PolicyError
from ..flow import Flow
from ..model import Action
from ..policyset import PolicySet
from . import _formats as formats
from ._batch import allowed_many, decide_many
from ._common import InvalidInput, side_text
from ._verdict import deciding_label, protocol_text

__all__ = ["INPUT_FORMATS", "OUTPUTS", "Recorded", "read_flows", "Replay", "replay", "undecidable", "write_records",
           "summary_text"]

#: At most this many flows that cannot be decided are listed, then how many more.
MAX_LISTED = 20

INPUT_FORMATS = ("auto", "csv", "jsonl", "parquet")
#: The formats of the per-record verdicts (csv, the default, and jsonl stream the records
#: alone; json and yaml are one document with the summary; table is for a person).
OUTPUTS = ("csv", "jsonl", "table", "json", "yaml")
_COLUMNS = ("src", "dst", "protocol", "dst_port", "src_port", "icmp_type", "icmp_code")
_INTS = ("dst_port", "src_port", "icmp_type", "icmp_code")


def _guess_format(name: str, head: bytes) -> str:
    lower = name.lower()
    if lower.endswith(".parquet") or lower.endswith(".pq") or head.startswith(b"PAR1"):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    return "jsonl" if head.lstrip()[:1] == b"{" else "csv"


def _int(value: Any, column: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{column} must be an integer, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"{column} must be an integer, not {value!r}")


def _flow(record: dict[str, Any]) -> Flow:
    missing = [c for c in ("src", "dst") if record.get(c) in (None, "")]
    if missing:
        raise ValueError(f"missing {' and '.join(missing)}")
    protocol = record.get("protocol")
    if protocol is None or protocol == "":
        protocol = "TCP"
    numbers = {column: _int(record.get(column), column) for column in _INTS}
    return Flow(src=str(record["src"]), dst=str(record["dst"]), protocol=protocol, **numbers)


def _records_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"src", "dst"} <= {f.strip() for f in reader.fieldnames}:
        raise ValueError("CSV flows need a header line with at least the columns src,dst (protocol,dst_port optional)")
    for row in reader:
        record = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        yield reader.line_num, record


def _records_jsonl(text: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _LineError(number, f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield number, _LineError(number, "each line must be a JSON object")
            continue
        yield number, record


def _records_parquet(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own error types
        raise ValueError(f"not a readable Parquet file: {exc}") from None
    wanted = [c for c in _COLUMNS if c in table.column_names]
    for number, record in enumerate(table.select(wanted).to_pylist(), start=1):
        yield number, record


class _LineError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@attrs.frozen
class Recorded:
    """The flows read from one file, and the line (the row for Parquet) of each."""

    name: str
    flows: Sequence[Flow]
    lines: Sequence[int]

    def place(self, index: int) -> str:
        return f"{self.name}:{self.lines[index]}"


def read_flows(stream: IO[bytes], name: str, input_format: str = "auto", on_error: str = "fail",
               skipped: Callable[[str], None] | None = None) -> Recorded:
    """Every flow in ``stream``; a bad record exits 3 with ``name:line: message``
    (records are numbered by row for Parquet), or with ``on_error="skip"`` is left out
    and handed to ``skipped``."""
    data = stream.read()
    fmt = _guess_format(name, data[:64]) if input_format == "auto" else input_format
    try:
        if fmt == "parquet":
            records: Iterable[tuple[int, Any]] = _records_parquet(data)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
            records = _records_csv(text) if fmt == "csv" else _records_jsonl(text)
        flows = []
        lines = []
        problems = []
        for number, record in records:
            if isinstance(record, _LineError):
                if on_error != "skip":
                    raise record
                problems.append(f"{name}:{number}: {record.message}")
                continue
            try:
                flows.append(_flow(record))
                lines.append(number)
            except (PolicyError, ValueError, TypeError) as exc:
                problems.append(f"{name}:{number}: {exc}")
    except _LineError as exc:
        raise InvalidInput(f"{name}:{exc.line}: {exc.message}") from None
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from None
    if problems and on_error != "skip":
        raise InvalidInput(problems)
    for problem in problems:
        if skipped is not None:
            skipped(problem)
    return Recorded(name=name, flows=flows, lines=lines)


@attrs.frozen
class Replay:
    """Per-flow results in input order; ``decided_by`` is empty when decisions were not
    asked for."""

    flows: Sequence[Flow]
    allowed: Sequence[bool]
    decided_by: Sequence[str]

    def summary(self) -> dict[str, Any]:
        allowed = sum(1 for a in self.allowed if a)
        data: dict[str, Any] = {"flows": len(self.flows), "allowed": allowed, "denied": len(self.flows) - allowed}
        if self.decided_by:
            by: dict[str, collections.Counter[str]] = {"Allow": collections.Counter(), "Deny": collections.Counter()}
            for ok, label in zip(self.allowed, self.decided_by):
                by["Allow" if ok else "Deny"][label] += 1
            data["by_decision"] = {
                action: [{"decided_by": label, "flows": count} for label, count in counter.most_common()]
                for action, counter in by.items()
            }
        return data


def replay(
    policy_set: PolicySet,
    recorded: Recorded,
    *,
    decisions: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Replay:
    """Decide every flow with the batch path; with ``decisions``, also name what decided
    each one. A flow that cannot be decided (an unknown pod, sides without a common IP
    family) exits 3 with ``file:line: message`` for each such flow."""
    try:
        return _replay(policy_set, recorded.flows, decisions=decisions, progress=progress)
    except PolicyError as exc:
        raise InvalidInput(undecidable(policy_set, recorded) or InvalidInput.from_error(exc).lines) from exc


def undecidable(policy_set: PolicySet, recorded: Recorded) -> list[str]:
    """``file:line: message`` for each flow that cannot be decided (at most MAX_LISTED,
    then how many more)."""
    found: list[str] = []
    more = 0
    for index, flow in enumerate(recorded.flows):
        try:
            policy_set.evaluate(flow)
        except PolicyError as exc:
            if len(found) < MAX_LISTED:
                lines = InvalidInput.from_error(exc).lines
                found.append(f"{recorded.place(index)}: {lines[0] if lines else type(exc).__name__}")
            else:
                more += 1
    if more:
        found.append(f"{recorded.name}: and {more} more flows that cannot be decided")
    return found


def _replay(
    policy_set: PolicySet, flows: Sequence[Flow], *, decisions: bool, progress: Callable[[int], None] | None
) -> Replay:
    if decisions:
        outcomes = decide_many(policy_set, flows, progress=progress)
        return Replay(flows=flows, allowed=[o.allowed for o in outcomes], decided_by=[deciding_label(o) for o in outcomes])
    return Replay(flows=flows, allowed=allowed_many(policy_set, flows, progress=progress), decided_by=[])


def _record(flow: Flow, allowed: bool, label: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "src": side_text(flow.src),
        "dst": side_text(flow.dst),
        "protocol": protocol_text(flow.protocol),
        "dst_port": flow.dst_port,
        "action": Action.ALLOW.value if allowed else Action.DENY.value,
        "allowed": allowed,
    }
    if label is not None:
        record["decided_by"] = label
    return record


def write_records(result: Replay, out: IO[str], fmt: str) -> None:
    """Per-record verdicts in one of :data:`OUTPUTS`; json and yaml are the document
    ``{"records": [...], "summary": {...}}``."""
    labels: Sequence[str | None] = result.decided_by or [None] * len(result.flows)

    def records() -> Iterator[dict[str, Any]]:
        return (_record(f, a, lbl) for f, a, lbl in zip(result.flows, result.allowed, labels))

    columns = ["src", "dst", "protocol", "dst_port", "action", "allowed"] + (["decided_by"] if result.decided_by else [])
    if fmt == "table":
        columns.remove("allowed")
    extra = {"summary": result.summary()} if fmt in ("json", "yaml") else None
    formats.write_records(records, out, fmt, columns, extra=extra)


def summary_text(summary: dict[str, Any]) -> str:
    lines = [f"{summary['flows']} flows: {summary['allowed']} allowed, {summary['denied']} denied"]
    for action, title in (("Allow", "allowed by"), ("Deny", "denied by")):
        entries = summary.get("by_decision", {}).get(action, [])
        if entries:
            lines.append(f"{title}:")
            width = max(len(str(e["flows"])) for e in entries)
            lines.extend(f"  {e['flows']:>{width}}  {e['decided_by']}" for e in entries)
    return "\n".join(lines)
