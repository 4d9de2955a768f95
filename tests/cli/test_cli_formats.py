"""`-o table|json|yaml` on every verb that prints data: the documents say what the library
says, the tables hold the same, and the default outputs are unchanged."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
import yaml

import netpolicy
from netpolicy import Flow
from netpolicy.selector import Selector

from clihelp import FLOWS, ROOT, STAGING, Run

S = str(STAGING)
SHOP = str(ROOT / "examples" / "shop")
DATA = ROOT / "tests" / "flowlogs" / "data"
FLOW_ARGS = ["-f", S, "-n", "staging", "--src", "front-end", "--dst", "database", "--port", "27017"]
FLOW = Flow(src="staging/front-end", dst="staging/database", protocol="TCP", dst_port=27017)


def parse(text: str, output: str) -> Any:
    return json.loads(text) if output == "json" else yaml.safe_load(text)


def decision(d: Any) -> dict[str, Any] | None:
    """The library's decision in the documents' words."""
    if d is None:
        return None
    policy = None if d.policy is None else {"kind": d.policy.kind, "namespace": d.policy.namespace, "name": d.policy.name}
    return {"action": d.action.value, "reason": d.reason, "tier": d.tier, "policy": policy, "rule": d.rule,
            "profile": d.profile, "endpoint": d.endpoint, "layer": d.layer}


def steps(verdict: netpolicy.Verdict) -> list[dict[str, Any]]:
    return [{"event": s.event, "depth": s.depth, "text": s.text} for s in verdict.steps()]


# -- explain --------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_explain_document_is_the_verdict_and_its_trace(run: Run, staging: netpolicy.PolicySet, output: str) -> None:
    result = run(["explain", *FLOW_ARGS, "-o", output])
    assert result.exit_code == 0, result.stderr
    data = parse(result.stdout, output)
    verdict = staging.evaluate(FLOW)
    assert (data["action"], data["allowed"]) == (verdict.action.value, verdict.allowed)
    assert data["egress"] == decision(verdict.egress) and data["ingress"] == decision(verdict.ingress)
    assert data["trace"] == steps(verdict)
    assert data["flow"]["src"] == "staging/front-end" and data["flow"]["dst_port"] == 27017
    # the same document evaluate gives, plus the trace
    evaluated = json.loads(run(["evaluate", *FLOW_ARGS, "-o", "json"]).stdout)
    assert {k: v for k, v in data.items() if k != "trace"} == evaluated


def test_explain_table_has_a_row_per_step(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["explain", *FLOW_ARGS, "-o", "table"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    want = staging.evaluate(FLOW).steps()
    assert lines[0].split() == ["EVENT", "TRACE"]
    assert len(lines) == len(want) + 1
    for line, step in zip(lines[1:], want):
        event, _, trace = line.partition(" ")
        assert event == step.event
        assert trace.strip() == step.text


def test_explain_default_text_is_the_library_trace(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["explain", *FLOW_ARGS], env={"NO_COLOR": "1"})
    assert result.stdout == staging.evaluate(FLOW).explain() + "\n"
    assert run(["explain", *FLOW_ARGS, "-o", "text"], env={"NO_COLOR": "1"}).stdout == result.stdout


def test_explain_service_json_traces_each_backend(run: Run) -> None:
    shop = netpolicy.load(SHOP)
    args = ["-f", SHOP, "-n", "shop", "--src", "deploy/frontend", "--dst", "svc/db", "--port", "5432"]
    data = json.loads(run(["explain", *args, "-o", "json"]).stdout)
    want = shop.evaluate_each(Flow(src="shop/deploy/frontend", dst="shop/svc/db", protocol="TCP", dst_port=5432))
    assert data["summary"] == want.summary and len(data["verdicts"]) == len(want) > 0
    for entry, verdict in zip(data["verdicts"], want):
        assert entry["action"] == verdict.action.value
        assert entry["trace"] == steps(verdict)
    table = run(["explain", *args, "-o", "table"]).stdout
    assert table.count("EVENT") == len(want)
    assert f"({sum(v.allowed for v in want)} of {len(want)})" in table.splitlines()[-1 - len(want.notes)]


# -- validate -------------------------------------------------------------------------------


def counts(policy_set: netpolicy.PolicySet) -> dict[str, int]:
    return {"tiers": len(policy_set.tiers), "policies": len(policy_set.policies),
            "staged_policies": len(policy_set.staged_policies), "endpoints": len(policy_set.endpoints),
            "network_sets": len(policy_set.network_sets)}


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_validate_document(run: Run, staging: netpolicy.PolicySet, output: str) -> None:
    result = run(["validate", "-f", S, "-o", output])
    assert result.exit_code == 0, result.stderr
    assert parse(result.stdout, output) == {"valid": True, "counts": counts(staging), "warnings": list(staging.warnings)}


def test_validate_table(run: Run, staging: netpolicy.PolicySet) -> None:
    lines = run(["validate", "-f", S, "-o", "table"]).stdout.splitlines()
    assert lines[0].split() == ["KIND", "COUNT"]
    found = {line.rsplit(None, 1)[0]: int(line.rsplit(None, 1)[1]) for line in lines[1:]}
    assert found == {key.replace("_", " "): n for key, n in counts(staging).items()}


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_validate_problems_as_a_document_too(run: Run, tmp_path: Any, output: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n  namespace: a\n"
                   "spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.300/8\n")
    result = run(["validate", "-f", str(bad), "-o", output])
    assert result.exit_code == 3
    data = parse(result.stdout, output)
    assert data["valid"] is False and data["problems"]
    with pytest.raises(netpolicy.ValidationError) as caught:
        netpolicy.load(str(bad))
    assert [(p["file"], p["line"], p["column"], p["path"]) for p in data["problems"]] == [
        (p.file, p.line, p.column, p.path or None) for p in caught.value.problems]
    assert len(result.stderr.splitlines()) == len(data["problems"])  # stderr still says each


# -- selector and version -------------------------------------------------------------------


def test_selector_table(run: Run) -> None:
    expression = "app == 'web' && tier in {'b', 'a'}"
    lines = run(["selector", expression, "--labels", "app=web,tier=a", "-o", "table"]).stdout.splitlines()
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines)
    parsed = Selector.parse(expression)
    assert rows["SELECTOR"] == str(parsed)
    assert json.loads(rows["LABELS"]) == {"app": "web", "tier": "a"}
    assert rows["MATCHES"] == str(parsed.matches({"app": "web", "tier": "a"})).lower()


def test_version_table(run: Run) -> None:
    lines = run(["version", "-o", "table"]).stdout.splitlines()
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines)
    assert rows == {key.upper(): value for key, value in json.loads(run(["version", "-o", "json"]).stdout).items()}
    assert rows["NETPOLICY"] == netpolicy.__version__


# -- replay ---------------------------------------------------------------------------------


def recorded() -> list[Flow]:
    with open(FLOWS, newline="") as handle:
        return [Flow(src=r["src"], dst=r["dst"], protocol=r["protocol"], dst_port=int(r["dst_port"]))
                for r in csv.DictReader(handle)]


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_replay_document_is_records_and_summary(run: Run, staging: netpolicy.PolicySet, output: str) -> None:
    result = run(["replay", "-f", S, "--flows", str(FLOWS), "-o", output])
    assert result.exit_code == 0, result.stderr
    data = parse(result.stdout, output)
    verdicts = [staging.evaluate(flow) for flow in recorded()]
    assert [(r["src"], r["dst"], r["dst_port"], r["allowed"], r["action"]) for r in data["records"]] == [
        (str(v.flow.src), str(v.flow.dst), v.flow.dst_port, v.allowed, v.action.value) for v in verdicts]
    allowed = sum(v.allowed for v in verdicts)
    assert (data["summary"]["flows"], data["summary"]["allowed"], data["summary"]["denied"]) == (
        len(verdicts), allowed, len(verdicts) - allowed)
    # the records are those of -o jsonl, the summary the one on stderr as JSON
    jsonl = run(["replay", "-f", S, "--flows", str(FLOWS), "-o", "jsonl", "--summary-format", "json"])
    assert data["records"] == [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert data["summary"] == json.loads(jsonl.stderr)


def test_replay_table(run: Run, staging: netpolicy.PolicySet) -> None:
    result = run(["replay", "-f", S, "--flows", str(FLOWS), "-o", "table"])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SRC", "DST", "PROTOCOL", "DST_PORT", "ACTION", "DECIDED_BY"]
    flows = recorded()
    assert len(lines) == len(flows) + 1
    for line, flow in zip(lines[1:], flows):
        src, dst, _, port, action = line.split()[:5]
        assert (src, dst, int(port)) == (str(flow.src), str(flow.dst), flow.dst_port)
        assert action == staging.evaluate(flow).action.value


@pytest.mark.parametrize("output", ["json", "yaml", "table"])
def test_replay_of_a_calico_log_in_each_format(run: Run, output: str) -> None:
    args = ["replay", "-f", str(DATA / "cluster.yaml"), "--flows", str(DATA / "goldmane.ndjson"),
            "--input-format", "goldmane"]
    jsonl = run([*args, "-o", "jsonl", "--summary-format", "json"])
    assert jsonl.exit_code == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert records
    result = run([*args, "-o", output])
    assert result.exit_code == 0, result.stderr
    if output == "table":
        lines = result.stdout.splitlines()
        assert lines[0].split() == [key.upper() for key in records[0]]
        assert [line.split()[0] for line in lines[1:]] == [r["place"] for r in records]
    else:
        data = parse(result.stdout, output)
        assert data["records"] == records
        assert data["summary"] == json.loads(jsonl.stderr[jsonl.stderr.index("{"):])


def test_every_verb_that_prints_data_takes_table_json_yaml(run: Run) -> None:
    commands = run(["--help"]).stdout.split("Commands:")[1].splitlines()
    verbs = [line.split()[0] for line in commands if re.match(r"  \S", line)]  # not a wrapped help line
    for verb in verbs:
        if verb == "completion":  # prints a shell script, not data
            continue
        text = run([verb, "--help"]).stdout
        found = re.search(r"-o, --output \[([^\]]+)\]", text)
        assert found, verb
        assert {"table", "json", "yaml"} <= set(found[1].split("|")), verb


def test_replay_on_dask_as_a_document(run: Run, staging: netpolicy.PolicySet, tmp_path: Any) -> None:
    pytest.importorskip("dask.distributed", reason="the Dask adapter needs dask[distributed] (pip install 'netpolicy[dask]')")
    flows = recorded()[:4]
    path = tmp_path / "flows.csv"
    path.write_text("src,dst,protocol,dst_port\n" + "".join(f"{f.src},{f.dst},TCP,{f.dst_port}\n" for f in flows))
    result = run(["replay", "-f", S, "--flows", str(path), "--dask", "local:1", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    verdicts = [staging.evaluate(Flow(src=f.src, dst=f.dst, protocol="TCP", dst_port=f.dst_port)) for f in flows]
    assert [(r["src"], r["dst"], r["verdict"]) for r in data["records"]] == [
        (str(f.src), str(f.dst), v.action.value) for f, v in zip(flows, verdicts)]
    assert data["summary"]["records"] == len(flows)
    assert data["summary"]["verdicts"] == {a: sum(v.action.value == a for v in verdicts) for a in ("Allow", "Deny")
                                           if any(v.action.value == a for v in verdicts)}
