"""Addresses given as text columns to ``evaluate_many``: the vectorised parsing gives what
one value at a time gives (the per-flow path), errors included, whatever the mix of plain
IPv4, IPv6, names and malformed text."""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np
import pytest
from hypothesis import given, strategies as st

import netpolicy
from netpolicy.engine import _text, columns, engine_for

from .cluster import MANIFESTS


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    return netpolicy.loads(MANIFESTS)


def _octet() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 255).map(str), st.sampled_from(["256", "999", "00", "01", "007", "0", "1000", "",
                                                                     " 1", "1 ", "+1", "-1", "\u0661", "1\n"]))


_V4 = st.tuples(_octet(), _octet(), _octet(), _octet()).map(".".join)
_POD_IPS = ["10.0.1.1", "172.16.5.9", "172.16.0.1", "8.8.8.8", "0.0.0.0", "255.255.255.255"]
TEXTS = st.one_of(
    _V4,
    st.sampled_from(_POD_IPS),
    st.sampled_from(["x/a", "x/b", "y/c", "x/nope", "fd00::11", "::1", "fd00::11%eth0", "1.2.3.4.5", "1.2.3",
                     "1..2.3", " 10.0.1.1", "10.0.1.1 ", "10.0.1.1\x00", "a.b.c.d", "", "/", "x//a", "::ffff:1.2.3.4",
                     "1.2.3.4/32", "١.2.3.4"]),
    st.text(alphabet="0123456789./: x", max_size=17),
)


def _old_sides(name: str, values: list[Any], engine: Any) -> Any:
    """One value at a time, as the columns were parsed before (the reference)."""
    return columns._each_side(engine, name, values, {})


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # the same error type and message are the point
        return type(exc).__name__, str(exc)


def _same_sides(ps: Any, values: list[Any], dtype: Any = object) -> None:
    engine = engine_for(ps)
    array = np.array(values, dtype=dtype) if dtype is not object else np.array(values + [None], dtype=object)[:-1]
    new = _outcome(lambda: columns._sides(engine, "src", array))
    old = _outcome(lambda: _old_sides("src", array.tolist(), engine))
    assert new[0] == old[0], (new, old)
    if new[0] == "ok":
        assert new[1][0].tolist() == old[1][0].tolist()
        assert new[1][1] == old[1][1]
    else:
        assert new[1] == old[1]


@given(st.lists(TEXTS, max_size=30))
def test_text_sides_as_one_value_at_a_time(ps: Any, values: list[str]) -> None:
    _same_sides(ps, values)


@given(st.lists(st.one_of(TEXTS, st.sampled_from(_POD_IPS)), min_size=1, max_size=30))
def test_fixed_width_and_byte_columns(ps: Any, values: list[str]) -> None:
    try:
        encoded = [v.encode() for v in values]
    except UnicodeEncodeError:
        return
    _same_sides(ps, encoded)
    _same_sides(ps, values, dtype=str)


@given(st.lists(st.one_of(TEXTS, st.none(), st.integers(-1, 2**33), st.binary(max_size=16),
                          st.builds(ipaddress.ip_address, st.integers(0, 2**32 - 1)))))
def test_any_objects(ps: Any, values: list[Any]) -> None:
    _same_sides(ps, values)


@given(st.lists(_V4, max_size=40))
def test_parsers_accept_what_ipaddress_accepts(texts: list[str]) -> None:
    expected = []
    for text in texts:
        try:
            expected.append(int(ipaddress.IPv4Address(text)))
        except ValueError:
            expected.append(None)
    parsed, address = _text.some_v4(texts)
    assert [int(a) if p else None for p, a in zip(parsed.tolist(), address.tolist())] == expected
    every = _text.all_v4(texts)
    if None in expected or not texts:
        assert every is None or not texts
    else:
        assert every is not None and every.tolist() == expected


@given(st.lists(st.tuples(st.one_of(TEXTS, st.sampled_from(_POD_IPS)), st.sampled_from(_POD_IPS + ["x/a", "y/c"]),
                          st.sampled_from([80, 8080, 9090])), min_size=1, max_size=20))
def test_verdicts_as_the_per_flow_path(ps: Any, rows: list[tuple[str, str, int]]) -> None:
    # object arrays: numpy's own text arrays drop trailing NULs before any parsing
    src, dst = (np.array([row[j] for row in rows] + [None], dtype=object)[:-1] for j in (0, 1))
    port = [row[2] for row in rows]
    try:
        flows = [netpolicy.Flow(s, d, dst_port=p) for s, d, p in rows]
        expected = [ps.evaluate(f).allowed for f in flows]
    except (netpolicy.PolicyError, ValueError, TypeError):
        with pytest.raises((netpolicy.PolicyError, ValueError, TypeError)):
            ps.evaluate_many({"src": src, "dst": dst, "dst_port": port})
        return
    result = ps.evaluate_many({"src": src, "dst": dst, "dst_port": np.array(port)})
    assert result.allowed.tolist() == expected


def test_chunks_of_many_values(ps: Any) -> None:
    rng = np.random.default_rng(3)
    n = 3 * _text.CHUNK + 5
    ints = rng.integers(0, 2**32, n, dtype=np.uint64)
    texts = [str(ipaddress.IPv4Address(int(v))) for v in ints]
    assert _text.all_v4(texts).tolist() == ints.tolist()  # type: ignore[union-attr]
    texts[-1] = "x/a"
    assert _text.all_v4(texts) is None
    _same_sides(ps, texts)
