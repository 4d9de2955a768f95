"""``netpolicy diff -o html``: the before/after heatmap of a change, one self-contained page.

Rows are sources and columns destinations: the endpoints of either side, one per pod
while there are at most :data:`MAX_ROWS` of them, else one per workload, else one per
namespace (the matrix page's groups), then one per block of external addresses where
something changed. Each cell is split along its diagonal: the upper left is the pair's
state before, the lower right after (allowed on some packet, denied, some pod pairs
allowed, or absent: an endpoint the side does not have), in the matrix page's
colour-blind-safe palette. A changed cell also carries a mark that does not rest on
colour: ``+`` where something is newly allowed, ``−`` where something is no longer
allowed, ``±`` for both, and a heavy outline. Its tooltip lists the changes: protocol
and ports, the verdicts, and the deciding egress and ingress rules before and after.
"""

from __future__ import annotations

import html
import io
import json
from typing import Any, Sequence

import numpy as np

from ..analysis import Change, Diff
from ..analysis.reach import Reach
from ..model import Endpoint
from ..resolve import Snapshot
from . import _workloads
from ._html import _namespaces
from ._htmlassets import COLOURS, CSS
from ._verdict import decision_text

__all__ = ["MAX_ROWS", "STATES", "MARKS", "render"]

#: the most endpoint rows (pods, else workloads) before the page groups more coarsely
MAX_ROWS = 150

#: a side's state of a cell: (letter, CSS colour variable, meaning)
STATES = (
    ("a", "var(--allow)", "allowed (some packet)"),
    ("d", "var(--deny)", "denied (every packet)"),
    ("s", "var(--some)", "some pod pairs allowed"),
    ("x", "var(--absent)", "absent on this side"),
    ("n", "#FFFFFF", "external to external: not decided"),
)

#: a changed cell's mark: (glyph, CSS class, meaning)
MARKS = (("+", "add", "newly allowed"), ("\u2212", "rem", "no longer allowed"), ("\u00b1", "both", "both"))

_CSS = """
:root { --absent: #BBBBBB; }
table.m.diff { border-spacing: 2px; }
table.m.diff td { width: 18px; height: 18px; min-width: 18px; max-width: 18px; text-align: center;
                  font: bold 13px/18px system-ui, sans-serif; color: #000;
                  background: linear-gradient(to bottom right, var(--b) 50%, var(--f) 50%); }
table.m.diff thead tr.pods th { max-width: 18px; }
""" + "".join(f"table.m.diff td.b{s} {{ --b: {c}; }}\ntable.m.diff td.f{s} {{ --f: {c}; }}\n" for s, c, _ in STATES) + """
table.m.diff td.add, table.m.diff td.rem, table.m.diff td.both { outline: 3px solid #000; outline-offset: -2px; }
table.m.diff td.bn { outline: 1px solid #ddd; }
table.m.diff td span { background: rgba(255, 255, 255, 0.85); border-radius: 2px; padding: 0 2px; font-size: 11px;
                       line-height: 11px; }
table.m.diff thead tr.pods th { top: 19px; }
.legend span.tri { display: inline-block; width: 14px; height: 14px; vertical-align: -3px; margin: 0 4px 0 12px;
                   background: linear-gradient(to bottom right, #fff 50%, #555 50%); border: 1px solid #555; }
.legend span.mark { display: inline-block; width: 16px; height: 16px; line-height: 14px; text-align: center;
                    font-weight: bold; border: 2px solid #000; margin: 0 4px 0 12px; }
"""

