"""`netpolicy evaluate` and `netpolicy explain`."""

from __future__ import annotations

import json

import pytest
import yaml

import netpolicy
from netpolicy import Flow

from clihelp import ROOT, STAGING, Run, check_golden

S = str(STAGING)
TO_BACK_END = ["-n", "staging", "--src", "front-end", "--dst", "back-end", "--port", "443"]
TO_DATABASE = ["-n", "staging", "--src", "front-end", "--dst", "database", "--port", "27017"]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_json_golden_allow(run: Run) -> None:
    result = run(["evaluate", "-f", "examples/staging", *TO_BACK_END, "-o", "json"])
    assert result.exit_code == 0
    assert result.stderr == ""
    check_golden("evaluate-allow.json", result.stdout)


def test_json_golden_deny_with_log(run: Run) -> None:
    result = run(["evaluate", "-f", "examples/staging", *TO_DATABASE, "-o", "json"])
    assert result.exit_code == 0
    check_golden("evaluate-deny.json", result.stdout)


def test_json_carries_the_contract(run: Run, staging: netpolicy.PolicySet) -> None:
    args = ["--src", "staging/back-end", "--dst", "staging/database", "--port", "27017"]
    data = json.loads(run(["evaluate", "-f", S, *args, "-o", "json"]).stdout)
    verdict = staging.evaluate(Flow(src="staging/back-end", dst="staging/database", dst_port=27017))
    assert data["action"] == "Allow" == str(verdict.action)
    assert data["allowed"] is True
    assert data["egress"]["action"] == "Allow"
    assert data["egress"]["tier"] == verdict.egress.tier
    assert data["egress"]["policy"]["name"] == verdict.egress.policy.name
    assert data["egress"]["rule"] == verdict.egress.rule
    assert data["ingress"]["policy"]["kind"] == verdict.ingress.policy.kind
    assert [entry["policy"]["name"] for entry in data["logged"]] == [r.policy.name for r in verdict.logged]
    assert data["flow"] == {
        "src": "staging/back-end", "dst": "staging/database", "protocol": "TCP",
        "dst_port": 27017, "src_port": None, "icmp_type": None, "icmp_code": None,
    }


def test_yaml_equals_json(run: Run) -> None:
    as_json = json.loads(run(["evaluate", "-f", S, *TO_DATABASE, "-o", "json"]).stdout)
    as_yaml = yaml.safe_load(run(["evaluate", "-f", S, *TO_DATABASE, "-o", "yaml"]).stdout)
    assert as_json == as_yaml
    assert as_yaml["action"] == "Deny" and as_yaml["allowed"] is False


def test_table(run: Run) -> None:
    result = run(["evaluate", "-f", S, *TO_DATABASE])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FLOW", "staging/front-end", "->", "staging/database", "TCP/27017"]
    assert lines[1].split() == ["ACTION", "Deny"]
    assert lines[2].startswith("EGRESS") and "end of tier default" in lines[2]
    assert lines[3].startswith("INGRESS") and "security.audit-database rule 1" in lines[3]


def test_exit_code(run: Run) -> None:
    assert run(["evaluate", "-f", S, *TO_DATABASE, "--exit-code"]).exit_code == 1
    assert run(["evaluate", "-f", S, *TO_BACK_END, "--exit-code"]).exit_code == 0
    assert run(["explain", "-f", S, *TO_DATABASE, "--exit-code"]).exit_code == 1
    assert run(["explain", "-f", S, *TO_BACK_END, "--exit-code"]).exit_code == 0


def test_external_address_and_other_protocols(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["evaluate", "-f", S, "--src", "203.0.113.7", "--dst", "staging/front-end", "--port", "443", "-o", "json"])
    data = json.loads(result.stdout)
    assert data["egress"] is None and data["action"] == "Deny"
    dns = json.loads(run(["evaluate", "-f", S, "--src", "staging/front-end", "--dst", "kube-system/kube-dns", "-p", "UDP", "--port", "53", "-o", "json"]).stdout)
    assert dns["action"] == str(staging.evaluate(Flow(src="staging/front-end", dst="kube-system/kube-dns", protocol="UDP", dst_port=53)).action)
    icmp = run(["evaluate", "-f", S, *TO_BACK_END[:-2], "-p", "ICMP", "--icmp-type", "8", "-o", "json"])
    assert icmp.exit_code == 0
    assert json.loads(icmp.stdout)["flow"]["icmp_type"] == 8


