"""ClusterNetworkPolicy flows are decided by the compiled tables themselves (both
twins), never left to the reference evaluator, and as the conformance suite expects."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

import netpolicy
from netpolicy import Flow
from netpolicy.reference import evaluate as reference

CASES = sorted((pathlib.Path(__file__).resolve().parents[1] / "conformance" / "cases").glob("cnp-*.yaml"))


def _flows(case: dict[str, Any]) -> list[tuple[Flow, bool]]:
    return [(Flow(f["src"], f["dst"], f["protocol"], f.get("port")), bool(f["allowed"])) for f in case["flows"]]


def test_there_are_cnp_cases() -> None:
    assert len(CASES) == 92


@pytest.mark.parametrize("path", CASES[::3], ids=[p.stem for p in CASES[::3]])
def test_tables_decide_cnp_flows(path: pathlib.Path, make_engine: Any) -> None:
    case = yaml.safe_load(path.read_text())
    ps = netpolicy.loads(case["resources"])
    assert any(p.ref.kind == "KubernetesClusterNetworkPolicy" for p in ps.policies)
    engine = make_engine(ps)
    assert not engine.compiled.all_fallback
    flows = _flows(case)
    for flow, allowed in flows:
        verdict = engine.evaluate(flow)
        assert verdict == reference(ps, flow), flow
        assert verdict.allowed is allowed, flow
    result = engine.evaluate_many([flow for flow, _ in flows])
    assert result.allowed.tolist() == [allowed for _, allowed in flows]
    assert engine.counting.calls == 0  # every verdict came from the tables


def test_tables_decide_every_cnp_flow(make_engine: Any) -> None:
    """Every flow of every case, in one batch per case: none falls back."""
    for path in CASES:
        case = yaml.safe_load(path.read_text())
        ps = netpolicy.loads(case["resources"])  # the engine holds it weakly
        engine = make_engine(ps)
        flows = _flows(case)
        result = engine.evaluate_many([flow for flow, _ in flows])
        assert result.allowed.tolist() == [allowed for _, allowed in flows], path.stem
        assert engine.counting.calls == 0, path.stem
