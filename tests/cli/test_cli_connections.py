"""`netpolicy connections`: every format says what the library's connections() says, and
what the library says agrees with PolicySet.evaluate on the bundled example."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
import yaml

import netpolicy
from netpolicy import Flow
from netpolicy.analysis import connections

from clihelp import STAGING, Run, check_golden

S = str(STAGING)

LIST = """\
kube-system/kube-dns => staging/front-end : TCP 443
kube-system/kube-dns => 0.0.0.0/0 except 198.51.100.23/32, 203.0.113.0/24 : all traffic
staging/back-end => kube-system/kube-dns : UDP 53
staging/back-end => staging/database : TCP 27017
staging/database => kube-system/kube-dns : UDP 53
staging/front-end => kube-system/kube-dns : UDP 53
staging/front-end => staging/back-end : TCP 443
staging/front-end => 0.0.0.0/0 except 10.0.0.0/8, 198.51.100.23/32, 203.0.113.0/24 : TCP 443
0.0.0.0/0 except 198.51.100.23/32, 203.0.113.0/24 => kube-system/kube-dns : all traffic
0.0.0.0/0 except 198.51.100.23/32, 203.0.113.0/24 => staging/front-end : TCP 443
"""


def test_list_is_the_default(run: Run) -> None:
    result = run(["connections", "-f", S])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == LIST


def test_the_list_agrees_with_evaluate(staging: netpolicy.PolicySet) -> None:
    found = connections(staging)
    for src, dst, port, allowed in [
        ("staging/front-end", "staging/back-end", 443, True),
        ("staging/front-end", "staging/back-end", 444, False),
        ("staging/back-end", "staging/database", 27017, True),
        ("staging/front-end", "staging/database", 27017, False),
        ("kube-system/kube-dns", "staging/front-end", 443, True),
    ]:
        assert staging.evaluate(Flow(src, dst, dst_port=port)).allowed is allowed
        link = found.between(src, dst)
        assert (link is not None and link.allows("TCP", port)) is allowed
    assert staging.evaluate(Flow("203.0.113.5", "staging/front-end", dst_port=443)).allowed is False
    assert staging.evaluate(Flow("8.8.8.8", "staging/front-end", dst_port=443)).allowed is True


def test_namespaces_keep_pairs_with_an_endpoint_in_them(run: Run) -> None:
    result = run(["connections", "-f", S, "-n", "kube-system", "--no-external"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "kube-system/kube-dns => staging/front-end : TCP 443",
        "staging/back-end => kube-system/kube-dns : UDP 53",
        "staging/database => kube-system/kube-dns : UDP 53",
        "staging/front-end => kube-system/kube-dns : UDP 53",
    ]
    assert run(["connections", "-f", S, "-n", "x", "-A"]).exit_code == 2


def test_focus_lists_ingress_and_egress_with_the_rules(run: Run) -> None:
    result = run(["connections", "-f", S, "-n", "staging", "--focus", "pod/database"])
    assert result.exit_code == 0, result.stderr
    check_golden("connections-focus.txt", result.stdout)
    lines = result.stdout.splitlines()
    assert lines[0] == "ingress to staging/database:"
    assert "KubernetesNetworkPolicy staging/database rule 0" in lines[2]
    same = run(["connections", "-f", S, "--focus", "staging/database"])
    assert same.stdout == result.stdout


def test_focus_on_nothing_is_invalid_input(run: Run) -> None:
    result = run(["connections", "-f", S, "-n", "staging", "--focus", "deploy/nothing"])
    assert result.exit_code == 3
    assert "nothing" in result.stderr


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_json_and_yaml_records(run: Run, output: str) -> None:
    result = run(["connections", "-f", S, "-o", output])
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout) if output == "json" else yaml.safe_load(result.stdout)
    assert [f"{r['src']['name']} => {r['dst']['name']} : {r['allowed']}" for r in records] == LIST.splitlines()
    first = records[0]
    assert set(first) == {"src", "dst", "allowed", "grants"}
    assert first["grants"] == [{
        "protocol": "TCP", "protocol_numbers": ["6"], "ports": ["443"], "source_ports": None,
        "egress": {"action": "Allow", "reason": "profile", "tier": None, "policy": None, "rule": 0,
                   "profile": "kns.kube-system", "endpoint": None, "layer": None},
        "ingress": {"action": "Allow", "reason": "rule", "tier": "default",
                    "policy": {"kind": "KubernetesNetworkPolicy", "namespace": "staging", "name": "front-end"},
                    "rule": 0, "profile": None, "endpoint": None, "layer": None},
    }]
    outside = next(r for r in records if r["dst"]["kind"] == "external")
    assert outside["dst"]["networks"][:2] == ["0.0.0.0/1", "128.0.0.0/2"]
    every = next(r for r in records if r["allowed"] == "all traffic")
    other = next(g for g in every["grants"] if g["protocol"] == "other")
    assert other["ports"] is None and other["protocol_numbers"][0] == "2-5"


def test_csv(run: Run) -> None:
    result = run(["connections", "-f", S, "-o", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["src", "src_kind", "dst", "dst_kind", "protocol", "ports", "source_ports", "egress", "ingress"]
    database = [r for r in rows if r["dst"] == "staging/database"]
    assert database == [{
        "src": "staging/back-end", "src_kind": "endpoint", "dst": "staging/database", "dst_kind": "endpoint",
        "protocol": "TCP", "ports": "27017", "source_ports": "",
        "egress": "Allow: tier default, KubernetesNetworkPolicy staging/back-end rule 0",
        "ingress": "Allow: tier default, KubernetesNetworkPolicy staging/database rule 0",
    }]


def test_table_and_markdown(run: Run) -> None:
    table = run(["connections", "-f", S, "-o", "table", "--no-external"])
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["SOURCE", "DESTINATION", "ALLOWED"]
    assert lines[1].split() == ["kube-system/kube-dns", "staging/front-end", "TCP", "443"]
    focused = run(["connections", "-f", S, "-o", "table", "--focus", "staging/front-end", "--no-external"])
    assert focused.stdout.splitlines()[0].split() == ["DIRECTION", "SOURCE", "DESTINATION", "ALLOWED", "EGRESS", "INGRESS"]
    markdown = run(["connections", "-f", S, "-o", "markdown", "--no-external"])
    assert markdown.exit_code == 0, markdown.stderr
    rows = markdown.stdout.splitlines()
    assert rows[:3] == ["| Source | Destination | Allowed |", "|---|---|---|", "| kube-system/kube-dns | staging/front-end | TCP 443 |"]
    assert len(rows) == 2 + 6


def test_dot(run: Run) -> None:
    result = run(["connections", "-f", S, "-o", "dot"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph connections {")
    assert '"staging/back-end" -> "staging/database" [label="TCP 27017"];' in result.stdout
    if shutil.which("dot"):
        rendered = subprocess.run(["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True, check=False)
        assert rendered.returncode == 0, rendered.stderr
        assert "<svg" in rendered.stdout


def test_pods_instead_of_workloads(run: Run) -> None:
    result = run(["connections", "-f", S, "--pods", "--no-external"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 6
