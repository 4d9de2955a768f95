"""`netpolicy diff -o html`: the before/after heatmap, parsed and checked against the
library's Diff and connections, then run in a real headless browser (as the matrix page
is, see test_cli_matrix_browser: skipped, saying why, without Chromium; an error with
NETPOLICY_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import json
import pathlib
import shutil
from html.parser import HTMLParser
from typing import Any

import pytest

import netpolicy
from clihelp import ROOT, STAGING, Run
from test_cli_matrix_browser import BROWSER, _MISSING, _self_contained, load, screenshot

CHANGE = ROOT / "examples" / "staging-change"
EXTRA_POD = """
---
apiVersion: v1
kind: Pod
metadata:
  name: extra
  namespace: staging
  labels: {app: extra}
spec:
  containers:
  - {name: c, image: busybox}
status:
  podIP: 10.0.0.99
"""


class Page(HTMLParser):
    """The header labels, each row's label and cells' attributes, the cells' glyphs and
    the change texts."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[dict[str, str]]]] = []
        self.glyphs: list[str] = []
        self._where = ""
        self._script = False
        self._cell = False
        self.changes_json = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self._where = a.get("class", "")
        elif tag == "th" and self._where == "pods" and "data-group" in a:
            self.columns.append(a["data-group"])
        elif tag == "th" and a.get("class") == "pod":
            self.rows.append((a["data-group"], []))
        elif tag == "td" and self.rows:
            self.rows[-1][1].append(a)
            self._cell = True
        elif tag == "script" and a.get("id") == "changes":
            self._script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False
        elif tag == "td":
            self._cell = False

    def handle_data(self, data: str) -> None:
        if self._script:
            self.changes_json += data
        elif self._cell and data in ("+", "\u2212", "\u00b1"):
            self.glyphs.append(data)


def parse(text: str) -> tuple[Page, list[str]]:
    page = Page()
    page.feed(text)
    return page, json.loads(page.changes_json)


def expected_cells(result: netpolicy.Diff) -> dict[tuple[str, str], set[str]]:
    """Per (row, column) of a page of pods: the kinds of the changes in it."""
    found: dict[tuple[str, str], set[str]] = {}
    for change in result:
        for src in change.src.endpoints or (change.src.name,):
            for dst in change.dst.endpoints or (change.dst.name,):
                found.setdefault((src, dst), set()).add(change.kind)
    return found


def opened(ps: netpolicy.PolicySet) -> set[tuple[str, str]]:
    return {(c.src.name, c.dst.name) for c in netpolicy.connections(ps, workloads=False)}


def check(text: str, base: netpolicy.PolicySet, head: netpolicy.PolicySet) -> Page:
    """The page against the library: rows and columns, marks, change texts and states."""
    result = netpolicy.diff(base, head)
    page, texts = parse(text)
    assert len(texts) == len(result)
    for change, shown in zip(result, texts):
        assert f"{change.src.name} => {change.dst.name}: {change.ports_text}" in shown
        assert f"{change.before.verdict} -> {change.after.verdict}" in shown
        for state in (change.before, change.after):
            for decision in (state.egress, state.ingress):
                if decision is not None:
                    assert decision.why.split(",")[0] in shown
    assert [r for r, _ in page.rows] == page.columns
    keys = {e.key for ps in (base, head) for e in ps.endpoints if e.name}
    assert set(page.columns) >= keys
    want = expected_cells(result)
    glyph = {frozenset({"added"}): "add", frozenset({"removed"}): "rem", frozenset({"added", "removed"}): "both"}
    before, after = opened(base), opened(head)
    here = [{e.key for e in ps.endpoints if e.name} for ps in (base, head)]
    seen = {}
    for src, cells in page.rows:
        for dst, cell in zip(page.columns, cells):
            classes = cell["class"].split()
            if "data-c" in cell:
                ids = [int(i) for i in cell["data-c"].split(",")]
                seen[(src, dst)] = {result[i].kind for i in ids}
                assert glyph[frozenset(seen[(src, dst)])] in classes
            if src in keys and dst in keys:  # a pod pair: each side's state as connections says
                for letter, ends, opens in (("b", here[0], before), ("f", here[1], after)):
                    state = "x" if not (src in ends and dst in ends) else "a" if src == dst or (src, dst) in opens else "d"
                    assert letter + state in classes, (src, dst, classes)
    assert seen == want
    assert len(page.glyphs) == len(want)
    return page


