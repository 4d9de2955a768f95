"""The matrix as one self-contained HTML page (a heatmap), within a size budget.

One row and column per pod while the page fits the budget; above it, one per workload
(replicas collapsed), then one per namespace, and the page and stderr say so. A cell of
a group counts the allowed pod pairs between the two groups; its tooltip names the
deciding rules of one pair of them.
"""

from __future__ import annotations

import html
import io
import json
from typing import Callable, Sequence

import attrs
import numpy as np

from ..flow import Flow
from ..model import Endpoint
from ..policyset import PolicySet
from . import _workloads
from ._batch import Outcome, decide_many
from ._matrix import Matrix, compute, describe
from ._verdict import decision_text

__all__ = ["DEFAULT_BUDGET_MB", "Page", "page", "render", "cells_lower_bound"]

#: The default largest page, in MB (10**6 bytes).
DEFAULT_BUDGET_MB = 20.0

_CELL_MIN = len('<td class="a" data-v="0,0"></td>')  # the smallest cell in bytes
_SAME = "same endpoint: allowed without evaluation"


def cells_lower_bound(rows: int) -> int:
    """Bytes a page of ``rows`` × ``rows`` cells takes at least."""
    return rows * rows * _CELL_MIN


@attrs.frozen
class Page:
    """The page, the level it shows (``pods``, ``workloads`` or ``namespaces``), and the
    note saying why it is not one row per pod (None when it is)."""

    text: str
    level: str
    rows: int
    note: str | None = None


@attrs.frozen
class _Grid:
    groups: Sequence[_workloads.Group]
    allowed: Sequence[Sequence[int]]  # allowed pod pairs per group pair
    firsts: Sequence[str]  # the pod standing for each group
    examples: Sequence[Sequence[Outcome | None]]  # their pair's outcome (None: the same endpoint)


def _pod_grid(matrix: Matrix, pods: Sequence[Endpoint]) -> _Grid:
    assert matrix.outcomes is not None
    outcomes = matrix.outcomes
    grid = [[None if i == j and o.egress is None and o.ingress is None else o for j, o in enumerate(row)] for i, row in enumerate(outcomes)]
    return _Grid(_workloads.by_pod(pods), [[int(a) for a in row] for row in matrix.allowed], [p.key for p in pods], grid)


def _group_grid(
    policy_set: PolicySet, pods: Sequence[Endpoint], matrix: Matrix, groups: Sequence[_workloads.Group]
) -> _Grid:
    order = np.fromiter((i for g in groups for i in g.members), dtype=np.intp, count=len(pods))
    starts = np.cumsum([0] + [len(g.members) for g in groups[:-1]])
    cells = np.asarray(matrix.allowed, dtype=np.int64).reshape(len(pods), len(pods))[order][:, order]
    counts = np.add.reduceat(np.add.reduceat(cells, starts, axis=0), starts, axis=1).tolist()
    firsts = [pods[g.members[0]].key for g in groups]
    flows = [Flow(src=s, dst=d, protocol=matrix.protocol, dst_port=matrix.port) for s in firsts for d in firsts]
    decided = decide_many(policy_set, flows)
    n = len(groups)
    examples: list[list[Outcome | None]] = []
    for i in range(n):
        row: list[Outcome | None] = []
        for j in range(n):
            o = decided[i * n + j]
            row.append(None if i == j and o.egress is None and o.ingress is None else o)
        examples.append(row)
    return _Grid(groups, counts, firsts, examples)


