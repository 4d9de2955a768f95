"""The public surface of the matcher: which twin loaded, column input checks."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import netpolicy
from netpolicy import PolicyError

from .cluster import MANIFESTS

REQUIRE = os.environ.get("NETPOLICY_REQUIRE_EXTENSIONS") == "1"
NO_EXTENSIONS = os.environ.get("NETPOLICY_NO_EXTENSIONS") == "1"


@pytest.mark.skipif(not REQUIRE or NO_EXTENSIONS, reason="only when the compiled matcher is required")
def test_compiled_matcher_loaded() -> None:
    assert netpolicy.IMPLEMENTATION == "cython"


def test_no_extensions_forces_pure_python() -> None:
    code = "import netpolicy, netpolicy._matcher as m; print(netpolicy.IMPLEMENTATION, m.Matcher.__module__)"
    env = dict(os.environ, NETPOLICY_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["python", "netpolicy._fastmatch_py"]


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    return netpolicy.loads(MANIFESTS)


@pytest.mark.parametrize(
    "columns, error",
    [
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "port": [80]}, PolicyError),  # unknown column
        ({"src": ["10.0.0.1"]}, PolicyError),  # dst missing
        ({"src": ["10.0.0.1", "10.0.0.2"], "dst": ["10.0.0.2"]}, PolicyError),  # lengths differ
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "dst_port": [70000]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "dst_port": [-5]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "protocol": [300]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "protocol": ["TCPX"]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "protocol": ["ICMP"], "dst_port": [80]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "protocol": ["TCP"], "icmp_type": [8]}, PolicyError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "protocol": ["ICMP"], "icmp_code": [1]}, PolicyError),
        ({"src": np.array([2**40]), "dst": np.array([1])}, PolicyError),  # not IPv4
        ({"src": np.array([-1]), "dst": np.array([1])}, PolicyError),
        ({"src": ["nonsense"], "dst": ["10.0.0.2"]}, PolicyError),
        ({"src": ["x/nope"], "dst": ["10.0.0.2"]}, PolicyError),
        ({"src": np.array([1.5]), "dst": np.array([1])}, TypeError),
        ({"src": ["10.0.0.1"], "dst": ["10.0.0.2"], "dst_port": [8.5]}, TypeError),
        ({"src": [object()], "dst": ["10.0.0.2"]}, TypeError),
        ({"src": np.zeros((1, 1), np.uint32), "dst": np.zeros((1, 1), np.uint32)}, PolicyError),
        ({"src": np.array([1], np.uint32), "dst": np.array([1], np.uint32), "protocol": np.array([58])}, PolicyError),
    ],
)
def test_bad_columns_raise(ps: Any, columns: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        ps.evaluate_many(columns)


def test_bad_input_types(ps: Any) -> None:
    with pytest.raises(TypeError):
        ps.evaluate_many(42)
    with pytest.raises(TypeError):
        ps.evaluate_many("10.0.0.1")
    with pytest.raises(TypeError):
        ps.evaluate_many([("10.0.0.1", "10.0.0.2")])


def test_results_in_input_order_and_types(ps: Any) -> None:
    flows = [netpolicy.Flow("x/b", "x/a", dst_port=p) for p in (8080, 80, 9090, 443)]
    result = ps.evaluate_many(flows)
    assert result.allowed.dtype == np.bool_ and result.action.dtype == np.uint8
    assert result.allowed.tolist() == [ps.evaluate(f).allowed for f in flows]
    assert len(result) == 4 and result.flow(2) == flows[2]
    empty = ps.evaluate_many({"src": np.zeros(0, np.uint32), "dst": np.zeros(0, np.uint32)})
    assert len(empty) == 0


def test_matrix_call(ps: Any) -> None:
    m = ps.matrix("TCP", 8080)
    assert m.allowed.shape == (len(m.sources), len(m.destinations))
    assert m.allowed.dtype == np.bool_
    for i in range(len(m.sources)):
        assert m.allowed[i, i]
        for j in range(len(m.destinations)):
            if i != j:
                assert m.allowed[i, j] == m.verdict(i, j).allowed
                egress, ingress = m.decisions(i, j)
                assert (egress, ingress) == (m.verdict(i, j).egress, m.verdict(i, j).ingress)
    with pytest.raises(PolicyError):
        ps.matrix("ICMP", 80)


def test_pyarrow_table(ps: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"src": ["10.0.0.2", "10.0.0.1"], "dst": ["10.0.0.1", "10.0.0.2"], "dst_port": [8080, 80]})
    result = ps.evaluate_many(table)
    assert result.allowed.tolist() == [ps.evaluate(result.flow(k)).allowed for k in range(2)]


def test_read_only_columns_are_read_only(ps: Any) -> None:
    """Sides given by name are resolved into copies, never into the caller's arrays."""
    src = np.array([0x0A000001, 0x0A000002], np.uint32)  # 10.0.0.1 (x/a), 10.0.0.2 (x/b)
    src.setflags(write=False)
    columns = {"src": src, "dst": np.array(["x/b", "x/a"], object), "protocol": np.array([6, 6]), "dst_port": np.array([9090, 8080])}
    result = ps.evaluate_many(columns)
    assert list(src) == [0x0A000001, 0x0A000002]
    assert [bool(a) for a in result.allowed] == [ps.evaluate(result.flow(k)).allowed for k in range(2)]