def test_staging_change_against_the_library(run: Run) -> None:
    result = run(["diff", "--base", str(STAGING), "--head", str(CHANGE), "-o", "html"])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("<!DOCTYPE html>")
    _self_contained(text)
    page = check(text, netpolicy.load(STAGING), netpolicy.load(CHANGE))
    assert page.columns[-1] == "192.0.2.0/24"
    row = dict(page.rows)["staging/back-end"]
    cell = row[page.columns.index("192.0.2.0/24")]
    assert cell["class"].split() == ["bd", "fa", "add"] and "+" in page.glyphs


@pytest.fixture()
def edited(tmp_path: pathlib.Path) -> pathlib.Path:
    """staging with the port from the front-end to the back-end moved (443 to 444, on
    both ends) and a pod added."""
    head = tmp_path / "head"
    shutil.copytree(STAGING, head)
    policies = head / "20-kubernetes-networkpolicies.yaml"
    text = policies.read_text()
    marker = "# The front-end reaches the back-end on TCP 443.\n  - from:\n    - podSelector:\n        matchLabels: {app: front-end}\n    ports:\n    - {protocol: TCP, port: 443}"
    assert marker in text
    egress = "matchLabels: {app: back-end}\n    ports:\n    - {protocol: TCP, port: 443}"
    assert egress in text
    policies.write_text(text.replace(marker, marker[:-4] + "444}").replace(egress, egress[:-4] + "444}"))
    (head / "10-pods.yaml").write_text((head / "10-pods.yaml").read_text() + EXTRA_POD)
    return head


def test_added_removed_both_and_absent_are_told_apart(run: Run, edited: pathlib.Path) -> None:
    result = run(["diff", "--base", str(STAGING), "--head", str(edited), "-o", "html"])
    assert result.exit_code == 0, result.stderr
    page = check(result.stdout, netpolicy.load(STAGING), netpolicy.load(edited))
    cell = dict(page.rows)["staging/front-end"][page.columns.index("staging/back-end")]
    assert "both" in cell["class"].split()  # TCP 443 closed, 444 opened
    assert {"\u00b1", "+"} <= set(page.glyphs)
    extra = dict(page.rows)["staging/extra"]
    assert all("bx" in c["class"].split() for c in extra)  # absent before


def test_no_change_marks_nothing(run: Run) -> None:
    text = run(["diff", "--base", str(STAGING), "--head", str(STAGING), "-o", "html"]).stdout
    page, texts = parse(text)
    assert texts == [] and page.glyphs == []
    assert all("data-c" not in c for _, cells in page.rows for c in cells)


#: after the page's script: hover the first changed cell, write its tooltip on <html>
HOVER_CHANGED = """<script>
(function () {
  var td = document.querySelector('table.m td[data-c]'), r = td.getBoundingClientRect();
  td.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + 2, clientY: r.top + 2}));
  document.documentElement.setAttribute('data-changed-tip', document.getElementById('tip').textContent);
})();
</script>"""


@pytest.mark.skipif(BROWSER is None, reason=_MISSING)
def test_the_page_runs_in_a_browser(run: Run, edited: pathlib.Path, tmp_path: pathlib.Path) -> None:
    text = run(["diff", "--base", str(STAGING), "--head", str(edited), "-o", "html"]).stdout
    _self_contained(text)
    cells_total = sum(len(cells) for _, cells in parse(text)[0].rows)
    seen: dict[str, Any] = load(text.replace("</body>", HOVER_CHANGED + "\n</body>", 1), tmp_path)
    assert "data-errors" not in seen, seen.get("data-errors")
    assert seen["data-cells"] == str(cells_total)
    assert seen["data-tip"] == ("staging/front-end -> staging/front-end: before allowed (some packet), "
                                "after allowed (some packet)\nno change")
    result = netpolicy.diff(netpolicy.load(STAGING), netpolicy.load(edited))
    page, texts = parse(text)
    first = next((src, dst, cell["data-c"]) for src, cells in page.rows for dst, cell in zip(page.columns, cells)
                 if "data-c" in cell)
    tip = seen["data-changed-tip"]
    assert tip.startswith(f"{first[0]} -> {first[1]}: before ")
    for i in first[2].split(","):
        change = result[int(i)]
        assert f"{change.ports_text}: {change.before.verdict} -> {change.after.verdict}" in tip
        assert texts[int(i)] in tip
    png = screenshot(text, tmp_path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