def page(
    policy_set: PolicySet,
    pods: Sequence[Endpoint],
    protocol: int,
    port: int | None,
    *,
    budget: int,
    progress: Callable[[int], None] | None = None,
) -> Page:
    """The finest page that fits ``budget`` bytes (0: no budget): pods, else workloads,
    else namespaces (which is given even above the budget, and says so)."""
    decided: Matrix | None = None
    levels = _workloads.LEVELS
    too_large: list[tuple[str, int, str]] = []  # (level, rows, size) of the pages that did not fit
    finer = -1  # rows of the finer level tried last
    for number, (level, grouping) in enumerate(levels):
        last = number == len(levels) - 1
        groups = grouping(pods)
        if not last and finer >= 0 and len(groups) >= finer:
            continue  # no fewer rows than the finer level: no smaller page
        finer = len(groups)
        if budget and not last and cells_lower_bound(len(groups)) > budget:
            too_large.append((level, len(groups), "at least " + _size(cells_lower_bound(len(groups)))))
            continue
        if level == "pods":
            matrix = compute(policy_set, pods, protocol, port, with_outcomes=True, progress=progress)
            grid = _pod_grid(matrix, pods)
            decided = attrs.evolve(matrix, outcomes=None)
        else:
            if decided is None:
                decided = compute(policy_set, pods, protocol, port, progress=progress)
            grid = _group_grid(policy_set, pods, decided, groups)
        note = _note(too_large, level, len(groups), budget) if too_large else None
        text = render(grid, decided, level=level, note=note)
        size = len(text.encode("utf-8"))
        if not budget or size <= budget or last:
            if budget and size > budget:
                note = f"{note} Even so the page takes {_size(size)}, above the budget."
                text = render(grid, decided, level=level, note=note)
            return Page(text=text, level=level, rows=len(groups), note=note)
        too_large.append((level, len(groups), _size(size)))
    raise AssertionError("the last level always gives a page")  # pragma: no cover


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _note(too_large: Sequence[tuple[str, int, str]], level: str, rows: int, budget: int) -> str:
    parts = [f"one row per {name[:-1]} ({count} {name}) {size}" for name, count, size in too_large]
    parts[0] = parts[0].replace(") ", ") would make the page ", 1)
    what = " (each the pods of one controller, or of one namespace, service account and labels)" if level == "workloads" else ""
    text = (
        f"{' and '.join(parts)}, above the budget of {_size(budget)} (--html-budget): "
        f"rows and columns are the {rows} {level}{what}. "
        "A cell counts the allowed pod pairs; its tooltip names the deciding rules of one pair."
    )
    return text[0].upper() + text[1:]


