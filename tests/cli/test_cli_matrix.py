"""`netpolicy matrix`: every format agrees with PolicySet.evaluate, pair by pair."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest

import netpolicy
from netpolicy import Flow
from netpolicy.verdict import Verdict

from clihelp import ROOT, STAGING, Run, check_golden

S = str(STAGING)
PODS = ["kube-system/kube-dns", "staging/back-end", "staging/database", "staging/front-end"]


def library(staging: netpolicy.PolicySet, pods: list[str], protocol: str, port: int | None) -> dict[tuple[str, str], Verdict]:
    return {(s, d): staging.evaluate(Flow(src=s, dst=d, protocol=protocol, dst_port=port)) for s in pods for d in pods}


@pytest.mark.parametrize(("protocol", "port"), [("TCP", 443), ("TCP", 27017), ("UDP", 53)])
def test_json_equals_library(run: Run, staging: netpolicy.PolicySet, protocol: str, port: int | None) -> None:
    args = ["matrix", "-f", S, "-p", protocol, "-o", "json"] + (["--port", str(port)] if port else [])
    result = run(args)
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    expected = library(staging, PODS, protocol, port)
    assert len(records) == len(expected) == 16
    for record in records:
        assert set(record) == {"src", "dst", "protocol", "port", "allowed"}
        assert record["protocol"] == protocol and record["port"] == port
        assert record["allowed"] is expected[(record["src"], record["dst"])].allowed
    assert {(r["src"], r["dst"]) for r in records} == set(expected)


@pytest.mark.parametrize("protocol", ["TCP", "UDP", "ICMP", "SCTP", "proto:47"])
def test_without_a_port_every_cell_gives_its_open_ports(run: Run, staging: netpolicy.PolicySet, protocol: str) -> None:
    """Without --port a cell is allowed when some port is, and lists the ranges that
    connections lists; evaluate agrees at each range's ends and just outside them."""
    from netpolicy.analysis import connections
    from netpolicy.analysis.keyspace import range_text

    records = json.loads(run(["matrix", "-f", S, "-p", protocol, "-o", "json"]).stdout)
    found = connections(staging, external=False)
    number = 47 if protocol == "proto:47" else netpolicy.flow.protocol_number(protocol)
    assert len(records) == 16
    for record in records:
        assert set(record) == {"src", "dst", "protocol", "port", "allowed", "ports"} and record["port"] is None
        src, dst = record["src"], record["dst"]
        if src == dst:  # an endpoint reaches itself on every port
            assert record["allowed"] and len(record["ports"]) == 1
            continue
        link = found.between(src, dst)
        ranges = sorted(r for p in (link.ports if link else ()) if p.protocol == number for r in p.ranges)
        assert record["allowed"] is bool(ranges)
        assert record["ports"] == [range_text(number, a, b) for a, b in ranges]
        if number not in (6, 17, 132):
            continue
        inside = lambda port: any(a <= port <= b for a, b in ranges)  # noqa: E731
        for a, b in ranges:
            for port in (a, b, a - 1, b + 1):
                if 1 <= port <= 65535:
                    assert staging.evaluate(Flow(src, dst, protocol=number, dst_port=port)).allowed is inside(port)


def test_without_a_port_the_table_counts_ranges(run: Run) -> None:
    result = run(["matrix", "-f", S])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TCP, any port: rows are sources, columns destinations")
    assert lines[2].split()[2:] == ["✓", "✗", "✗", "1"]  # kube-dns reaches front-end on one range
    assert lines[-3:] == ["  1 -> 4: 443", "  2 -> 3: 27017", "  4 -> 2: 443"]
    csv_rows = list(csv.DictReader(io.StringIO(run(["matrix", "-f", S, "-p", "UDP", "-o", "csv"]).stdout)))
    assert {(r["src"], r["dst"]): r["ports"] for r in csv_rows if r["allowed"] == "true" and r["src"] != r["dst"]} == {
        ("staging/back-end", "kube-system/kube-dns"): "53",
        ("staging/database", "kube-system/kube-dns"): "53",
        ("staging/front-end", "kube-system/kube-dns"): "53",
    }


