"""The compiled tables decide exactly as the reference evaluator (both twins)."""

from __future__ import annotations

import ipaddress
import itertools
import sys
from typing import Any

import numpy as np
import pytest

import netpolicy
from netpolicy import Flow, PolicyError
from netpolicy.engine import Engine
from netpolicy.reference import evaluate as reference

from .cluster import MANIFESTS

SIDES = ["x/a", "x/b", "y/c", "10.0.0.1", "10.0.1.1", "fd00::11", "192.168.3.4", "172.16.1.1", "172.16.5.5", "10.9.9.9", "8.8.8.8", "fd99::5"]
SERVICES = [("TCP", 8080), ("TCP", 9090), ("TCP", 443), ("TCP", 1500), ("TCP", 80), ("UDP", 53), ("UDP", 54), ("SCTP", 8080), ("TCP", None)]


def all_flows() -> list[Flow]:
    flows = [Flow(s, d, p, port) for s, d in itertools.product(SIDES, SIDES) for p, port in SERVICES]
    flows += [Flow(s, d, "ICMP", icmp_type=t, icmp_code=c) for s, d in itertools.product(SIDES[:6], SIDES[:6]) for t, c in [(8, None), (8, 1), (0, 0), (None, None)]]
    flows += [Flow(s, d, "ICMPv6") for s, d in itertools.product(SIDES[:4], SIDES[:4])]
    flows += [Flow(s, d, "TCP", port, src_port=sp) for s in ("y/c", "10.0.1.1") for d in SIDES for port in (80, 443) for sp in (999, 1000, 2000, 5000)]
    return flows


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    return netpolicy.loads(MANIFESTS)


def outcome(fn: Any, flow: Flow) -> Any:
    try:
        return fn(flow)
    except PolicyError as error:
        return ("error", type(error))


def test_every_flow_equals_the_reference(ps: Any, make_engine: Any) -> None:
    engine = make_engine(ps)
    flows = all_flows()
    for flow in flows:
        assert outcome(engine.evaluate, flow) == outcome(lambda f: reference(ps, f), flow), flow
    # the tables decided every flow between sides of one family themselves
    engine.counting.calls = 0
    same = [f for f in flows if not isinstance(outcome(lambda f: reference(ps, f), f), tuple)]
    for flow in same:
        engine.evaluate(flow)
    assert engine.counting.calls == 0


def test_batch_equals_single(ps: Any, make_engine: Any) -> None:
    engine = make_engine(ps)
    flows = [f for f in all_flows() if not isinstance(outcome(engine.evaluate, f), tuple)]
    result = engine.evaluate_many(flows)
    expected = [reference(ps, f) for f in flows]
    assert result.allowed.tolist() == [v.allowed for v in expected]
    assert result.action.tolist() == [1 if v.allowed else 0 for v in expected]
    for k in range(0, len(flows), 7):
        assert result.verdict(k) == expected[k]
        e = int(result.egress_decision[k])
        if e >= 0:
            assert result.decision(e).action == expected[k].egress.action
            assert result.decision(e).policy == expected[k].egress.policy


def test_columns_equal_flows(ps: Any, make_engine: Any) -> None:
    engine = make_engine(ps)
    flows = [f for f in all_flows() if f.protocol in (6, 17) and not isinstance(outcome(engine.evaluate, f), tuple)]
    text = lambda side: str(side)  # noqa: E731
    columns = {
        "src": [text(f.src) for f in flows],
        "dst": np.array([text(f.dst) for f in flows]),
        "protocol": ["TCP" if f.protocol == 6 else "udp" for f in flows],
        "dst_port": [f.dst_port for f in flows],
        "src_port": [f.src_port for f in flows],
    }
    result = engine.evaluate_many(columns)
    assert result.allowed.tolist() == [reference(ps, f).allowed for f in flows]
    # integer addresses and protocol numbers
    v4 = [f for f in flows if all(isinstance(s, ipaddress.IPv4Address) for s in (f.src, f.dst)) and f.dst_port]
    result = engine.evaluate_many(
        {
            "src": np.array([int(f.src) for f in v4], np.uint32),
            "dst": np.array([int(f.dst) for f in v4], np.int64),
            "protocol": np.array([f.protocol for f in v4], np.uint8),
            "dst_port": np.array([f.dst_port for f in v4], np.int32),
            "src_port": np.array([f.src_port or 0 for f in v4], np.int32),
        }
    )
    assert result.allowed.tolist() == [reference(ps, f).allowed for f in v4]
    assert [result.verdict(k) for k in range(len(v4))] == [reference(ps, f) for f in v4]


def test_unknown_endpoint_raises(ps: Any, make_engine: Any) -> None:
    engine = make_engine(ps)
    with pytest.raises(PolicyError):
        engine.evaluate(Flow("x/nope", "x/a"))
    with pytest.raises(PolicyError):
        engine.evaluate_many({"src": ["x/nope"], "dst": ["x/a"]})


def test_staged_and_log_verdicts(make_engine: Any) -> None:
    ps = netpolicy.loads(MANIFESTS + """
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged-deny, namespace: x}
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress: [{action: Deny}]
""")
    engine = make_engine(ps)
    for flow in all_flows()[:300]:
        assert outcome(engine.evaluate, flow) == outcome(lambda f: reference(ps, f), flow), flow


def test_matrix_equals_pairwise(ps: Any, make_engine: Any) -> None:
    from netpolicy.matrix import reachability

    engine = make_engine(ps)
    for protocol, port in [("TCP", 8080), ("TCP", 9090), ("UDP", 53), ("TCP", 443)]:
        m = reachability(engine, protocol, port)
        for i, src in enumerate(m.sources):
            for j, dst in enumerate(m.destinations):
                flow = m.flow(i, j)
                assert m.allowed[i, j] == reference(ps, flow).allowed, (src, dst, protocol, port)
    only_x = reachability(engine, "TCP", 8080, namespaces=["x"])
    assert {e.namespace for e in only_x.sources} == {"x"}


def test_host_layers_do_not_affect_workloads(make_engine: Any) -> None:
    """doNotTrack and preDNAT policies apply only to host endpoints (§C.6)."""
    ps = netpolicy.loads(MANIFESTS + """
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: raw}
spec:
  selector: all()
  doNotTrack: true
  applyOnForward: true
  types: [Ingress, Egress]
  ingress: [{action: Deny}]
  egress: [{action: Deny}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: pre}
spec:
  selector: all()
  preDNAT: true
  applyOnForward: true
  types: [Ingress]
  ingress: [{action: Deny}]
""")
    engine = make_engine(ps)
    flows = all_flows()[:400]
    for flow in flows:
        assert outcome(engine.evaluate, flow) == outcome(lambda f: reference(ps, f), flow), flow
    assert any(reference(ps, f).allowed for f in flows)


def test_use_matcher_switches_every_path(ps: Any, both_twins: list[Any]) -> None:
    engine = Engine(ps, reference, both_twins[0])
    for twin in both_twins:
        engine.use_matcher(twin)
        assert type(engine.matcher) is twin
        flows = [f for f in all_flows() if not isinstance(outcome(engine.evaluate, f), tuple)][:300]
        assert [engine.evaluate(f) for f in flows] == [reference(ps, f) for f in flows]
        assert type(engine.evaluate.__self__) is sys.modules[twin.__module__].Single  # type: ignore[attr-defined]
