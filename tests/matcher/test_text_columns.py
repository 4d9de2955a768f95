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


def _by_row(sides: Any) -> tuple[list[int], dict[int, Any]]:
    """(IPv4 sides, every other side by row)."""
    out, kinds, others = sides
    rows = {} if kinds is None else {k: others[c] for k, c in enumerate(kinds.tolist()) if c >= 0}
    return out.tolist(), rows


def _old_sides(name: str, values: list[Any], engine: Any) -> Any:
    """One value at a time, as the columns were parsed before (the reference)."""
    return _by_row(columns._each_side(engine, name, values))


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # the same error type and message are the point
        return type(exc).__name__, str(exc)


def _same_sides(ps: Any, values: list[Any], dtype: Any = object) -> None:
    engine = engine_for(ps)
    array = np.array(values, dtype=dtype) if dtype is not object else np.array(values + [None], dtype=object)[:-1]
    new = _outcome(lambda: _by_row(columns._sides(engine, "src", array)))
    old = _outcome(lambda: _old_sides("src", array.tolist(), engine))
    assert new[0] == old[0], (new, old)
    if new[0] == "ok":
        assert new[1] == old[1]
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


_SIDES = st.sampled_from(["y/c", "y/c", "x/a", "fd00::11", "10.0.1.1", "172.16.5.9", "8.8.8.8", "::1"])


@given(st.lists(st.tuples(st.one_of(_SIDES, TEXTS), _SIDES,
                          st.sampled_from([("TCP", 80), ("TCP", 8080), ("UDP", 9090), ("ICMP", None), ("ICMPv6", None)])),
                min_size=1, max_size=20))
def test_verdicts_as_the_per_flow_path(ps: Any, rows: list[tuple[str, str, tuple[str, int | None]]]) -> None:
    # object arrays: numpy's own text arrays drop trailing NULs before any parsing
    src, dst = (np.array([row[j] for row in rows] + [None], dtype=object)[:-1] for j in (0, 1))
    columns = {"src": src, "dst": dst, "protocol": [row[2][0] for row in rows], "dst_port": [row[2][1] for row in rows]}
    try:
        flows = [netpolicy.Flow(s, d, protocol=p, dst_port=port) for s, d, (p, port) in rows]
        expected = [ps.evaluate(f) for f in flows]
    except (netpolicy.PolicyError, ValueError, TypeError):
        with pytest.raises((netpolicy.PolicyError, ValueError, TypeError)):
            ps.evaluate_many(columns)
        return
    result = ps.evaluate_many(columns)
    assert result.allowed.tolist() == [v.allowed for v in expected]
    assert [result.verdict(k) for k in range(len(rows))] == expected


def test_chunks_of_many_values(ps: Any) -> None:
    rng = np.random.default_rng(3)
    n = 3 * _text.CHUNK + 5
    ints = rng.integers(0, 2**32, n, dtype=np.uint64)
    texts = [str(ipaddress.IPv4Address(int(v))) for v in ints]
    assert _text.all_v4(texts).tolist() == ints.tolist()  # type: ignore[union-attr]
    texts[-1] = "x/a"
    assert _text.all_v4(texts) is None
    _same_sides(ps, texts)


def _settled_one_by_one(engine: Any, data: dict[str, Any]) -> tuple[list[bool], dict[int, Any], list[int], list[int]]:
    """Each row's sides settled one at a time (as columns were before): v4, the other
    sides by row, and the IPv4 addresses of the v4 rows (0 elsewhere)."""
    src4, skind, sparsed = columns._each_side(engine, "src", list(data["src"]))
    dst4, dkind, dparsed = columns._each_side(engine, "dst", list(data["dst"]))
    proto = [netpolicy.Flow("0.0.0.0", "0.0.0.0", protocol=p).protocol for p in data["protocol"]]
    v4, other, s4, d4 = [], {}, [], []
    for k in range(len(proto)):
        s = sparsed[skind[k]] if skind[k] >= 0 else (4, int(src4[k]))
        d = dparsed[dkind[k]] if dkind[k] >= 0 else (4, int(dst4[k]))
        if skind[k] < 0 and dkind[k] < 0:
            v4.append(True)
            s4.append(s[1])
            d4.append(d[1])
            continue
        settled = columns.settle(s, d, proto[k])
        four = settled is not None and settled[0][0] == 4 and settled[1][0] == 4
        v4.append(four)
        s4.append(settled[0][1] if four else 0)  # type: ignore[index]
        d4.append(settled[1][1] if four else 0)  # type: ignore[index]
        if not four:
            other[k] = settled if settled is not None else (None, None)
    return v4, other, s4, d4


@given(st.lists(st.tuples(_SIDES, _SIDES, st.sampled_from(["TCP", "ICMP", "ICMPv6", "UDP"])), min_size=1, max_size=30))
def test_sides_settled_as_one_row_at_a_time(ps: Any, rows: list[tuple[str, str, str]]) -> None:
    data = {"src": [r[0] for r in rows], "dst": [r[1] for r in rows], "protocol": [r[2] for r in rows]}
    engine = engine_for(ps)
    v4, other, s4, d4 = _settled_one_by_one(engine, data)
    if any(four and p == "ICMPv6" for four, (_, _, p) in zip(v4, rows)):
        with pytest.raises(netpolicy.PolicyError, match="ICMPv6 needs IPv6"):
            columns._from_mapping(engine, {k: np.array(v, dtype=object) for k, v in data.items()})
        return
    cols = columns._from_mapping(engine, {k: np.array(v, dtype=object) for k, v in data.items()})
    assert cols.v4.tolist() == v4
    assert np.where(cols.v4, cols.src4, 0).tolist() == s4
    assert np.where(cols.v4, cols.dst4, 0).tolist() == d4
    assert {k: cols.other[k] for k in range(len(rows)) if not v4[k]} == other