_JS = r"""
(function () {
  var T = JSON.parse(document.getElementById('changes').textContent);
  var tip = document.getElementById('tip');
  var LIMIT = 12;
  function text(td) {
    var tr = td.parentNode, table = td.closest('table');
    var col = Array.prototype.indexOf.call(tr.querySelectorAll('td'), td);
    var from = tr.querySelector('th.pod').getAttribute('data-group');
    var dst = table.querySelectorAll('thead tr.pods th:not(.corner)')[col].getAttribute('data-group');
    var lines = [from + ' -> ' + dst + ': ' + td.getAttribute('data-s')];
    var c = td.getAttribute('data-c');
    if (!c) { lines.push('no change'); return lines.join('\n'); }
    var ids = c.split(',');
    lines.push(ids.length + (ids.length === 1 ? ' change:' : ' changes:'));
    ids.slice(0, LIMIT).forEach(function (i) { lines.push(T[+i]); });
    if (ids.length > LIMIT) { lines.push('... and ' + (ids.length - LIMIT) + ' more'); }
    return lines.join('\n');
  }
  document.addEventListener('mousemove', function (ev) {
    var td = ev.target.closest ? ev.target.closest('table.m td') : null;
    if (!td) { tip.style.display = 'none'; return; }
    tip.textContent = text(td);
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 14;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
})();
"""


def _endpoints(base: Snapshot, head: Snapshot) -> list[Endpoint]:
    """Every named endpoint of either side (its head form where it has one), as diff
    matches them: by kind and key."""
    found: dict[tuple[str, str], Endpoint] = {(e.kind, e.key): e for e in base.endpoints if e.name}
    found.update({(e.kind, e.key): e for e in head.endpoints if e.name})
    return sorted(found.values(), key=lambda e: (e.namespace or "", e.key))


