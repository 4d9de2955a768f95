"""The matrix as one self-contained HTML page (a heatmap), within a size budget.

One row and column per pod while the page fits the budget; above it, one per workload
(replicas collapsed), then one per namespace, and the page and stderr say so. A cell of
a group counts the allowed pod pairs between the two groups; its tooltip names the
deciding rules of one pair of them, and a click draws the finer grid inside it (from the
answers of the endpoint classes, which the page carries while they fit the budget).
Each cell's tooltip also gives the open ports of the pair, over every protocol. Without
a port, a cell is allowed when some port of the protocol is (see ``_htmlcells``).
"""

from __future__ import annotations

import html
import io
import json
from typing import Callable, Sequence

import attrs
import numpy as np

from ..model import Endpoint
from ..policyset import PolicySet
from . import _workloads
from ._htmlassets import COLOURS, CSS, JS
from ._htmlcells import Cells, cells
from ._matrix import describe_flow

__all__ = ["DEFAULT_BUDGET_MB", "Page", "page", "render", "cells_lower_bound"]

#: The default largest page, in MB (10**6 bytes).
DEFAULT_BUDGET_MB = 20.0

_CELL_MIN = len('<td class="a" data-v="0,0,0"></td>')  # the smallest cell in bytes


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


def _grid(answers: Cells, allowed: np.ndarray, groups: Sequence[_workloads.Group]) -> _Grid:
    """The groups' counts of allowed pod pairs."""
    pods = answers.pods
    order = np.fromiter((i for g in groups for i in g.members), dtype=np.intp, count=len(pods))
    starts = np.cumsum([0] + [len(g.members) for g in groups[:-1]])
    cells_ = allowed.astype(np.int64)[order][:, order]
    counts = np.add.reduceat(np.add.reduceat(cells_, starts, axis=0), starts, axis=1).tolist() if len(pods) else []
    return _Grid(groups, counts, [pods[g.members[0]].key for g in groups])


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
    else namespaces (which is given even above the budget, and says so). A page of
    groups lets a click show the finer grid inside a cell, when its data fits too."""
    answers = cells(policy_set, pods, protocol, port, progress=progress)
    allowed = answers.pod_allowed()
    levels = _workloads.LEVELS
    too_large: list[tuple[str, int, str]] = []  # (level, rows, size) of the pages that did not fit
    finer = -1  # rows of the finer level tried last
    every = [(level, grouping(pods)) for level, grouping in levels]
    for number, (level, groups) in enumerate(every):
        last = number == len(levels) - 1
        if not last and finer >= 0 and len(groups) >= finer:
            continue  # no fewer rows than the finer level: no smaller page
        finer = len(groups)
        if budget and not last and cells_lower_bound(len(groups)) > budget:
            too_large.append((level, len(groups), "at least " + _size(cells_lower_bound(len(groups)))))
            continue
        grid = _grid(answers, allowed, groups)
        note = _note(too_large, level, len(groups), budget) if too_large else None
        finest = [(name, units) for name, units in every[1:number] if len(units) < len(pods)]
        text = render(grid, answers, protocol, port, level=level, note=note, finer=finest, budget=budget)
        size = len(text.encode("utf-8"))
        if not budget or size <= budget or last:
            if budget and size > budget:
                note = f"{note} Even so the page takes {_size(size)}, above the budget."
                text = render(grid, answers, protocol, port, level=level, note=note, finer=finest, budget=budget)
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


def _namespaces(groups: Sequence[_workloads.Group]) -> list[tuple[str, int]]:
    spans: list[tuple[str, int]] = []
    for group in groups:
        if spans and spans[-1][0] == group.namespace:
            spans[-1] = (group.namespace, spans[-1][1] + 1)
        else:
            spans.append((group.namespace, 1))
    return spans


def _drill(answers: Cells, groups: Sequence[_workloads.Group], finer: Sequence[tuple[str, list[_workloads.Group]]]) -> str:
    """The data a click draws the finer grid from: the pods, their classes, the classes'
    answers and the finer levels' groups."""
    k = len(answers.allowed)
    data = {
        "k": k,
        "ok": "".join("1" if x else "0" for x in answers.allowed.reshape(-1).tolist()),
        "why": answers.why.reshape(-1).tolist(),
        "cls": answers.cls,
        "pods": [pod.key for pod in answers.pods],
        "same": answers.pair(0, 0)[1] if answers.pods else 0,
        "all": answers.pair(0, 0)[3] if answers.pods else 0,
        "top": [[g.label, list(g.members)] for g in groups],
        "levels": [{"name": name, "units": [[g.label, list(g.members)] for g in units]} for name, units in finer],
    }
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def render(
    grid: _Grid, answers: Cells, protocol: int, port: int | None, *, level: str = "pods", note: str | None = None,
    finer: Sequence[tuple[str, list[_workloads.Group]]] = (), budget: int = 0, title: str = "netpolicy reachability",
) -> str:
    """The page of ``grid``. Each cell is a ``<td>`` with class ``a`` (allowed), ``d``
    (denied) or ``s`` (some pod pairs of the two groups allowed), and ``data-v`` holding
    indexes into the page's table of texts: egress, ingress (for a group, then 1 or 0:
    whether the example pair is allowed), then the open ports. A group's cell also has
    ``data-n``: allowed pod pairs / all pod pairs. Without a port, the egress text lists
    the rules of each allowed range and the ingress text is empty."""
    esc = html.escape
    texts = answers.texts
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
    w(f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{esc(title)}</h1>\n")
    rows = "" if pods_level else f" in {len(groups)} {level}"
    what = "on some port " if port is None else ""
    w(
        f"<p class=\"meta\">{esc(describe_flow(protocol, port))} &middot; {pods} pods{rows} &middot; "
        f"{allowed_pairs} of {pods * pods} pairs allowed {what}&middot; rows are sources, columns destinations"
        + ("" if pods_level else " &middot; click a cell to see inside it")
        + "</p>\n"
    )
    keys = [(cls, colour, meaning) for cls, colour, meaning in COLOURS if cls != "s" or not pods_level]
    w("<p class=\"legend\">" + "".join(
        f"<span class=\"key\" style=\"background:{colour}\"></span>{'allowed on some port' if cls == 'a' and port is None else meaning}"
        for cls, colour, meaning in keys) + "</p>\n")
    if note:
        w(f"<p class=\"note\">{esc(note)}</p>\n")
    mode = "ports" if port is None else "flow"
    w(f"<div class=\"wrap\">\n<table class=\"m{'' if pods_level else ' groups'}\" data-mode=\"{mode}\">\n<thead>\n"
      "<tr class=\"ns\"><th class=\"corner\"></th>")
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
            ok, egress, ingress, ports = answers.pair(src.members[0], dst.members[0])
            first = " first-col" if j in first_of_span else ""
            allowed, total = grid.allowed[i][j], len(src.members) * len(dst.members)
            cls = "a" if allowed == total else "d" if allowed == 0 else "s"
            if pods_level:
                w(f"<td class=\"{cls}{first}\" data-v=\"{egress},{ingress},{ports}\"></td>")
            else:
                w(f"<td class=\"{cls}{first}\" data-v=\"{egress},{ingress},{int(ok)},{ports}\" data-n=\"{allowed}/{total}\"></td>")
        w("</tr>\n")
    w("</tbody>\n</table>\n</div>\n")
    data = json.dumps(texts).replace("</", "<\\/")
    w(f"<script type=\"application/json\" id=\"reasons\">{data}</script>\n")
    if not pods_level:
        drill = _drill(answers, groups, finer)
        room = budget - len(out.getvalue().encode("utf-8")) - len(JS) - 2000 if budget else 1
        if room > len(drill.encode("utf-8")):
            w("<div id=\"drill-panel\"><h2><span></span><button type=\"button\">close</button></h2>"
              "<div class=\"wrap\"></div></div>\n")
            w(f"<script type=\"application/json\" id=\"drill\">{drill}</script>\n")
        else:
            w("<p class=\"note\">The data to see inside a cell would not fit the budget (--html-budget).</p>\n")
    w("<div id=\"tip\"></div>\n")
    w(f"<script>{JS}</script>\n</body>\n</html>\n")
    return out.getvalue()