_CSS = """
:root { --allow: #2e9d4f; --deny: #d0433b; --some: #e8a33d; --ns: #222; }
* { box-sizing: border-box; }
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.meta { margin: 0 0 12px; color: #555; }
p.note { margin: 0 0 12px; padding: 6px 8px; background: #fff6e0; border-left: 3px solid var(--some); }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin: 0 4px 0 12px; }
.wrap { overflow: auto; max-height: calc(100vh - 110px); border: 1px solid #ddd; }
table.m { border-collapse: separate; border-spacing: 1px; font-size: 11px; line-height: 12px; }
table.m td { width: 12px; height: 12px; min-width: 12px; max-width: 12px; padding: 0; }
table.m td.a { background: var(--allow); }
table.m td.d { background: var(--deny); }
table.m td.s { background: var(--some); }
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
  function key(th) { return th.getAttribute('data-pod') || th.getAttribute('data-group'); }
  function text(td) {
    var tr = td.parentNode, col = Array.prototype.indexOf.call(tr.querySelectorAll('td'), td);
    var row = tr.querySelector('th.pod'), head = heads[col];
    var v = td.getAttribute('data-v').split(','), n = td.getAttribute('data-n');
    var why = '\\negress:  ' + R[+v[0]] + '\\ningress: ' + R[+v[1]];
    if (!n) {
      return key(row) + ' -> ' + key(head) + ': ' + (td.classList.contains('a') ? 'Allow' : 'Deny') + why;
    }
    var counts = n.split('/');
    return key(row) + ' -> ' + key(head) + ': ' + counts[0] + ' of ' + counts[1] + ' pod pairs allowed' +
      '\\nfor example ' + row.getAttribute('data-eg') + ' -> ' + head.getAttribute('data-eg') + ': ' +
      (v[2] === '1' ? 'Allow' : 'Deny') + why;
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


def _namespaces(groups: Sequence[_workloads.Group]) -> list[tuple[str, int]]:
    spans: list[tuple[str, int]] = []
    for group in groups:
        if spans and spans[-1][0] == group.namespace:
            spans[-1] = (group.namespace, spans[-1][1] + 1)
        else:
            spans.append((group.namespace, 1))
    return spans


def render(grid: _Grid, matrix: Matrix, *, level: str = "pods", note: str | None = None, title: str = "netpolicy reachability") -> str:
    """The page of ``grid``. Each cell is a ``<td>`` with class ``a`` (allowed), ``d``
    (denied) or ``s`` (some pod pairs of the two groups allowed), and ``data-v`` holding
    indexes into the page's table of decision texts (egress, ingress; for a group, then
    1 or 0: whether the example pair is allowed). A group's cell also has ``data-n``:
    allowed pod pairs / all pod pairs."""
    esc = html.escape
    reasons: list[str] = []
    index: dict[str, int] = {}

    def reason(text: str) -> int:
        if text not in index:
            index[text] = len(reasons)
            reasons.append(text)
        return index[text]

    groups = grid.groups
    pods_level = level == "pods"
    spans = _namespaces(groups)
    first_of_span = set()
    at = 0
    for _, size in spans:
        first_of_span.add(at)
        at += size
    pods = sum(len(g.members) for g in groups)
    allowed_pairs = sum(sum(row) for row in grid.allowed)

    out = io.StringIO()
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{esc(title)}</h1>\n")
    rows = "" if pods_level else f" in {len(groups)} {level}"
    some = "" if pods_level else "<span style=\"background:var(--some)\"></span>some pairs allowed"
    w(
        f"<p class=\"meta\">{esc(describe(matrix))} &middot; {pods} pods{rows} &middot; "
        f"{allowed_pairs} of {pods * pods} pairs allowed &middot; rows are sources, columns destinations"
        f"<span class=\"legend\"><span style=\"background:var(--allow)\"></span>allowed"
        f"<span style=\"background:var(--deny)\"></span>denied{some}</span></p>\n"
    )
    if note:
        w(f"<p class=\"note\">{esc(note)}</p>\n")
    w("<div class=\"wrap\">\n<table class=\"m\">\n<thead>\n<tr class=\"ns\"><th class=\"corner\"></th>")
    for namespace, size in spans:
        width = size * 13 - 1  # cells are 12px with 1px spacing
        w(f"<th class=\"ns\" colspan=\"{size}\"><div style=\"width:{width}px\" title=\"{esc(namespace)}\">{esc(namespace)}</div></th>")
    w("</tr>\n<tr class=\"pods\"><th class=\"corner\"></th>")
    for j, group in enumerate(groups):
        cls = " class=\"first-col\"" if j in first_of_span else ""
        shown = group.label.split("/", 1)[-1]
        if pods_level:
            w(f"<th{cls} data-pod=\"{esc(group.label)}\" title=\"{esc(group.label)}\">{esc(shown)}</th>")
        else:
            count = len(group.members)
            w(f"<th{cls} data-group=\"{esc(group.label)}\" data-eg=\"{esc(grid.firsts[j])}\" "
              f"title=\"{esc(group.label)} ({count} pods)\">{esc(shown)} ×{count}</th>")
    w("</tr>\n</thead>\n<tbody>\n")
    for i, src in enumerate(groups):
        w("<tr class=\"first-row\">" if i in first_of_span else "<tr>")
        if pods_level:
            w(f"<th class=\"pod\" data-pod=\"{esc(src.label)}\">{esc(src.label)}</th>")
        else:
            w(f"<th class=\"pod\" data-group=\"{esc(src.label)}\" data-eg=\"{esc(grid.firsts[i])}\">"
              f"{esc(src.label)} ×{len(src.members)}</th>")
        for j, dst in enumerate(groups):
            example = grid.examples[i][j]
            if example is None:
                egress = ingress = reason(_SAME)
            else:
                egress, ingress = reason(decision_text(example.egress)), reason(decision_text(example.ingress))
            first = " first-col" if j in first_of_span else ""
            allowed, total = grid.allowed[i][j], len(src.members) * len(dst.members)
            cls = "a" if allowed == total else "d" if allowed == 0 else "s"
            if pods_level:
                w(f"<td class=\"{cls}{first}\" data-v=\"{egress},{ingress}\"></td>")
            else:
                ok = 1 if example is None or example.allowed else 0
                w(f"<td class=\"{cls}{first}\" data-v=\"{egress},{ingress},{ok}\" data-n=\"{allowed}/{total}\"></td>")
        w("</tr>\n")
    w("</tbody>\n</table>\n</div>\n<div id=\"tip\"></div>\n")
    data = json.dumps(reasons).replace("</", "<\\/")
    w(f"<script type=\"application/json\" id=\"reasons\">{data}</script>\n")
    w(f"<script>{_JS}</script>\n</body>\n</html>\n")
    return out.getvalue()


