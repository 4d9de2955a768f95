"""Which pods reach which: the reachability matrix and its renderings as a table, JSON
and CSV (the HTML heatmap is in ``_html``). Without a port, a cell says on which ports
(ICMP types and codes) of the protocol the pair may connect, as ``connections`` does."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable, Iterator, Sequence

import attrs

from ..analysis.grid import Ranges, port_grid
from ..analysis.keyspace import ICMP, PORTED, range_text
from ..flow import Flow, protocol_number
from ..model import Endpoint
from ..policyset import PolicySet
from ._verdict import protocol_text
from ._batch import Outcome, allowed_many, decide_many
from ._common import style

__all__ = ["Matrix", "select_endpoints", "compute", "describe", "describe_flow", "render_table", "render_json", "render_csv"]


@attrs.frozen
class Matrix:
    """Sources × destinations (the same pods on both axes), one cell per ordered pair.

    ``allowed[i][j]`` says whether ``pods[i]`` reaches ``pods[j]`` (without a port: on
    some port); ``outcomes[i][j]`` holds each side's decision when it was asked for (the
    HTML page names the deciding rules); ``ports[i][j]``, without a port, the allowed
    port ranges (see :func:`netpolicy.analysis.grid.port_grid`).
    """

    pods: tuple[str, ...]
    protocol: int
    port: int | None
    allowed: tuple[tuple[bool, ...], ...]
    outcomes: tuple[tuple[Outcome, ...], ...] | None = None
    ports: tuple[tuple[Ranges, ...], ...] | None = None

    def ranges_text(self, i: int, j: int) -> list[str]:
        """The allowed ranges of cell ``(i, j)`` as text (``443``, ``8080-8090``; ICMP
        ``8/0``, ``3``), without a port; ``[]`` for none."""
        if self.ports is None:
            return []
        return [range_text(self.protocol, a, b) for a, b in self.ports[i][j]]

    def everything(self, i: int, j: int) -> bool:
        """Whether every port (ICMP type and code) of the protocol is allowed in ``(i, j)``."""
        return self.ports is not None and self.ports[i][j] == _FULL.get(self.protocol, ((0, 0),))

    def records(self) -> Iterator[dict[str, Any]]:
        proto = protocol_text(self.protocol)
        for i, src in enumerate(self.pods):
            for j, dst in enumerate(self.pods):
                record: dict[str, Any] = {"src": src, "dst": dst, "protocol": proto, "port": self.port, "allowed": self.allowed[i][j]}
                if self.ports is not None:
                    record["ports"] = self.ranges_text(i, j)
                yield record


_FULL = {**{p: ((1, 65535),) for p in PORTED}, **{p: ((0, 255 * 256 - 1),) for p in ICMP}}


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
    path. With ``with_outcomes`` each cell keeps both sides' decisions too. Without a
    port, each cell's open ports come from the compiled tables (``port_grid``)."""
    number = protocol_number(protocol)
    keys = tuple(pod.key for pod in pods)
    n = len(keys)
    if port is None:
        open_ports = port_grid(policy_set, pods, number)
        if progress is not None:
            progress(n * n)
        ports = tuple(tuple(row) for row in open_ports)
        allowed_any = tuple(tuple(bool(cell) for cell in row) for row in ports)
        return Matrix(pods=keys, protocol=number, port=None, allowed=allowed_any, ports=ports)
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
    if matrix.ports is None:
        legend = f"{ALLOW_MARK} allowed, {DENY_MARK} denied"
    elif matrix.protocol in PORTED or matrix.protocol in ICMP:
        unit = "port ranges" if matrix.protocol in PORTED else "ranges of types and codes"
        legend = f"{ALLOW_MARK} all allowed, 1-9 allowed on that many {unit}, + on more, {DENY_MARK} none"
    else:
        legend = f"{ALLOW_MARK} allowed, {DENY_MARK} denied"
    lines = [f"{describe(matrix)}: rows are sources, columns destinations ({legend})", head.rstrip()]
    partial: list[str] = []
    for i, src in enumerate(matrix.pods):
        marks = []
        for j in range(n):
            mark = ALLOW_MARK if matrix.allowed[i][j] else DENY_MARK
            colour = "green" if matrix.allowed[i][j] else "red"
            if matrix.allowed[i][j] and matrix.ports is not None and not matrix.everything(i, j):
                count = len(matrix.ports[i][j])
                mark, colour = (str(count) if count < 10 else "+"), "yellow"
                partial.append(f"{i + 1} -> {j + 1}: {','.join(matrix.ranges_text(i, j))}")
            marks.append(" " * (cell - 1) + style(mark, fg=colour))
        lines.append(f"{i + 1:>{number_width}}  {src:<{name_width}}" + "".join(marks))
    if partial:
        lines.append("")
        lines.append("open ports:")
        lines.extend("  " + line for line in partial)
    return "\n".join(lines)


def describe(matrix: Matrix) -> str:
    return describe_flow(matrix.protocol, matrix.port)


def describe_flow(protocol: int, port: int | None) -> str:
    """``TCP/443``; without a port ``TCP, any port`` (``ICMP, any type and code``)."""
    text = protocol_text(protocol)
    if port is not None:
        return f"{text}/{port}"
    return f"{text}, {'any type and code' if protocol in ICMP else 'any port' if protocol in PORTED else 'the protocol'}"


def render_json(matrix: Matrix) -> str:
    return json.dumps(list(matrix.records()), indent=2)


def render_csv(matrix: Matrix) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    ports = matrix.ports is not None
    writer.writerow(["src", "dst", "protocol", "port", "allowed"] + (["ports"] if ports else []))
    for r in matrix.records():
        row = [r["src"], r["dst"], r["protocol"], "" if r["port"] is None else r["port"], str(r["allowed"]).lower()]
        writer.writerow(row + ([" ".join(r["ports"])] if ports else []))
    return out.getvalue()
