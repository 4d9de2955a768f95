"""Hypothesis differential tests: each twin's tables == the reference evaluator, the
twins agree with each other, and batch == single, over generated policy sets and flows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpolicy import PolicyError
from netpolicy.batch import Engine
from netpolicy.evaluate import evaluate as reference
from netpolicy.testing import strategies as nps

pytestmark = pytest.mark.hypothesis

def policy_sets(**kwargs: Any) -> st.SearchStrategy[Any]:
    """Generated policy sets (skipping the rare generated manifest list that does not load)."""
    from netpolicy import from_objects

    def load(objects: Any) -> Any:
        try:
            return from_objects(objects)
        except PolicyError:
            return None

    return nps.manifests(**kwargs).map(load).filter(lambda ps: ps is not None)


SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)


def _outcome(fn: Any, flow: Any) -> Any:
    try:
        return fn(flow)
    except PolicyError as error:
        return ("error", type(error).__name__)


@SETTINGS
@given(data=st.data(), ps=policy_sets(max_pods=5, max_policies=5, max_rules=3))
def test_tables_equal_reference(matcher_class: Any, data: st.DataObject, ps: Any) -> None:
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    flows = data.draw(st.lists(nps.flows(ps), min_size=1, max_size=25))
    expected = [_outcome(lambda f: reference(ps, f), f) for f in flows]
    got = [_outcome(engine.evaluate, f) for f in flows]
    for flow, want, have in zip(flows, expected, got):
        assert have == want, flow
    ok = [f for f, v in zip(flows, expected) if not isinstance(v, tuple)]
    if ok:
        result = engine.evaluate_many(ok)
        assert result.allowed.tolist() == [reference(ps, f).allowed for f in ok]
        assert [result.verdict(k) for k in range(len(ok))] == [reference(ps, f) for f in ok]


@SETTINGS
@given(data=st.data(), ps=policy_sets(max_pods=6, max_policies=6, max_rules=3, ipv6=False))
def test_twins_agree_on_raw_addresses(both_twins: list[Any], data: st.DataObject, ps: Any) -> None:
    """Both twins decide the same on arbitrary IPv4 addresses and keys, batch == one."""
    engines = [Engine(ps, lambda p, f: reference(p, f), twin) for twin in both_twins]
    compiled = engines[0].compiled
    addresses = [int(ip) for e in compiled.endpoints for ip in e.ips if ip.version == 4]
    address = st.one_of(st.sampled_from(addresses), st.integers(0, 2**32 - 1)) if addresses else st.integers(0, 2**32 - 1)
    key = st.one_of(st.integers(0, 2**25 - 1), st.integers(0, 2**32 - 1))
    n = data.draw(st.integers(1, 40))
    src = np.array(data.draw(st.lists(address, min_size=n, max_size=n)), np.uint32)
    dst = np.array(data.draw(st.lists(address, min_size=n, max_size=n)), np.uint32)
    keys = np.array(data.draw(st.lists(key, min_size=n, max_size=n)), np.uint32)
    skeys = np.array(data.draw(st.lists(key, min_size=n, max_size=n)), np.uint32)
    results = []
    for engine in engines:
        code, eg, ing = np.empty(n, np.uint8), np.empty(n, np.int32), np.empty(n, np.int32)
        engine.matcher.decide_v4(src, dst, keys, skeys, code, eg, ing)
        singles = [tuple(engine.matcher.decide_one_v4(int(s), int(d), int(k), int(sk))) for s, d, k, sk in zip(src, dst, keys, skeys)]
        assert singles == list(zip(code.tolist(), eg.tolist(), ing.tolist()))
        # the same, naming each side's endpoint as the address arrays do
        owners = [engine.matcher.decide_one_v4_owners(int(s), int(d), int(k), int(sk)) for s, d, k, sk in zip(src, dst, keys, skeys)]
        where = np.searchsorted(compiled.v4_starts, np.concatenate([src, dst]), side="right") - 1
        endpoints = compiled.v4_endpoint[where].tolist()
        assert [o[:3] for o in owners] == singles
        assert [o[3:] for o in owners] == list(zip(endpoints[:n], endpoints[n:]))
        results.append((code.tolist(), eg.tolist(), ing.tolist()))
    assert all(r == results[0] for r in results)


@SETTINGS
@given(ps=policy_sets(max_pods=5, max_policies=5, max_rules=3), protocol=st.sampled_from([("TCP", 80), ("TCP", 443), ("UDP", 53), ("TCP", None), ("ICMP", None)]))
def test_matrix_equals_reference(matcher_class: Any, ps: Any, protocol: Any) -> None:
    from netpolicy.matrix import reachability

    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    m = reachability(engine, *protocol)
    for i in range(len(m.sources)):
        for j in range(len(m.destinations)):
            want = True if i == j else _outcome(lambda f: reference(ps, f).allowed, m.flow(i, j))
            if isinstance(want, tuple):  # no IP family in common
                want = False
            assert bool(m.allowed[i, j]) == want, (m.sources[i], m.destinations[j])