def test_golden_csv_and_json(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    check_golden("matrix-443.csv", run(["matrix", "-f", "examples/staging", "--port", "443", "-o", "csv"]).stdout)
    check_golden("matrix-27017.json", run(["matrix", "-f", "examples/staging", "--port", "27017", "-o", "json"]).stdout)


def test_csv_equals_json(run: Run) -> None:
    rows = list(csv.DictReader(io.StringIO(run(["matrix", "-f", S, "--port", "443", "-o", "csv"]).stdout)))
    records = json.loads(run(["matrix", "-f", S, "--port", "443", "-o", "json"]).stdout)
    assert [(r["src"], r["dst"], r["allowed"] == "true") for r in rows] == [(r["src"], r["dst"], r["allowed"]) for r in records]


def test_namespace_filter(run: Run, staging: netpolicy.PolicySet) -> None:
    records = json.loads(run(["matrix", "-f", S, "-n", "staging", "--port", "27017", "-o", "json"]).stdout)
    assert {r["src"] for r in records} == {p for p in PODS if p.startswith("staging/")}
    assert len(records) == 9
    both = json.loads(run(["matrix", "-f", S, "-n", "staging", "-n", "kube-system", "--port", "27017", "-o", "json"]).stdout)
    every = json.loads(run(["matrix", "-f", S, "-A", "--port", "27017", "-o", "json"]).stdout)
    assert both == every == json.loads(run(["matrix", "-f", S, "--port", "27017", "-o", "json"]).stdout)


def test_table(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["matrix", "-f", S, "-n", "staging", "--port", "443"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.lstrip()[:1].isdigit() and "/" in line]
    pods = ["staging/back-end", "staging/database", "staging/front-end"]
    expected = library(staging, pods, "TCP", 443)
    assert len(rows) == 3
    for i, line in enumerate(rows):
        fields = line.split()
        assert fields[0] == str(i + 1) and fields[1] == pods[i]
        assert fields[2:] == ["✓" if expected[(pods[i], d)].allowed else "✗" for d in pods]


def test_usage(run: Run) -> None:
    assert run(["matrix", "-f", S, "-A", "-n", "staging"]).exit_code == 2
    assert run(["matrix", "-f", S, "-o", "pdf"]).exit_code == 2
    assert run(["matrix", "-f", S, "-p", "ICMP", "--port", "1"]).exit_code == 2
    empty = run(["matrix", "-f", S, "-n", "nowhere", "-o", "json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == [] and "no pods" in empty.stderr


class Heatmap(HTMLParser):
    """Reads the heatmap back: column pods, and per row its pod and its cells."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[dict[str, str]]]] = []
        self.reasons_json = ""
        self._in_head = False
        self._in_reasons = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "thead":
            self._in_head = True
        elif tag == "th" and "data-pod" in a:
            if self._in_head:
                self.columns.append(a["data-pod"])
            else:
                self.rows.append((a["data-pod"], []))
        elif tag == "td":
            self.rows[-1][1].append(a)
        elif tag == "script" and a.get("id") == "reasons":
            self._in_reasons = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        elif tag == "script":
            self._in_reasons = False

    def handle_data(self, data: str) -> None:
        if self._in_reasons:
            self.reasons_json += data


def test_html_one_cell_per_pair_equal_to_library(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["matrix", "-f", S, "--port", "443", "-o", "html"])
    assert result.exit_code == 0
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>")
    assert "<link" not in page and "src=" not in page  # self-contained
    parser = Heatmap()
    parser.feed(page)
    reasons = json.loads(parser.reasons_json)
    assert parser.columns == PODS
    assert [pod for pod, _ in parser.rows] == PODS
    expected = library(staging, PODS, "TCP", 443)
    from netpolicy.cli._verdict import decision_text

    for src, cells in parser.rows:
        assert len(cells) == len(PODS)
        for dst, cell in zip(parser.columns, cells):
            verdict = expected[(src, dst)]
            assert ("a" in cell["class"].split()) is verdict.allowed
            assert ("d" in cell["class"].split()) is not verdict.allowed
            egress, ingress = (reasons[int(i)] for i in cell["data-v"].split(",")[:2])
            if src != dst:
                assert egress == decision_text(verdict.egress)
                assert ingress == decision_text(verdict.ingress)
    # The tooltip names the deciding policy and rule.
    assert any("KubernetesNetworkPolicy staging/back-end rule 0" in r for r in reasons)


def test_html_groups_by_namespace(run: Run) -> None:
    page = run(["matrix", "-f", S, "--port", "443", "-o", "html"]).stdout
    assert '<th class="ns" colspan="1"><div style="width:12px" title="kube-system">kube-system</div></th>' in page
    assert '<th class="ns" colspan="3"><div style="width:38px" title="staging">staging</div></th>' in page
    # the first row and column of each namespace draw the group's edge
    assert page.count('<tr class="first-row">') == 2
    assert page.count('<th class="first-col"') == 2
