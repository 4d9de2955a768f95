"""evaluate_many over several threads: the same answers (and the same errors) whatever
the number of workers, on both twins; how the number is asked for and checked."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import netpolicy
from netpolicy import PolicyError
from netpolicy.engine import Engine, threads
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps

from .test_differential import SETTINGS, policy_sets

pytestmark = pytest.mark.hypothesis

WORKERS = (1, 2, 3)


@contextlib.contextmanager
def tiny_spans() -> Iterator[None]:
    """Spans of one flow and up: small batches are cut as large ones are."""
    saved = threads.MIN_SPAN
    threads.MIN_SPAN = 1
    try:
        yield
    finally:
        threads.MIN_SPAN = saved


def answers(result: Any) -> tuple[Any, ...]:
    return (
        result.allowed.tolist(), result.action.tolist(),
        result.egress_decision.tolist(), result.ingress_decision.tolist(),
        [result.verdict(k) for k in range(len(result))],
    )


def outcome(fn: Any) -> Any:
    try:
        return answers(fn())
    except (PolicyError, TypeError) as error:
        return (type(error).__name__, str(error))


@SETTINGS
@given(data=st.data(), ps=policy_sets(max_pods=5, max_policies=5, max_rules=3))
def test_flows_same_for_any_worker_count(matcher_class: Any, data: st.DataObject, ps: Any) -> None:
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    flows = [f for f in data.draw(st.lists(nps.flows(ps), min_size=1, max_size=20)) if _decidable(ps, f)]
    with tiny_spans():
        found = [outcome(lambda: engine.evaluate_many(flows, w)) for w in WORKERS]
    assert found[1] == found[0]
    assert found[2] == found[0]
    if flows:
        assert found[0][4] == [reference(ps, f) for f in flows]


def _decidable(ps: Any, flow: Any) -> bool:
    try:
        reference(ps, flow)
    except PolicyError:
        return False
    return True


@SETTINGS
@given(data=st.data(), ps=policy_sets(max_pods=6, max_policies=6, max_rules=3, ipv6=False))
def test_columns_same_for_any_worker_count(matcher_class: Any, data: st.DataObject, ps: Any) -> None:
    """Raw IPv4 columns, fields that may not suit their protocol (the same first wrong
    flow is named) and source ports or none."""
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    addresses = [int(ip) for e in engine.compiled.endpoints for ip in e.ips if ip.version == 4]
    address = st.one_of(st.sampled_from(addresses), st.integers(0, 2**32 - 1)) if addresses else st.integers(0, 2**32 - 1)
    n = data.draw(st.integers(1, 30), label="n")

    def column(values: st.SearchStrategy[int], dtype: Any) -> np.ndarray:
        return np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype)

    columns = {
        "src": column(address, np.uint32),
        "dst": column(address, np.uint32),
        "protocol": column(st.sampled_from([6, 6, 17, 1, 132]), np.uint8),
        "dst_port": column(st.sampled_from([0, 80, 443, 53, 8080]), np.int32),
    }
    if data.draw(st.booleans(), label="source ports"):
        columns["src_port"] = column(st.sampled_from([0, 1024, 40000]), np.int32)
    if data.draw(st.booleans(), label="icmp"):
        columns["icmp_type"] = column(st.sampled_from([-1, -1, 0, 8]), np.int16)
    with tiny_spans():
        found = [outcome(lambda: engine.evaluate_many(columns, w)) for w in WORKERS]
    assert found[1] == found[0]
    assert found[2] == found[0]


@given(n=st.integers(0, 10_000), workers=st.integers(1, 9), smallest=st.integers(1, 3_000))
def test_spans_cover_the_flows_in_order(n: int, workers: int, smallest: int) -> None:
    saved = threads.MIN_SPAN
    threads.MIN_SPAN = smallest
    try:
        cut = threads.spans(n, workers)
    finally:
        threads.MIN_SPAN = saved
    assert cut[0][0] == 0 and cut[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(cut, cut[1:]))
    assert 1 <= len(cut) <= workers
    if len(cut) > 1:
        assert min(stop - start for start, stop in cut) >= smallest


def test_a_failing_span_raises_once_all_are_done() -> None:
    done: list[int] = []

    def loop(start: int, stop: int) -> int:
        done.append(start)
        if start > 0:
            raise RuntimeError(f"span at {start}")
        return stop

    with tiny_spans(), pytest.raises(RuntimeError, match="span at"):
        threads.run_spans(4, 4, loop)
    assert sorted(done) == [0, 1, 2, 3]
    with tiny_spans():
        assert threads.run_spans(6, 3, lambda a, b: (a, b)) == [(0, 2), (2, 4), (4, 6)]


@pytest.mark.parametrize("value, expected", [(1, 1), (2, 2), (7, 7), (np.int64(3), 3), ("auto", None), (" Auto ", None)])
def test_workers_argument(value: Any, expected: int | None) -> None:
    got = threads.workers_from(value)
    assert got == (expected if expected is not None else threads._cores())


@pytest.mark.parametrize("value, error, words", [
    (0, ValueError, "workers=0"), (-2, ValueError, "workers=-2"), ("two", ValueError, "workers='two'"),
    (True, TypeError, "bool True"), (1.5, TypeError, "float 1.5"), ([2], TypeError, "list"),
])
def test_bad_workers_argument(value: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match="whole number of threads") as raised:
        threads.workers_from(value)
    assert words in str(raised.value)


@pytest.mark.parametrize("text, expected", [("", 1), ("  ", 1), ("3", 3), (" 2\n", 2), ("auto", None)])
def test_environment_variable(monkeypatch: pytest.MonkeyPatch, text: str, expected: int | None) -> None:
    monkeypatch.setenv("NETPOLICY_THREADS", text)
    assert threads.workers_from(None) == (expected if expected is not None else threads._cores())
    assert threads.workers_from(1) == 1  # the argument wins


def test_environment_variable_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETPOLICY_THREADS", raising=False)
    assert threads.workers_from(None) == 1


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", "2 cores"])
def test_bad_environment_variable(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("NETPOLICY_THREADS", text)
    with pytest.raises(ValueError, match=f"environment variable NETPOLICY_THREADS={text!r} is not a whole number"):
        threads.workers_from(None)


POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
status: {podIP: 10.0.0.1}
"""


def test_policyset_takes_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    ps = netpolicy.loads(POLICY)
    columns = {"src": np.array([167772162] * 5, np.uint32), "dst": np.array([167772161] * 5, np.uint32),
               "dst_port": np.array([80, 81, 80, 443, 80])}
    with tiny_spans():
        got = [ps.evaluate_many(columns, workers=w).allowed.tolist() for w in (1, 2, "auto")]
        monkeypatch.setenv("NETPOLICY_THREADS", "2")
        got.append(ps.evaluate_many(columns).allowed.tolist())
    assert got == [[True, False, True, False, True]] * 4
    with pytest.raises(ValueError, match="workers=0"):
        ps.evaluate_many(columns, workers=0)
    monkeypatch.setenv("NETPOLICY_THREADS", "many")
    with pytest.raises(ValueError, match="NETPOLICY_THREADS='many'"):
        ps.evaluate_many(columns)
