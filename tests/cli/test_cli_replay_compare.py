"""`netpolicy replay --base ... --head ...`: the recorded flows whose verdict changes
between two policy sets are those whose library verdicts differ, each with both sides'
deciding decisions; sides read as `diff` reads them (git revisions too), errors labelled
by side; exit codes."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import shutil
import subprocess
from typing import Any

import pytest
import yaml

import netpolicy
from netpolicy import Flow

from clihelp import ROOT, STAGING, Run

S = str(STAGING)
CHANGE = str(ROOT / "examples" / "staging-change")

#: Recorded flows: the back-end's calls out (which the change opens on 192.0.2.0/24:443),
#: and flows the change leaves alone.
ROWS = [
    ("staging/back-end", "192.0.2.10", "TCP", 443),
    ("staging/front-end", "staging/back-end", "TCP", 443),
    ("staging/back-end", "192.0.2.200", "TCP", 80),
    ("staging/back-end", "192.0.2.7", "TCP", 443),
    ("staging/front-end", "staging/database", "TCP", 27017),
    ("staging/back-end", "198.51.100.23", "TCP", 443),
    ("staging/front-end", "192.0.2.10", "TCP", 443),
    ("staging/back-end", "staging/database", "TCP", 27017),
]


@pytest.fixture
def flows(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "recorded.csv"
    path.write_text("src,dst,protocol,dst_port\n" + "".join(f"{s},{d},{p},{n}\n" for s, d, p, n in ROWS))
    return path


def decision(d: Any) -> dict[str, Any] | None:
    if d is None:
        return None
    policy = None if d.policy is None else {"kind": d.policy.kind, "namespace": d.policy.namespace, "name": d.policy.name}
    return {"action": d.action.value, "reason": d.reason, "tier": d.tier, "policy": policy, "rule": d.rule,
            "profile": d.profile, "endpoint": d.endpoint, "layer": d.layer}


def text(d: Any) -> str:
    return "not policed" if d is None else f"{d.action}: {d.why}"


def expected(path: pathlib.Path) -> list[tuple[str, netpolicy.Verdict, netpolicy.Verdict]]:
    """(place, before, after) of each recorded flow whose verdict differs, by the library."""
    base, head = netpolicy.load(S), netpolicy.load(CHANGE)
    found = []
    for line, (src, dst, protocol, port) in enumerate(ROWS, start=2):
        flow = Flow(src=src, dst=dst, protocol=protocol, dst_port=port)
        before, after = base.evaluate(flow), head.evaluate(flow)
        if before.allowed != after.allowed:
            found.append((f"{path}:{line}", before, after))
    return found


def parse(text: str, output: str) -> Any:
    return json.loads(text) if output == "json" else yaml.safe_load(text)


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_document_lists_the_flows_whose_library_verdict_changes(run: Run, flows: pathlib.Path, output: str) -> None:
    result = run(["replay", "--base", S, "--head", CHANGE, "--flows", str(flows), "-o", output])
    assert result.exit_code == 0, result.stderr
    data = parse(result.stdout, output)
    want = expected(flows)
    assert 0 < len(want) < len(ROWS)  # the flows cover both changed and unchanged verdicts
    assert [c["place"] for c in data["changes"]] == [place for place, _, _ in want]
    for change, (_, before, after) in zip(data["changes"], want):
        assert change["flow"]["src"] == str(before.flow.src) and change["flow"]["dst_port"] == before.flow.dst_port
        assert change["change"] == ("added" if after.allowed else "removed")
        for side, verdict in (("before", before), ("after", after)):
            assert change[side]["verdict"] == ("allow" if verdict.allowed else "deny")
            assert change[side]["egress"] == decision(verdict.egress)
            assert change[side]["ingress"] == decision(verdict.ingress)
    added = sum(1 for _, _, after in want if after.allowed)
    assert data["summary"] == {"flows": len(ROWS), "changed": len(want), "unchanged": len(ROWS) - len(want),
                               "added": added, "removed": len(want) - added, "absent_in_base": 0, "absent_in_head": 0}


def test_csv_rows(run: Run, flows: pathlib.Path) -> None:
    result = run(["replay", "--base", S, "--head", CHANGE, "--flows", str(flows), "-o", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    want = expected(flows)
    assert [(r["place"], r["src"], r["dst"], int(r["dst_port"])) for r in rows] == [
        (place, str(b.flow.src), str(b.flow.dst), b.flow.dst_port) for place, b, _ in want]
    for row, (_, before, after) in zip(rows, want):
        assert (row["before_egress"], row["before_ingress"]) == (text(before.egress), text(before.ingress))
        assert (row["after_egress"], row["after_ingress"]) == (text(after.egress), text(after.ingress))
    assert f"{len(want)} of {len(ROWS)} recorded flows change" in result.stderr  # the summary, off stdout


def test_table_and_exit_code(run: Run, flows: pathlib.Path) -> None:
    result = run(["replay", "--base", S, "--head", CHANGE, "--flows", str(flows), "--exit-code"])
    assert result.exit_code == 1
    want = expected(flows)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{len(want)} of {len(ROWS)} recorded flows change")
    for n, (place, before, after) in enumerate(want, 1):
        assert any(line.startswith(f"{n}. {place}: ") for line in lines)
        assert f"   after:  {'allow' if after.allowed else 'deny'}: egress {text(after.egress)}" in lines


def test_no_change(run: Run, flows: pathlib.Path) -> None:
    result = run(["replay", "--base", S, "--head", S, "--flows", str(flows), "--exit-code", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["changes"] == [] and data["summary"]["changed"] == 0 and data["summary"]["flows"] == len(ROWS)


@pytest.fixture
def repo(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    shutil.copytree(STAGING, tmp_path / "deploy")
    git("add", "deploy")
    git("commit", "-q", "-m", "base")
    shutil.rmtree(tmp_path / "deploy")
    shutil.copytree(pathlib.Path(CHANGE), tmp_path / "deploy")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_git_revision_side(run: Run, repo: pathlib.Path, flows: pathlib.Path) -> None:
    from_git = run(["replay", "--base", "git:main:deploy/", "--head", "deploy", "--flows", str(flows), "-o", "json"])
    assert from_git.exit_code == 0, from_git.stderr
    from_paths = run(["replay", "--base", S, "--head", CHANGE, "--flows", str(flows), "-o", "json"])
    assert json.loads(from_git.stdout) == json.loads(from_paths.stdout)
    missing = run(["replay", "--base", "git:no-such-branch:deploy", "--head", "deploy", "--flows", str(flows)])
    assert missing.exit_code == 3
    assert "base: git:no-such-branch:deploy: no revision 'no-such-branch'" in missing.stderr


def test_errors_are_labelled_by_side(run: Run, tmp_path: pathlib.Path, flows: pathlib.Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(STAGING, bad)
    (bad / "99-bad.yaml").write_text("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n"
                                     "  name: bad\nspec:\n  selector: app ==\n")
    result = run(["replay", "--base", S, "--head", str(bad), "--flows", str(flows)])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"head: {bad / '99-bad.yaml'}:")


def test_a_flow_one_side_cannot_decide_is_absent_there(run: Run, tmp_path: pathlib.Path) -> None:
    grown = tmp_path / "grown"
    shutil.copytree(STAGING, grown)
    (grown / "99-pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: cache\n  namespace: staging\n"
                                       "  labels: {app: cache}\nstatus:\n  podIP: 10.0.1.99\n")
    rows = [("staging/front-end", "staging/back-end", "TCP", 443), ("staging/back-end", "staging/cache", "TCP", 6379),
            ("staging/cache", "kube-system/kube-dns", "UDP", 53)]
    recorded = tmp_path / "new.csv"
    recorded.write_text("src,dst,protocol,dst_port\n" + "".join(f"{s},{d},{p},{n}\n" for s, d, p, n in rows))
    head = netpolicy.load(str(grown))
    allowed = [head.evaluate(Flow(src=s, dst=d, protocol=p, dst_port=n)).allowed for s, d, p, n in rows]
    assert allowed[2] and not allowed[1]  # the example's pods may ask DNS; nothing admits the new pod's port
    result = run(["replay", "--base", S, "--head", str(grown), "--flows", str(recorded), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # absent counts as not allowed: only the flow the head allows changes
    assert [c["place"] for c in data["changes"]] == [f"{recorded}:4"]
    (change,) = data["changes"]
    assert change["change"] == "added" and change["before"]["verdict"] == "absent"
    assert change["before"]["egress"] is None and "staging/cache" in change["before"]["decided_by"]
    assert change["after"]["egress"] == decision(head.evaluate(Flow(src=rows[2][0], dst=rows[2][1], protocol="UDP",
                                                                     dst_port=53)).egress)
    assert (data["summary"]["absent_in_base"], data["summary"]["absent_in_head"]) == (2, 0)
    # a flow neither side can decide is invalid input, each side's reason labelled
    recorded.write_text("src,dst,protocol,dst_port\nstaging/front-end,staging/back-end,TCP,443\n"
                        "staging/nowhere,staging/back-end,TCP,443\n")
    result = run(["replay", "--base", S, "--head", str(grown), "--flows", str(recorded)])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0].startswith(f"base: {recorded}:3: ")
    assert result.stderr.splitlines()[1].startswith(f"head: {recorded}:3: ")


def test_usage(run: Run, flows: pathlib.Path) -> None:
    assert run(["replay", "--base", S, "--flows", str(flows)]).exit_code == 2
    assert run(["replay", "--head", S, "--flows", str(flows)]).exit_code == 2
    assert run(["replay", "-f", S, "--base", S, "--head", S, "--flows", str(flows)]).exit_code == 2
    assert run(["replay", "--flows", str(flows)]).exit_code == 2
    calico = run(["replay", "--base", S, "--head", S, "--flows", str(flows), "--input-format", "goldmane"])
    assert calico.exit_code == 2 and "not a Calico log" in calico.stderr


def test_the_flows_a_side_cannot_decide_are_found_among_many(run: Run, tmp_path: pathlib.Path) -> None:
    grown = tmp_path / "grown"
    shutil.copytree(STAGING, grown)
    (grown / "99-pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: cache\n  namespace: staging\n"
                                       "  labels: {app: cache}\nstatus:\n  podIP: 10.0.1.99\n")
    known = "staging/front-end,staging/back-end,TCP,443\n"
    new = "staging/cache,kube-system/kube-dns,UDP,53\n"
    at = {0, 17, 18, 63, 99}  # the batch is halved until each of these is found alone
    recorded = tmp_path / "many.csv"
    recorded.write_text("src,dst,protocol,dst_port\n" + "".join(new if k in at else known for k in range(100)))
    result = run(["replay", "--head", S, "--base", str(grown), "--flows", str(recorded), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [c["place"] for c in data["changes"]] == [f"{recorded}:{k + 2}" for k in sorted(at)]
    assert all(c["change"] == "removed" and c["after"]["verdict"] == "absent" for c in data["changes"])
    assert (data["summary"]["absent_in_base"], data["summary"]["absent_in_head"]) == (0, len(at))
