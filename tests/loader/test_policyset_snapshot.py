"""The loaded PolicySet is a snapshot: immutable, shareable between threads, picklable;
loading never modifies its inputs and never half-loads."""

from __future__ import annotations

import copy
import pickle
import sys
import threading
from pathlib import Path

import pytest

import netpolicy
from netpolicy import Direction, ValidationError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synthetic  # noqa: E402

SMALL = synthetic.generate("small")


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    return netpolicy.loads(SMALL)


def test_synthetic_small_loads(ps: netpolicy.PolicySet) -> None:
    assert len(ps.endpoints) == 50 and len(ps.policies) == 50
    assert {"security", "platform", "application", "default"} <= {t.name for t in ps.tiers}
    assert synthetic.generate("small") == SMALL  # deterministic


def test_pickle_round_trip(ps: netpolicy.PolicySet) -> None:
    again = pickle.loads(pickle.dumps(ps))
    assert again.tiers == ps.tiers
    assert again.policies == ps.policies
    assert again.endpoints == ps.endpoints
    assert [e.effective_labels for e in again.endpoints] == [e.effective_labels for e in ps.endpoints]
    assert again.network_sets == ps.network_sets and again.profiles == ps.profiles
    assert again.warnings == ps.warnings
    endpoint = ps.endpoints[0]
    assert again.policies_for(endpoint, Direction.INGRESS) == ps.policies_for(endpoint, Direction.INGRESS)
    flow = netpolicy.Flow(src=ps.endpoints[1].key, dst=endpoint.key, protocol="TCP", dst_port=80)
    assert again.evaluate(flow).action is ps.evaluate(flow).action


def test_immutable(ps: netpolicy.PolicySet) -> None:
    with pytest.raises(AttributeError):
        ps.policies = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ps._policies = ()
    with pytest.raises(AttributeError):
        del ps._endpoints
    with pytest.raises(TypeError):
        ps.endpoints[0].labels["x"] = "y"  # type: ignore[index]
    ps.profiles.clear()  # a copy
    assert ps.profiles
    assert isinstance(ps.endpoints, tuple) and isinstance(ps.policies, tuple) and isinstance(ps.warnings, tuple)


def test_shared_between_threads(ps: netpolicy.PolicySet) -> None:
    endpoints = ps.endpoints[:10]
    expected = [[p.ref for p in ps.policies_for(e, Direction.INGRESS)] for e in endpoints]
    results: list[list[list[object]]] = []

    def work() -> None:
        results.append([[p.ref for p in ps.policies_for(e, Direction.INGRESS)] for e in endpoints])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 8


def test_loading_in_threads_at_once() -> None:
    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(len(netpolicy.loads(SMALL).policies))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert out == [50] * 4


def test_from_objects_does_not_modify_its_inputs() -> None:
    import yaml

    objects = list(yaml.safe_load_all(SMALL))
    objects.append({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "extra"}, "status": {"podIP": "10.250.0.1"}}]})
    before = copy.deepcopy(objects)
    loaded = netpolicy.from_objects(objects)
    assert objects == before
    assert len(loaded.policies) == 50 and len(loaded.endpoints) == 51


def test_nothing_is_half_loaded() -> None:
    broken = SMALL + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: Broken}\n"
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(broken)
    assert len(info.value.problems) == 1
    # The error carries the problems only: no partial PolicySet is reachable from it.
    assert not any(isinstance(v, netpolicy.PolicySet) for v in vars(info.value).values())


def test_gc_state_is_restored() -> None:
    import gc

    gc.disable()
    try:
        netpolicy.loads(SMALL)
        assert not gc.isenabled()
    finally:
        gc.enable()
    netpolicy.loads(SMALL)
    assert gc.isenabled()
    with pytest.raises(ValidationError):
        netpolicy.loads("a: [")
    assert gc.isenabled()


def test_validation_error_pickles() -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads("apiVersion: v1\nkind: Pod\nmetadata: {name: A}\n")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.problems == info.value.problems