def test_stdin_manifests(run: Run) -> None:
    text = "\n---\n".join(p.read_text() for p in sorted(STAGING.glob("*.yaml")))
    result = run(["evaluate", "-f", "-", *TO_DATABASE, "-o", "json"], input=text)
    assert result.exit_code == 0, result.stderr
    from_files = run(["evaluate", "-f", S, *TO_DATABASE, "-o", "json"])
    assert result.stdout == from_files.stdout


def test_several_files(run: Run) -> None:
    files = sorted(STAGING.glob("*.yaml"))
    args = [a for p in files for a in ("-f", str(p))]
    assert run(["evaluate", *args, *TO_DATABASE, "-o", "json"]).stdout == run(["evaluate", "-f", S, *TO_DATABASE, "-o", "json"]).stdout


def test_explain_is_the_library_trace(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["explain", "-f", S, *TO_DATABASE])
    assert result.exit_code == 0
    verdict = staging.evaluate(Flow(src="staging/front-end", dst="staging/database", dst_port=27017))
    assert result.stdout == verdict.explain() + "\n"
    assert "verdict: Deny" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--src", "front-end", "--dst", "back-end", "-n", "a", "-n", "b"],  # two namespaces
        ["--src", "staging/front-end", "--dst", "staging/back-end", "-p", "NOPE"],  # unknown protocol
        ["--src", "staging/front-end", "--dst", "staging/back-end", "-p", "ICMP", "--port", "80"],  # ports on ICMP
        ["--src", "staging/front-end", "--dst", "staging/back-end", "--port", "70000"],
        ["--src", "staging/front-end"],  # no --dst
        ["--src", "a/b/c/d", "--dst", "staging/back-end"],
    ],
)
def test_usage_errors_exit_2(run: Run, args: list[str]) -> None:
    for verb in ("evaluate", "explain"):
        result = run([verb, "-f", S, *args])
        assert result.exit_code == 2, (verb, result.stdout, result.stderr)
        assert result.stdout == ""


def test_missing_file_and_bad_output_exit_2(run: Run) -> None:
    assert run(["evaluate", "-f", "no/such/dir", *TO_BACK_END]).exit_code == 2
    assert run(["evaluate", "-f", S, *TO_BACK_END, "-o", "xml"]).exit_code == 2


def test_unknown_pod_exits_3(run: Run) -> None:
    result = run(["evaluate", "-f", S, "--src", "staging/nobody", "--dst", "staging/back-end", "--port", "443"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "staging/nobody" in result.stderr


def test_stdin_together_with_files(run: Run) -> None:
    inventory = (STAGING / "00-namespaces.yaml").read_text() + "\n---\n" + (STAGING / "10-pods.yaml").read_text()
    policies = str(STAGING / "20-kubernetes-networkpolicies.yaml")
    result = run(["evaluate", "-f", "-", "-f", policies, *TO_BACK_END, "-o", "json"], input=inventory)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["action"] == "Allow"
    assert data["ingress"]["policy"]["name"] == "back-end"


STAGED = """
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: security.quarantine-back-end
spec:
  tier: security
  order: 5
  selector: app == 'back-end'
  types: [Egress]
  egress:
  - action: Deny
"""


def test_pending_verdict_of_staged_policies(run: Run) -> None:
    text = "\n---\n".join(p.read_text() for p in sorted(STAGING.glob("*.yaml"))) + STAGED
    args = ["--src", "staging/back-end", "--dst", "staging/database", "--port", "27017"]
    data = json.loads(run(["evaluate", "-f", "-", *args, "-o", "json"], input=text).stdout)
    assert data["action"] == "Allow"
    assert data["pending"]["action"] == "Deny" and data["pending"]["allowed"] is False
    assert data["pending"]["egress"]["policy"] == {"kind": "StagedGlobalNetworkPolicy", "namespace": None, "name": "security.quarantine-back-end"}
    table = run(["evaluate", "-f", "-", *args], input=text).stdout
    assert "PENDING  Deny (with staged policies)" in table
    without = json.loads(run(["evaluate", "-f", S, *args, "-o", "json"]).stdout)
    assert "pending" not in without
