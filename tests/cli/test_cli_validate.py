"""`netpolicy validate`: exit 0 when valid, 3 with file:line:col lines when not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clihelp import STAGING, Run

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")

BAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad
  namespace: staging
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.300/8
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: bad-selector
spec:
  selector: app ==
"""


def test_valid_examples(run: Run) -> None:
    result = run(["validate", "-f", str(STAGING)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("valid: ")
    assert result.stderr == ""


def test_problems_each_on_a_line(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = run(["validate", "-f", str(STAGING), "-f", str(bad)])
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) >= 2
    found = [LINE.match(line) for line in lines]
    assert all(found), lines
    assert {m["file"] for m in found if m} == {str(bad)}
    places = {(int(m["line"]), m["message"]) for m in found if m}
    assert any(line == 11 for line, _ in places), places  # the cidr
    assert any(line in (17, 18) for line, _ in places), places  # the selector


def test_stdin(run: Run) -> None:
    result = run(["validate", "-f", "-"], input=BAD)
    assert result.exit_code == 3
    assert all(LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    good = run(["validate", "-f", "-"], input=(STAGING / "20-kubernetes-networkpolicies.yaml").read_text())
    assert good.exit_code == 0


def test_unknown_kind(run: Run) -> None:
    text = "apiVersion: projectcalico.org/v3\nkind: Gizmo\nmetadata: {name: g}\n"
    assert run(["validate", "-f", "-"], input=text).exit_code == 3
    assert run(["validate", "-f", "-"], input=text).stderr == (
        "<input>:2:7: unknown kind 'Gizmo' (apiVersion 'projectcalico.org/v3'); skip unknown kinds with --no-strict "
        "(document 1, Gizmo g, kind)\n"
    )
    lenient = run(["validate", "-f", "-", "--no-strict"], input=text)
    assert lenient.exit_code == 0
    assert "warning:" in lenient.stderr and "Gizmo" in lenient.stderr


def test_not_yaml(run: Run) -> None:
    result = run(["validate", "-f", "-"], input="a: [1, 2\n")
    assert result.exit_code == 3
    assert result.stderr.strip()


@pytest.mark.parametrize("args", [["validate"], ["validate", "-f", "missing.yaml"], ["validate", "-f", "-", "-f", "-"]])
def test_usage(run: Run, args: list[str]) -> None:
    assert run(args, input="").exit_code == 2


NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"


def test_max_input_size(run: Run, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(NAMESPACE + "#" * 2048 + "\n")
    result = run(["validate", "-f", str(big), "--max-input-size", "1K"])
    assert result.exit_code == 3
    assert result.stderr == f"{big}: the input is larger than the limit of 1 KiB; raise the limit with --max-input-size\n"
    assert run(["validate", "-f", str(big), "--max-input-size", "1MiB"]).exit_code == 0
    assert run(["validate", "-f", str(big)]).exit_code == 0  # 1 GiB by default
    piped = run(["validate", "-f", "-", "--max-input-size", "100"], input=NAMESPACE * 10)
    assert piped.exit_code == 3
    assert "the input is larger than the limit of 100 bytes" in piped.stderr


@pytest.mark.parametrize("size", ["lots", "0", "1.5G", "-1"])
def test_max_input_size_must_be_a_size(run: Run, size: str) -> None:
    result = run(["validate", "-f", "-", "--max-input-size", size], input=NAMESPACE)
    assert result.exit_code == 2
    assert "is not a size" in result.stderr


def test_datastore(run: Run) -> None:
    text = NAMESPACE + "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: kns.prod}\nspec: {}\n"
    result = run(["validate", "-f", "-"], input=text)
    assert result.exit_code == 3
    assert "Profile kns.prod would replace the profile Calico generates from Namespace prod" in result.stderr
    assert "load with --datastore etcd" in result.stderr and "datastore='etcd'" not in result.stderr
    assert run(["validate", "-f", "-", "--datastore", "kubernetes"], input=text).exit_code == 3
    assert run(["validate", "-f", "-", "--datastore", "etcd"], input=text).exit_code == 0
    assert run(["validate", "-f", "-", "--datastore", "consul"], input=text).exit_code == 2