def _counts(side: Snapshot, pods: Sequence[Endpoint], groups: Sequence[_workloads.Group]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of groups on ``side``: the pod pairs between them where some packet goes,
    and the pod pairs whose both ends the side has. Worked out per pair of endpoint
    classes (a row of classes at a time) and summed by group, never per pod pair."""
    reach = Reach(side)
    here = {(e.kind, e.key): e for e in side.endpoints if e.name}
    group_of = {i: n for n, group in enumerate(groups) for i in group.members}
    classes: dict[object, int] = {}
    first: list[list[Endpoint]] = []
    members: list[tuple[int, int]] = []  # (group, class) of each pod the side has
    for i, pod in enumerate(pods):
        mine = here.get((pod.kind, pod.key))
        if mine is None:
            continue
        c = classes.setdefault(reach.place(mine).signature, len(classes))
        if c == len(first):
            first.append([])
        if len(first[c]) < 2:
            first[c].append(mine)
        members.append((group_of[i], c))
    g, k = len(groups), len(classes)
    spread = np.zeros((g, k))  # pods of each class in each group (float: summed by BLAS, exactly)
    for n, c in members:
        spread[n, c] += 1
    reps = [pair[0] for pair in first]
    reached = np.zeros((k, g))  # per class, the pods of each group some packet reaches
    alike = np.zeros(k, np.bool_)  # whether two pods of one class reach each other
    block: list[np.ndarray] = []

    def flush(upto: int) -> None:
        if block:
            reached[upto - len(block):upto] = np.array(block, np.float64) @ spread.T
            block.clear()

    for c, row in enumerate(reach.rows(reps, reps)):  # the tables of a whole row at once
        opened = np.fromiter((bool(grants) for grants in row), np.bool_, count=k)
        pair = first[c]  # two pods of one class need not reach each other
        opened[c] = alike[c] = len(pair) > 1 and bool(reach.between(pair[0], pair[1]))
        block.append(opened)
        if len(block) == 256:
            flush(c + 1)
    flush(k)
    counts = spread @ reached
    counts[np.diag_indices(g)] += spread @ (~alike).astype(np.float64)  # a pod reaches itself
    present = spread.sum(axis=1)
    return np.rint(counts).astype(np.int64), np.rint(np.outer(present, present)).astype(np.int64)


class _Outside:
    """Whether a pod on one side sends to (receives from) some address of a block."""

    def __init__(self, side: Snapshot) -> None:
        self.reach = Reach(side)
        self.here = {(e.kind, e.key): e for e in side.endpoints if e.name}

    def open(self, pod: Endpoint, networks: Sequence[Any], outbound: bool) -> bool | None:
        """None: the side has no such endpoint."""
        mine = self.here.get((pod.kind, pod.key))
        if mine is None:
            return None
        spans = [(n.version, int(n.network_address), int(n.network_address) + n.num_addresses) for n in networks]
        for family, grants, ranges in self.reach.external(mine, outbound):
            if grants and any(f == family and lo < b and a < hi for f, a, b in spans for lo, hi in ranges):
                return True
        return False


def _state(opened: int, present: int) -> str:
    return "x" if present == 0 else "a" if opened == present else "d" if opened == 0 else "s"


def _change_text(change: Change) -> str:
    def why(state: Any) -> str:
        if state.verdict == "absent":
            return "endpoint absent"
        parts = [f"{side} {decision_text(d)}" for side, d in (("egress", state.egress), ("ingress", state.ingress)) if d is not None]
        return "; ".join(parts) or ("not policed" if state.verdict == "allow" else "")

    mark = "+ newly allowed" if change.kind == "added" else "\u2212 no longer allowed"
    return (f"{mark}: {change.src.name} => {change.dst.name}: {change.ports_text}: "
            f"{change.before.verdict} -> {change.after.verdict}\n"
            f"  before: {why(change.before)}\n  after:  {why(change.after)}")


def _level(pods: Sequence[Endpoint]) -> tuple[str, list[_workloads.Group]]:
    for name, grouping in _workloads.LEVELS:
        groups = grouping(pods)
        if len(groups) <= MAX_ROWS or name == _workloads.LEVELS[-1][0]:
            return name, groups
    raise AssertionError("the last level always fits")  # pragma: no cover


def render(result: Diff, base: Snapshot, head: Snapshot, *, title: str = "netpolicy diff") -> str:
    """The page of ``result``, the diff of ``base`` to ``head`` (see the module docstring).
    Each cell is a ``<td>`` with classes ``bX fY`` (X, Y: the state before and after,
    see :data:`STATES`), for a changed cell the class of its mark (:data:`MARKS`) and the
    glyph, ``data-s`` the states in words and ``data-c`` the indexes of its changes in
    the page's list of change texts (``<script id="changes">``)."""
    esc = html.escape
    pods = _endpoints(base, head)
    level, groups = _level(pods)
    externals = sorted({p.name: p for c in result for p in (c.src, c.dst) if p.kind == "external"}.values())
    n_rows = len(groups) + len(externals)
    where = {pods[i].key: g for g, group in enumerate(groups) for i in group.members}
    where.update({p.name: len(groups) + n for n, p in enumerate(externals)})

    def rows_of(party: Any) -> set[int]:
        return {where[k] for k in party.endpoints if k in where} if party.kind != "external" else {where[party.name]}

    changed: dict[tuple[int, int], list[int]] = {}
    for n, change in enumerate(result):
        for i in rows_of(change.src):
            for j in rows_of(change.dst):
                changed.setdefault((i, j), []).append(n)

    counts = [_counts(side, pods, groups) for side in (base, head)]
    outside = [_Outside(side) for side in (base, head)] if externals else []

    def states(i: int, j: int) -> tuple[str, str]:
        if i < len(groups) and j < len(groups):
            return tuple(_state(int(o[i, j]), int(p[i, j])) for o, p in counts)  # type: ignore[return-value]
        if i >= len(groups) and j >= len(groups):
            return "n", "n"  # between two external blocks nothing is decided
        outbound = i < len(groups)
        group = groups[i] if outbound else groups[j]
        block = externals[(j if outbound else i) - len(groups)]
        found = []
        for side in outside:
            answers = [side.open(pods[m], block.networks, outbound) for m in group.members]
            there = [a for a in answers if a is not None]
            found.append(_state(sum(there), len(there)))
        return found[0], found[1]

    words = {s: meaning for s, _, meaning in STATES}
    out = io.StringIO()
    w = out.write
    w("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    w(f"<title>{esc(title)}</title>\n<style>{CSS}{_CSS}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>\n")
    marks = {"+": 0, "\u2212": 0, "\u00b1": 0}
    body = io.StringIO()
    for i in range(n_rows):
        label = groups[i].label if i < len(groups) else externals[i - len(groups)].name
        body.write(f"<tr><th class=\"pod\" data-group=\"{esc(label)}\">{esc(label)}</th>")
        for j in range(n_rows):
            before, after = states(i, j)
            ids = changed.get((i, j), [])
            kinds = {result[n].kind for n in ids}
            glyph, mark = ("", "") if not ids else MARKS[2][:2] if len(kinds) == 2 else MARKS[0][:2] if "added" in kinds else MARKS[1][:2]
            if glyph:
                marks[glyph] += 1
            said = f"before {words[before]}, after {words[after]}"
            extra = f" {mark}\" data-c=\"{','.join(map(str, ids))}" if ids else ""
            inner = f"<span>{glyph}</span>" if glyph else ""
            body.write(f"<td class=\"b{before} f{after}{extra}\" data-s=\"{esc(said)}\">{inner}</td>")
        body.write("</tr>\n")
    summary = (f"changes: {len(result.added)} newly allowing, {len(result.removed)} no longer allowing; "
               f"{sum(marks.values())} of {n_rows * n_rows} cells changed")
    if result.added_endpoints or result.removed_endpoints:
        summary += f"; {len(result.added_endpoints)} endpoints added, {len(result.removed_endpoints)} removed"
    rows_what = f"one row per {level[:-1]}" + (f" ({len(pods)} endpoints)" if level != "pods" else "")
    w(f"<p class=\"meta\">{esc(summary)} &middot; {esc(rows_what)}, then the external blocks that changed &middot; "
      "rows are sources, columns destinations &middot; every protocol and port</p>\n")
    colour = {cls: c for cls, c, _ in COLOURS}
    shade = {"x": "#BBBBBB", "n": "#FFFFFF; outline: 1px solid #ddd"}
    legend = "".join(f"<span class=\"key\" style=\"background:{colour.get(s, shade.get(s))}\"></span>{esc(m)}"
                     for s, _, m in STATES)
    legend += "<span class=\"tri\"></span>upper left: before, lower right: after"
    legend += "".join(f"<span class=\"mark\">{g}</span>{esc(m)}" for g, _, m in MARKS)
    w(f"<p class=\"legend\">{legend}</p>\n")
    w("<div class=\"wrap\">\n<table class=\"m diff\">\n<thead>\n<tr class=\"ns\"><th class=\"corner\"></th>")
    spans = [(ns, size) for ns, size in _namespaces(groups)] + ([("external", len(externals))] if externals else [])
    for namespace, size in spans:
        w(f"<th class=\"ns\" colspan=\"{size}\"><div style=\"width:{size * 20 - 2}px\" title=\"{esc(namespace)}\">"
          f"{esc(namespace)}</div></th>")
    w("</tr>\n<tr class=\"pods\"><th class=\"corner\"></th>")
    for j in range(n_rows):
        label = groups[j].label if j < len(groups) else externals[j - len(groups)].name
        shown = label.split("/", 1)[-1] if j < len(groups) else label
        w(f"<th data-group=\"{esc(label)}\" title=\"{esc(label)}\">{esc(shown)}</th>")
    w("</tr>\n</thead>\n<tbody>\n")
    w(body.getvalue())
    w("</tbody>\n</table>\n</div>\n")
    data = json.dumps([_change_text(c) for c in result]).replace("</", "<\\/")
    w(f"<script type=\"application/json\" id=\"changes\">{data}</script>\n")
    w("<div id=\"tip\"></div>\n")
    w(f"<script>{_JS}</script>\n</body>\n</html>\n")
    return out.getvalue()
