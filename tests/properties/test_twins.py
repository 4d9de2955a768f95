"""Differential properties: the compiled tables (Cython twin and pure-Python twin),
``evaluate_many`` (flows and columns) and the reference evaluator all decide alike."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st

import netpolicy
from netpolicy.testing import strategies as nps

from .support import draw_flows, heavy, load, requires_evaluate_many, requires_loader

pytestmark = [requires_loader, requires_evaluate_many]


def _matchers() -> list[Any]:
    from netpolicy._fastmatch_py import Matcher as PureMatcher

    found = [PureMatcher]
    try:
        from netpolicy._fastmatch import Matcher as CompiledMatcher
    except ImportError:  # the extension is not built here
        return found
    return found + [CompiledMatcher]


def _reference(ps: netpolicy.PolicySet, flow: netpolicy.Flow) -> netpolicy.Verdict:
    from netpolicy.reference import evaluate

    return evaluate(ps, flow)


@heavy
@given(nps.manifests(), st.data())
def test_evaluate_many_equals_evaluate(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    from netpolicy.engine import ACTION_ALLOW, ACTION_DENY

    ps = load(documents)
    flows = draw_flows(data, ps, max_size=12)
    expected = [_reference(ps, flow) for flow in flows]
    result = ps.evaluate_many(flows)
    assert len(result) == len(flows)
    assert result.allowed.tolist() == [v.allowed for v in expected]
    assert result.action.tolist() == [ACTION_ALLOW if v.allowed else ACTION_DENY for v in expected]
    for k, verdict in enumerate(expected):
        assert result.verdict(k) == verdict
        assert ps.evaluate(flows[k]) == verdict


@heavy
@given(nps.manifests(), st.data())
def test_evaluate_many_on_columns_equals_evaluate(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    ps = load(documents)
    flows = [f for f in draw_flows(data, ps, max_size=12) if not isinstance(f.src, netpolicy.Endpoint) and not isinstance(f.dst, netpolicy.Endpoint)]
    if not flows:
        return
    columns: dict[str, list[Any]] = {
        "src": [str(f.src) for f in flows],
        "dst": [str(f.dst) for f in flows],
        "protocol": [f.protocol for f in flows],
        "dst_port": [f.dst_port for f in flows],
        "src_port": [f.src_port for f in flows],
        "icmp_type": [f.icmp_type for f in flows],
        "icmp_code": [f.icmp_code for f in flows],
    }
    result = ps.evaluate_many(columns)
    assert result.allowed.tolist() == [_reference(ps, f).allowed for f in flows]


@pytest.mark.parametrize("matcher", _matchers(), ids=lambda m: m.__module__.rsplit(".", 1)[-1])
@heavy
@given(documents=nps.manifests(), data=st.data())
def test_compiled_twins_equal_the_reference(matcher: Any, documents: list[dict[str, Any]], data: st.DataObject) -> None:
    from netpolicy.engine import Engine

    ps = load(documents)
    engine = Engine(ps, _reference, matcher=matcher)
    flows = draw_flows(data, ps, max_size=12)
    expected = [_reference(ps, flow) for flow in flows]
    for flow, verdict in zip(flows, expected):
        assert engine.evaluate(flow) == verdict
    assert engine.evaluate_many(flows).allowed.tolist() == [v.allowed for v in expected]


def test_both_twins_are_tested_where_the_extension_is_built() -> None:
    if netpolicy.IMPLEMENTATION == "cython":
        assert len(_matchers()) == 2
