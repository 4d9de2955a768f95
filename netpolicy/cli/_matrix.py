"""Which pods reach which: the reachability matrix and its renderings as a table, JSON
and CSV (the HTML heatmap is in ``_html``)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable, Iterator, Sequence

import attrs

from ..flow import Flow, protocol_number
from ..model import Endpoint
from ..policyset import PolicySet
from ._verdict import protocol_text
from ._batch import Outcome, allowed_many, decide_many
from ._common import style

__all__ = ["Matrix", "select_endpoints", "compute", "describe", "render_table", "render_json", "render_csv"]


@attrs.frozen
class Matrix:
    """Sources × destinations (the same pods on both axes), one cell per ordered pair.

    ``allowed[i][j]`` says whether ``pods[i]`` reaches ``pods[j]``; ``outcomes[i][j]``
    holds each side's decision when it was asked for (the HTML page names the deciding
    rules).
    """

    pods: tuple[str, ...]
    protocol: int
    port: int | None
    allowed: tuple[tuple[bool, ...], ...]
    outcomes: tuple[tuple[Outcome, ...], ...] | None = None

    def records(self) -> Iterator[dict[str, Any]]:
        proto = protocol_text(self.protocol)
        for i, src in enumerate(self.pods):
            for j, dst in enumerate(self.pods):
                yield {"src": src, "dst": dst, "protocol": proto, "port": self.port, "allowed": self.allowed[i][j]}


def select_endpoints(policy_set: PolicySet, namespaces: Sequence[str]) -> list[Endpoint]:
    """The pods (namespaced endpoints with a name) in ``namespaces`` (all when empty),
    ordered by namespace then name."""
    wanted = set(namespaces)
    pods = [
        endpoint
        for endpoint in policy_set.endpoints
        if endpoint.namespace and endpoint.name and not endpoint.is_host and (not wanted or endpoint.namespace in wanted)
    ]
    return sorted(pods, key=lambda e: (e.namespace or "", e.name or ""))


def _library_matrix(policy_set: PolicySet, keys: tuple[str, ...], protocol: int, port: int | None) -> list[bool] | None:
    """The allowed cells from ``PolicySet.matrix`` (flat, row-major, in ``keys`` order),
    or None when the policy set has no such method or it covers other endpoints."""
    method = getattr(policy_set, "matrix", None)
    if not callable(method) or not keys:
        return None
    namespaces = sorted({key.split("/", 1)[0] for key in keys})
    result = method(protocol, port, namespaces)
    order = {endpoint.key: index for index, endpoint in enumerate(result.sources)}
    if set(order) != set(keys) or len(order) != len(keys):
        return None
    index = [order[key] for key in keys]
    grid = result.allowed[index][:, index]
    return [bool(x) for x in grid.ravel()]


def compute(
    policy_set: PolicySet,
    pods: Sequence[Endpoint],
    protocol: str | int,
    port: int | None,
    *,
    with_outcomes: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Matrix:
    """Decide every ordered pair: ``PolicySet.matrix`` when it is there, else the batch
    path. With ``with_outcomes`` each cell keeps both sides' decisions too."""
    number = protocol_number(protocol)
    keys = tuple(pod.key for pod in pods)
    n = len(keys)
    grid: tuple[tuple[Outcome, ...], ...] | None = None
    flat = None if with_outcomes else _library_matrix(policy_set, keys, number, port)
    if flat is not None:
        if progress is not None:
            progress(n * n)
    else:
        flows = [Flow(src=s, dst=d, protocol=number, dst_port=port) for s in keys for d in keys]
        if with_outcomes:
            outcomes = decide_many(policy_set, flows, progress=progress)
            flat = [o.allowed for o in outcomes]
            grid = tuple(tuple(outcomes[i * n : (i + 1) * n]) for i in range(n))
        else:
            flat = allowed_many(policy_set, flows, progress=progress)
    allowed = tuple(tuple(flat[i * n : (i + 1) * n]) for i in range(n))
    return Matrix(pods=keys, protocol=number, port=port, allowed=allowed, outcomes=grid)


# -- renderings -----------------------------------------------------------------------------

ALLOW_MARK = "✓"
DENY_MARK = "✗"


def render_table(matrix: Matrix) -> str:
    """Numbered rows (sources) and columns (destinations), one mark per pair."""
    if not matrix.pods:
        return "no pods"
    n = len(matrix.pods)
    number_width = len(str(n))
    name_width = max(len(p) for p in matrix.pods)
    cell = max(number_width, 1) + 1
    head = " " * (number_width + 2 + name_width) + "".join(f"{j + 1:>{cell}}" for j in range(n))
    lines = [f"{describe(matrix)}: rows are sources, columns destinations ({ALLOW_MARK} allowed, {DENY_MARK} denied)", head.rstrip()]
    for i, src in enumerate(matrix.pods):
        marks = []
        for j in range(n):
            mark = ALLOW_MARK if matrix.allowed[i][j] else DENY_MARK
            colour = "green" if matrix.allowed[i][j] else "red"
            marks.append(" " * (cell - 1) + style(mark, fg=colour))
        lines.append(f"{i + 1:>{number_width}}  {src:<{name_width}}" + "".join(marks))
    return "\n".join(lines)


def describe(matrix: Matrix) -> str:
    text = protocol_text(matrix.protocol)
    return text + (f"/{matrix.port}" if matrix.port is not None else " (any port)")


def render_json(matrix: Matrix) -> str:
    return json.dumps(list(matrix.records()), indent=2)


def render_csv(matrix: Matrix) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["src", "dst", "protocol", "port", "allowed"])
    for r in matrix.records():
        writer.writerow([r["src"], r["dst"], r["protocol"], "" if r["port"] is None else r["port"], str(r["allowed"]).lower()])
    return out.getvalue()
