"""`netpolicy replay`: per-record verdicts equal to the library's, and the summary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import netpolicy
from netpolicy import Flow

from clihelp import FLOWS, ROOT, STAGING, Run, check_golden

S = str(STAGING)


def expected(staging: netpolicy.PolicySet) -> list[tuple[str, str, str, int, bool]]:
    with open(FLOWS, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (r["src"], r["dst"], r["protocol"], int(r["dst_port"]),
         staging.evaluate(Flow(src=r["src"], dst=r["dst"], protocol=r["protocol"], dst_port=int(r["dst_port"]))).allowed)
        for r in rows
    ]


def test_csv_records_equal_library(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["replay", "-f", S, "--flows", str(FLOWS)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    want = expected(staging)
    assert [(r["src"], r["dst"], r["protocol"], int(r["dst_port"]), r["allowed"] == "true") for r in rows] == want
    assert all(r["action"] == ("Allow" if r["allowed"] == "true" else "Deny") for r in rows)
    allowed = sum(1 for w in want if w[-1])
    assert f"{len(want)} flows: {allowed} allowed, {len(want) - allowed} denied" in result.stderr
    assert "denied by:" in result.stderr and "end of tier default" in result.stderr


def test_golden(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(["replay", "-f", "examples/staging", "--flows", "examples/flows.csv"])
    check_golden("replay.csv", result.stdout)
    check_golden("replay-summary.txt", result.stderr)


def test_jsonl_in_and_out_from_stdin(run: Run, staging: netpolicy.PolicySet) -> None:
    want = expected(staging)
    lines = "".join(json.dumps({"src": s, "dst": d, "protocol": p, "dst_port": port}) + "\n" for s, d, p, port, _ in want)
    result = run(["replay", "-f", S, "--flows", "-", "-o", "jsonl"], input=lines)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["allowed"] for r in records] == [w[-1] for w in want]
    assert all(r["decided_by"] for r in records)


def test_summary_file_and_no_decisions(run: Run, tmp_path: Path, staging: netpolicy.PolicySet) -> None:
    out = tmp_path / "summary.json"
    result = run(["replay", "-f", S, "--flows", str(FLOWS), "--no-decisions", "--summary", str(out)])
    assert result.exit_code == 0
    assert "decided_by" not in result.stdout.splitlines()[0]
    summary = json.loads(out.read_text())
    want = expected(staging)
    assert summary == {"flows": len(want), "allowed": sum(w[-1] for w in want), "denied": sum(not w[-1] for w in want)}
    with_decisions = tmp_path / "with.json"
    run(["replay", "-f", S, "--flows", str(FLOWS), "--summary", str(with_decisions)])
    by = json.loads(with_decisions.read_text())["by_decision"]
    assert sum(e["flows"] for e in by["Allow"]) == summary["allowed"]
    assert sum(e["flows"] for e in by["Deny"]) == summary["denied"]


def test_exit_code(run: Run, tmp_path: Path) -> None:
    assert run(["replay", "-f", S, "--flows", str(FLOWS), "--exit-code"]).exit_code == 1
    ok = tmp_path / "ok.csv"
    ok.write_text("src,dst,protocol,dst_port\nstaging/front-end,staging/back-end,TCP,443\n")
    assert run(["replay", "-f", S, "--flows", str(ok), "--exit-code"]).exit_code == 0


def test_protocol_and_port_optional(run: Run, tmp_path: Path) -> None:
    flows = tmp_path / "f.csv"
    flows.write_text("src,dst\nstaging/front-end,staging/back-end\n")
    result = run(["replay", "-f", S, "--flows", str(flows), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["protocol"] == "TCP"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("src,dst,protocol,dst_port\nstaging/front-end,staging/back-end,TCP,443\nstaging/front-end,staging/back-end,TCP,http\n", ":3: "),
        ("src,dst,protocol,dst_port\nstaging/front-end,staging/back-end,BOGUS,443\n", ":2: "),
        ("a,b\n1,2\n", ": "),
        ('{"src": "staging/front-end", "dst": "staging/back-end"}\n[1]\n', ":2: "),
        ('{"src": "staging/front-end", "dst": "staging/back-end"}\n{"src": "staging/front-end"\n', ":2: "),
    ],
)
def test_bad_records_exit_3(run: Run, tmp_path: Path, content: str, where: str) -> None:
    suffix = ".jsonl" if content.startswith("{") else ".csv"
    flows = tmp_path / ("flows" + suffix)
    flows.write_text(content)
    result = run(["replay", "-f", S, "--flows", str(flows)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith(str(flows) + where), result.stderr


def test_unknown_pod_exits_3(run: Run, tmp_path: Path) -> None:
    flows = tmp_path / "f.csv"
    flows.write_text("src,dst,protocol,dst_port\nstaging/ghost,staging/back-end,TCP,443\n")
    result = run(["replay", "-f", S, "--flows", str(flows)])
    assert result.exit_code == 3
    assert "staging/ghost" in result.stderr


def test_stdin_twice_is_usage(run: Run) -> None:
    assert run(["replay", "-f", "-", "--flows", "-"], input="").exit_code == 2


def test_parquet(run: Run, tmp_path: Path, staging: netpolicy.PolicySet) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    want = expected(staging)
    table = pa.table({
        "src": [w[0] for w in want], "dst": [w[1] for w in want],
        "protocol": [w[2] for w in want], "dst_port": [w[3] for w in want],
    })
    path = tmp_path / "flows.parquet"
    pq.write_table(table, path)
    result = run(["replay", "-f", S, "--flows", str(path), "-o", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["allowed"] for line in result.stdout.splitlines()] == [w[-1] for w in want]


def test_progress_bar_only_on_a_terminal(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    terminal = importlib.import_module("netpolicy.cli._terminal")
    flows = tmp_path / "many.csv"
    rows = ["staging/front-end,staging/back-end,TCP,443", "staging/front-end,staging/database,TCP,27017"] * 1500
    flows.write_text("src,dst,protocol,dst_port\n" + "\n".join(rows) + "\n")
    args = ["replay", "-f", S, "--flows", str(flows), "--no-decisions"]
    plain = run(args)
    assert plain.exit_code == 0
    assert plain.stderr == "3000 flows: 1500 allowed, 1500 denied\n"
    monkeypatch.setattr(terminal, "stderr_is_terminal", lambda: True)
    shown = run(args)
    assert shown.exit_code == 0
    assert shown.stdout == plain.stdout  # stdout carries the records alone
    assert "replaying" in shown.stderr
    assert shown.stderr.endswith("3000 flows: 1500 allowed, 1500 denied\n")
