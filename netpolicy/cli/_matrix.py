"""Which pods reach which: the reachability matrix and its renderings (table, JSON, CSV,
and a self-contained HTML heatmap)."""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any, Callable, Iterator, Sequence

import attrs

from ..flow import Flow, protocol_number
from ..model import Endpoint
from ..policyset import PolicySet
from ._verdict import decision_text, protocol_text
from ._batch import Outcome, allowed_many, decide_many
from ._common import style

__all__ = ["Matrix", "select_endpoints", "compute", "render_table", "render_json", "render_csv", "render_html"]


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


_CSS = """
:root { --allow: #2e9d4f; --deny: #d0433b; --ns: #222; }
* { box-sizing: border-box; }
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.meta { margin: 0 0 12px; color: #555; }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin: 0 4px 0 12px; }
.wrap { overflow: auto; max-height: calc(100vh - 110px); border: 1px solid #ddd; }
table.m { border-collapse: separate; border-spacing: 1px; font-size: 11px; line-height: 12px; }
table.m td { width: 12px; height: 12px; min-width: 12px; max-width: 12px; padding: 0; }
table.m td.a { background: var(--allow); }
table.m td.d { background: var(--deny); }
table.m td:hover { outline: 2px solid #000; }
table.m .first-col { box-shadow: inset 2px 0 0 var(--ns); }
table.m tr.first-row td { box-shadow: inset 0 2px 0 var(--ns); }
table.m tr.first-row td.first-col { box-shadow: inset 2px 2px 0 var(--ns); }
table.m th { font-weight: normal; white-space: nowrap; background: #fff; padding: 0 4px; }
table.m thead th { position: sticky; z-index: 2; }
table.m thead tr.ns th { top: 0; height: 18px; padding: 0; text-align: left; }
table.m thead tr.ns th.ns div { overflow: hidden; text-overflow: ellipsis; font-weight: 600;
                                border-bottom: 2px solid var(--ns); padding: 2px 0 1px 2px; }
table.m thead tr.pods th { top: 19px; writing-mode: vertical-rl; transform: rotate(180deg); text-align: left;
                           padding: 4px 0; max-width: 12px; }
table.m tbody th { position: sticky; left: 0; z-index: 1; text-align: right; }
table.m th.corner { left: 0; z-index: 3; }
#tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 6px 8px; border-radius: 4px;
       white-space: pre; font: 12px/1.4 ui-monospace, monospace; display: none; z-index: 10; max-width: 90vw; }
"""

_JS = """
(function () {
  var R = JSON.parse(document.getElementById('reasons').textContent);
  var tip = document.getElementById('tip');
  var heads = document.querySelectorAll('thead tr.pods th');
  function text(td) {
    var tr = td.parentNode, col = Array.prototype.indexOf.call(tr.querySelectorAll('td'), td);
    var src = tr.querySelector('th.pod').textContent, dst = heads[col].getAttribute('data-pod');
    var v = td.getAttribute('data-v').split(',');
    return src + ' -> ' + dst + ': ' + (td.classList.contains('a') ? 'Allow' : 'Deny') +
      '\\negress:  ' + R[+v[0]] + '\\ningress: ' + R[+v[1]];
  }
  document.querySelector('table.m').addEventListener('mousemove', function (ev) {
    var td = ev.target.closest('td');
    if (!td) { tip.style.display = 'none'; return; }
    tip.textContent = text(td);
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 14;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
  document.querySelector('table.m').addEventListener('mouseleave', function () { tip.style.display = 'none'; });
})();
"""


def _groups(pods: Sequence[str]) -> list[tuple[str, int]]:
    groups: list[tuple[str, int]] = []
    for pod in pods:
        namespace = pod.split("/", 1)[0]
        if groups and groups[-1][0] == namespace:
            groups[-1] = (namespace, groups[-1][1] + 1)
        else:
            groups.append((namespace, 1))
    return groups


def render_html(matrix: Matrix, *, title: str = "netpolicy reachability") -> str:
    """One self-contained page: a heatmap of sources (rows) × destinations (columns),
    grouped by namespace; hovering a cell names the deciding policy and rule of each side.

    Each cell is a ``<td>`` with class ``a`` (allowed) or ``d`` (denied) and ``data-v``
    holding indexes into the page's table of decision texts (egress, ingress)."""
    if matrix.outcomes is None:
        raise ValueError("the HTML matrix needs the decisions: compute(..., with_outcomes=True)")
    esc = html.escape
    reasons: list[str] = []
    index: dict[str, int] = {}

    def reason(text: str) -> int:
        if text not in index:
            index[text] = len(reasons)
            reasons.append(text)
        return index[text]

    groups = _groups(matrix.pods)
    first_of_group = set()
    at = 0
    for _, size in groups:
        first_of_group.add(at)
        at += size
    allowed_count = sum(sum(row) for row in matrix.allowed)
    total = len(matrix.pods) ** 2

    out = io.StringIO()
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{esc(title)}</h1>\n")
    w(
        f"<p class=\"meta\">{esc(describe(matrix))} &middot; {len(matrix.pods)} pods &middot; "
        f"{allowed_count} of {total} pairs allowed &middot; rows are sources, columns destinations"
        f"<span class=\"legend\"><span style=\"background:var(--allow)\"></span>allowed"
        f"<span style=\"background:var(--deny)\"></span>denied</span></p>\n"
    )
    w("<div class=\"wrap\">\n<table class=\"m\">\n<thead>\n<tr class=\"ns\"><th class=\"corner\"></th>")
    for namespace, size in groups:
        width = size * 13 - 1  # cells are 12px with 1px spacing
        w(f"<th class=\"ns\" colspan=\"{size}\"><div style=\"width:{width}px\" title=\"{esc(namespace)}\">{esc(namespace)}</div></th>")
    w("</tr>\n<tr class=\"pods\"><th class=\"corner\"></th>")
    for j, pod in enumerate(matrix.pods):
        cls = " class=\"first-col\"" if j in first_of_group else ""
        w(f"<th{cls} data-pod=\"{esc(pod)}\" title=\"{esc(pod)}\">{esc(pod.split('/', 1)[1])}</th>")
    w("</tr>\n</thead>\n<tbody>\n")
    for i, src in enumerate(matrix.pods):
        w("<tr class=\"first-row\">" if i in first_of_group else "<tr>")
        w(f"<th class=\"pod\" data-pod=\"{esc(src)}\">{esc(src)}</th>")
        for j in range(len(matrix.pods)):
            outcome = matrix.outcomes[i][j]
            if i == j and outcome.egress is None and outcome.ingress is None:
                egress = ingress = reason("same endpoint: allowed without evaluation")
            else:
                egress = reason(decision_text(outcome.egress))
                ingress = reason(decision_text(outcome.ingress))
            cls = "a" if outcome.allowed else "d"
            first = " first-col" if j in first_of_group else ""
            w(f"<td class=\"{cls}{first}\" data-v=\"{egress},{ingress}\"></td>")
        w("</tr>\n")
    w("</tbody>\n</table>\n</div>\n<div id=\"tip\"></div>\n")
    data = json.dumps(reasons).replace("</", "<\\/")
    w(f"<script type=\"application/json\" id=\"reasons\">{data}</script>\n")
    w(f"<script>{_JS}</script>\n</body>\n</html>\n")
    return out.getvalue()
