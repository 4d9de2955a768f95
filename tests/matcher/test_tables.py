"""The compiled tables: their bounds are proved before any matcher reads them, and tables
too large to build leave every flow to the reference evaluator."""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import given
from hypothesis import strategies as st
import numpy as np
import pytest

import netpolicy
from netpolicy.compile import KEY_BITS, compile_policyset, key_class_map, layout
from netpolicy import Flow
from netpolicy.reference import evaluate as reference

from .cluster import MANIFESTS
from .test_engine import all_flows, outcome


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    return netpolicy.loads(MANIFESTS)


def _bump(name: str, delta: int) -> Callable[[Any], None]:
    def corrupt(c: Any) -> None:
        array = getattr(c, name).copy()
        at = np.unravel_index(np.argmax(array), array.shape)
        array[at] = int(array[at]) + delta
        setattr(c, name, array)

    return corrupt


CORRUPTIONS = {
    "row offset": _bump("loc_row", 10**6),
    "groups offset": _bump("loc_tab", 10**6),
    "group in a row": _bump("rows8", 100),
    "table id": _bump("groups", 10**6),
    "outcome": _bump("tables", 10**6),
    "secondary table": lambda c: c.tables.__setitem__(0, -3 - 10**6),
    "source outcome": _bump("stables", 10**6),
    "key classes unsorted": lambda c: setattr(c, "key_starts", c.key_starts[::-1].copy()),
    "peer class": _bump("v4_peer", 10**6),
    "local class": _bump("v4_local", 10**6),
    "hash value": _bump("hash_vals", 10**6),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=list(CORRUPTIONS))
def test_out_of_bounds_tables_are_refused(ps: Any, matcher_class: Any, corrupt: Callable[[Any], None]) -> None:
    compiled = compile_policyset(ps)
    matcher_class(compiled)  # sound tables are accepted
    corrupt(compiled)
    with pytest.raises(ValueError, match="compiled tables are inconsistent"):
        matcher_class(compiled)


def test_too_large_tables_leave_flows_to_the_reference(ps: Any, make_engine: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(layout, "MAX_TABLE_CELLS", 1)
    engine = make_engine(ps)
    assert engine.compiled.all_fallback
    flows = all_flows()[:200]
    assert [outcome(engine.evaluate, f) for f in flows] == [outcome(lambda f: reference(ps, f), f) for f in flows]
    assert engine.counting.calls == len(flows)


PROFILES = "".join(  # two profiles that say the same thing under different names
    f"""---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {{name: {name}}}
spec:
  ingress:
  - {{action: Log, protocol: TCP}}
  - {{action: Allow, protocol: TCP, destination: {{ports: [80]}}}}
  - {{action: Deny}}
  egress:
  - {{action: Log}}
  - {{action: Allow}}
"""
    for name in ("first", "second")
) + "".join(
    f"""---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {{name: node1-k8s-{name}-eth0, namespace: n}}
spec:
  orchestrator: k8s
  node: node1
  pod: {name}
  endpoint: eth0
  interfaceName: cali{n}
  ipNetworks: [10.0.0.{n}/32]
  profiles: {profiles}
"""
    for n, (name, profiles) in enumerate([("a", "[first]"), ("b", "[second]"), ("c", "[second, first]"), ("d", "[first, second]")], 1)
)


def test_profiles_alike_in_content_keep_their_own_names(make_engine: Any) -> None:
    """Endpoints whose profiles say the same thing share the tables' work, yet every
    decision and Log rule names the endpoint's own profile."""
    ps = netpolicy.loads(PROFILES)
    engine = make_engine(ps)
    addresses = [f"10.0.0.{n}" for n in range(1, 5)] + ["8.8.8.8"]
    flows = [Flow(s, d, p, port) for s in addresses for d in addresses for p, port in (("TCP", 80), ("TCP", 22), ("UDP", 53))]
    named = set()
    for flow in flows:
        verdict = engine.evaluate(flow)
        assert verdict == reference(ps, flow), flow
        named.update(d.profile for d in (verdict.egress, verdict.ingress) if d is not None)
        named.update(ref.profile for ref in verdict.logged)
    assert engine.counting.calls == 0
    assert named >= {"first", "second"}
    result = engine.evaluate_many(flows)
    assert result.allowed.tolist() == [reference(ps, f).allowed for f in flows]


@given(st.lists(st.integers(1, (256 << KEY_BITS) - 1), max_size=40), st.lists(st.integers(0, (256 << KEY_BITS) - 1), min_size=1, max_size=50))
def test_key_class_map_equals_a_search(boundaries: list[int], keys: list[int]) -> None:
    starts = np.array(sorted({0, *boundaries}), np.uint32)
    layout, classes = key_class_map(starts)
    for key in keys:
        protocol, sub = key >> KEY_BITS, key & ((1 << KEY_BITS) - 1)
        offset, last = layout[protocol]
        assert classes[offset + min(sub, last)] == np.searchsorted(starts, key, side="right") - 1
