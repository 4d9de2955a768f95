"""`netpolicy diff`: every format says what netpolicy.diff says; exit codes; sides read
from git revisions of a temporary repository; bad sides fail labelled by side."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import shutil
import subprocess

import pytest
import yaml

from clihelp import ROOT, STAGING, Run

S = str(STAGING)
CHANGE = str(ROOT / "examples" / "staging-change")
ROW = ["added", "staging/back-end", "192.0.2.0/24", "TCP 443", "deny -> allow", "egress Deny: end of tier default",
       "egress Allow: tier default, KubernetesNetworkPolicy staging/back-end rule 1"]


def test_table(run: Run) -> None:
    result = run(["diff", "--base", S, "--head", CHANGE])
    assert result.exit_code == 0, result.output
    assert "1 newly allowed; 0 no longer allowed." in result.output
    assert "staging/back-end  192.0.2.0/24  TCP 443  deny -> allow" in result.output
    assert "after:  allow: egress Allow: tier default, KubernetesNetworkPolicy staging/back-end rule 1" in result.output


def test_csv(run: Run) -> None:
    rows = list(csv.reader(io.StringIO(run(["diff", "--base", S, "--head", CHANGE, "-o", "csv"]).output)))
    assert rows[1:] == [ROW]


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_json_and_yaml(run: Run, output: str) -> None:
    text = run(["diff", "--base", S, "--head", CHANGE, "-o", output]).output
    data = json.loads(text) if output == "json" else yaml.safe_load(text)
    assert data["added_endpoints"] == [] and data["removed_endpoints"] == []
    (change,) = data["changes"]
    assert change["change"] == "added" and change["packets"] == "TCP 443"
    assert change["ports"] == [{"protocol": "TCP", "ranges": [[443, 443]], "source_ports": None}]
    assert change["destination"] == {"name": "192.0.2.0/24", "kind": "external", "namespace": None, "endpoints": [],
                                     "networks": ["192.0.2.0/24"]}
    assert change["before"]["verdict"] == "deny" and change["before"]["ingress"] is None
    assert change["before"]["egress"]["reason"] == "end-of-tier" and change["before"]["egress"]["tier"] == "default"
    assert change["after"]["egress"]["policy"]["name"] == "back-end" and change["after"]["egress"]["rule"] == 1


def test_markdown(run: Run) -> None:
    text = run(["diff", "--base", S, "--head", CHANGE, "-o", "markdown"]).output
    assert text.startswith("### Network policy change\n")
    assert "| ➕ allowed | `staging/back-end` | `192.0.2.0/24` | TCP 443 | deny: egress Deny: end of tier default |" in text


def test_no_change(run: Run) -> None:
    result = run(["diff", "--base", S, "--head", S, "--exit-code", "--fail-on", "any"])
    assert result.exit_code == 0
    assert "No change" in result.output


@pytest.mark.parametrize(("flags", "code"), [
    (["--exit-code"], 1), (["--fail-on", "added"], 1), (["--fail-on", "removed"], 0), (["--fail-on", "any"], 1), ([], 0),
])
def test_exit_codes(run: Run, flags: list[str], code: int) -> None:
    assert run(["diff", "--base", S, "--head", CHANGE, *flags]).exit_code == code
    reverse = run(["diff", "--base", CHANGE, "--head", S, *flags])
    assert reverse.exit_code == {"--fail-on added": 0, "--fail-on removed": 1}.get(" ".join(flags), code)


def test_removed_rows_reverse_the_change(run: Run) -> None:
    rows = list(csv.reader(io.StringIO(run(["diff", "--base", CHANGE, "--head", S, "-o", "csv"]).output)))
    assert rows[1][:5] == ["removed", "staging/back-end", "192.0.2.0/24", "TCP 443", "allow -> deny"]


def test_a_side_that_fails_to_load_is_named(run: Run, tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: nowhere}\nspec: {containers: 3}\n")
    result = run(["diff", "--base", S, "--head", str(bad)])
    assert result.exit_code == 3
    assert result.stderr.startswith("head: ") and all(line.startswith("head: ") for line in result.stderr.splitlines())


def test_usage(run: Run) -> None:
    assert run(["diff", "--base", S]).exit_code == 2
    assert run(["diff", "--staged", "--base", S, "-f", S]).exit_code == 2


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


def test_git_revision_against_the_working_tree(run: Run, repo: pathlib.Path) -> None:
    rows = list(csv.reader(io.StringIO(run(["diff", "--base", "git:main:deploy/", "--head", "deploy", "-o", "csv"]).output)))
    assert rows[1:] == [ROW]


def test_git_revision_of_one_file(run: Run, repo: pathlib.Path) -> None:
    """A side made of several paths, one of them a file in a revision."""
    base = ["--base", "git:HEAD:deploy/00-namespaces.yaml", "--base", "git:HEAD:deploy/10-pods.yaml",
            "--base", "git:HEAD:deploy/20-kubernetes-networkpolicies.yaml", "--base", "git:HEAD:deploy/30-default-deny-except-dns.yaml",
            "--base", "git:HEAD:deploy/40-security-tier.yaml"]
    rows = list(csv.reader(io.StringIO(run(["diff", *base, "--head", "deploy", "-o", "csv"]).output)))
    assert rows[1:] == [ROW]


def test_a_missing_revision_exits_3(run: Run, repo: pathlib.Path) -> None:
    result = run(["diff", "--base", "git:no-such-branch:deploy", "--head", "deploy"])
    assert result.exit_code == 3
    assert "base: git:no-such-branch:deploy: no revision 'no-such-branch'" in result.stderr


def test_a_missing_path_in_a_revision_exits_3(run: Run, repo: pathlib.Path) -> None:
    result = run(["diff", "--base", "git:main:nowhere", "--head", "deploy"])
    assert result.exit_code == 3
    assert "no 'nowhere' in revision 'main'" in result.stderr


STAGED = """\
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.2}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: default.lock-b, namespace: x}
spec:
  tier: default
  selector: app == 'b'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {selector: app == 'a'}
    destination: {ports: [80]}
"""


def test_staged(run: Run, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "staged.yaml"
    path.write_text(STAGED)
    result = run(["diff", "--staged", "-f", str(path), "-o", "json", "--fail-on", "added"])
    assert result.exit_code == 0, result.output
    changes = json.loads(result.output)["changes"]
    assert [(c["change"], c["source"]["name"], c["destination"]["name"]) for c in changes] == [
        ("removed", "x/a", "x/b"), ("removed", "0.0.0.0/0", "x/b")]
    assert changes[0]["packets"].startswith("TCP 1-79,81-65535; UDP all ports")
    assert changes[0]["after"]["ingress"]["reason"] == "end-of-tier"
    assert changes[0]["before"]["ingress"]["profile"] == "kns.x"
