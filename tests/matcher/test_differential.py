"""Hypothesis differential tests: each twin's tables == the reference evaluator, the
twins agree with each other, and batch == single, over generated policy sets and flows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpolicy import PolicyError
from netpolicy.engine import Engine
from netpolicy.reference import evaluate as reference
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


@st.composite
def flow_columns(draw: Any) -> dict[str, Any]:
    """Columns as the matchers take them: uint8 protocols, uint16 ports (0: none) and
    int16 ICMP fields (-1: none), each optional column present or None; some flows break
    the rules for their protocol."""
    n = draw(st.integers(0, 40))
    protocols = st.sampled_from([1, 6, 17, 47, 58, 132, 136, 255])

    def column(values: Any, dtype: Any) -> Any:
        return draw(st.none() | st.lists(values, min_size=n, max_size=n).map(lambda v: np.array(v, dtype)))

    return {
        "protocol": np.array(draw(st.lists(protocols, min_size=n, max_size=n)), np.uint8),
        "dst_port": column(st.sampled_from([0, 0, 1, 80, 65535]), np.uint16),
        "src_port": column(st.sampled_from([0, 0, 1, 53, 65535]), np.uint16),
        "icmp_type": column(st.sampled_from([-1, -1, 0, 8, 254]), np.int16),
        "icmp_code": column(st.sampled_from([-1, -1, 0, 3, 255]), np.int16),
    }


@SETTINGS
@given(columns=flow_columns())
def test_flow_keys_equal_each_flows_keys(both_twins: list[Any], columns: dict[str, Any]) -> None:
    """Both twins' ``flow_keys`` give each valid flow its ``flow_key``/``source_key`` and
    find the first flow that ``Flow`` refuses, and the first ICMPv6 flow."""
    from netpolicy import Flow
    from netpolicy.compile import flow_key, source_key

    n = len(columns["protocol"])

    def field(name: str, k: int, absent: int) -> int | None:
        column = columns[name]
        return None if column is None or column[k] == absent else int(column[k])

    fields = [
        (int(columns["protocol"][k]), field("dst_port", k, 0), field("src_port", k, 0), field("icmp_type", k, -1), field("icmp_code", k, -1))
        for k in range(n)
    ]

    def refused(k: int) -> bool:
        try:
            Flow("10.0.0.1", "10.0.0.2", *fields[k])
        except PolicyError:
            return True
        return False

    want_bad = next((k for k in range(n) if refused(k)), -1)
    want_icmp6 = next((k for k in range(n) if fields[k][0] == 58), -1)
    for twin in both_twins:
        key = np.zeros(n, np.uint32)
        skey = np.zeros(n, np.uint32) if columns["src_port"] is not None else None
        found = twin.flow_keys(
            columns["protocol"], columns["dst_port"], columns["src_port"], columns["icmp_type"], columns["icmp_code"], key, skey
        )
        assert found == (want_bad, want_icmp6), twin
        for k, (protocol, dport, sport, itype, icode) in enumerate(fields):
            if not refused(k):
                assert key[k] == flow_key(protocol, dport, itype, icode), (twin, k)
                assert skey is None or skey[k] == source_key(protocol, sport), (twin, k)
