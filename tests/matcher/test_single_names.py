"""One flow whose sides are given by name (``"namespace/pod"``) on the tables: once a name
has been resolved the one-flow path reads its address from the engine's names and
decides as for two addresses, with the verdict the reference gives; and the text a Flow
is built from is parsed once, its errors unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import netpolicy
from netpolicy import Flow, PolicyError
from netpolicy import flow as flow_module
from netpolicy.engine import Engine
from netpolicy.engine.single import owners
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps

from .cluster import MANIFESTS
from .test_differential import SETTINGS, policy_sets


def outcome(fn: Any, flow: Flow) -> Any:
    try:
        return fn(flow)
    except PolicyError as error:
        return ("error", str(error))


class Other:
    """The path a Single hands a flow to; counts the flows it is handed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls = 0

    def __call__(self, flow: Flow) -> Any:
        self.calls += 1
        return self.engine.evaluate_any(flow)


def single_of(engine: Engine) -> tuple[Any, Other]:
    other = Other(engine)
    single = engine.matcher.single(owners(engine.by_reference, engine._outcomes), other, engine._ps, engine._names)
    return single, other


@pytest.mark.hypothesis
@SETTINGS
@given(data=st.data(), ps=policy_sets(max_pods=5, max_policies=5, max_rules=3))
def test_named_sides_equal_reference(matcher_class: Any, data: st.DataObject, ps: Any) -> None:
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    names = [e.key for e in ps.endpoints]
    side = st.one_of(st.sampled_from(names), nps.flows(ps).map(lambda f: f.src)) if names else nps.flows(ps).map(lambda f: f.src)
    drawn = data.draw(st.lists(nps.flows(ps), min_size=1, max_size=15))
    flows = []
    for f in drawn:  # the same flows with sides by name
        try:
            flows.append(Flow(data.draw(side), data.draw(side), f.protocol, f.dst_port, f.src_port, f.icmp_type, f.icmp_code))
        except PolicyError:
            pass
    flows += drawn
    want = [outcome(lambda f: reference(ps, f), f) for f in flows]
    for _ in range(2):  # first as names are resolved, then with them known
        assert [outcome(engine.evaluate, f) for f in flows] == want
    single, _ = single_of(engine)
    assert [outcome(single.evaluate, f) for f in flows] == want


def test_known_names_take_the_table_path(matcher_class: Any) -> None:
    ps = netpolicy.loads(MANIFESTS)
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    pods = [e.key for e in ps.endpoints if any(ip.version == 4 for ip in e.ips)]
    assert len(pods) >= 3
    flows = [Flow(a, b, "TCP", port) for a in pods for b in pods for port in (80, 8080, 9090)]
    flows += [Flow(a, "10.9.9.9", "UDP", 53) for a in pods] + [Flow("10.9.9.9", a, "ICMP", icmp_type=8) for a in pods]
    single, other = single_of(engine)
    assert not engine._names
    assert [single.evaluate(f) for f in flows] == [reference(ps, f) for f in flows]
    assert other.calls >= 1  # a name not known yet goes the other way, which learns it
    assert set(engine._names) == set(pods)
    assert engine._names[pods[0]] == int(next(ip for ip in ps.endpoint(pods[0]).ips if ip.version == 4))
    other.calls = 0
    assert [single.evaluate(f) for f in flows] == [reference(ps, f) for f in flows]
    assert other.calls < len(flows) // 4  # only what the tables leave to the reference


def test_unknown_names_still_raise(matcher_class: Any) -> None:
    ps = netpolicy.loads(MANIFESTS)
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    for _ in range(2):
        with pytest.raises(PolicyError, match="no pod.*'x/nobody'"):
            engine.evaluate(Flow("x/nobody", "10.0.0.1"))
    assert "x/nobody" not in engine._names


@pytest.mark.parametrize("side, words", [
    ("", "neither"), (" x/a", "neither"), ("x//a", "not of the form"), ("a/b/c/d", "not of the form"),
    ("10.0.0.300", "neither"), ("nonsense", "neither"),
])
def test_bad_side_text_raises_every_time(side: str, words: str) -> None:
    messages = []
    for _ in range(3):
        with pytest.raises(PolicyError, match=words) as raised:
            Flow(side, "10.0.0.1")
        messages.append(str(raised.value))
    assert len(set(messages)) == 1
    assert side not in flow_module._SIDES


def test_side_text_parsed_once() -> None:
    first, again = Flow("x/a", "10.1.2.3"), Flow("x/a", "10.1.2.3")
    assert first == again and first.dst is again.dst and str(first.dst) == "10.1.2.3"
    assert Flow("::1", "x/a").src.version == 6


@pytest.mark.parametrize("text", ["TCP", "tcp", " udp ", "ICMPv6", "icmpv6", "6", "17", " 132 "])
def test_protocol_names_remembered(text: str) -> None:
    number = flow_module._protocol_number(text)
    assert flow_module.protocol_number(text) == number
    assert flow_module.protocol_number(text) == number  # from memory
    assert Flow("10.0.0.1", "10.0.0.2", text).protocol == number


@pytest.mark.parametrize("value, words", [
    ("TCPX", "unknown protocol 'TCPX'"), ("0", "outside 1-255"), ("256", "outside 1-255"), (0, "outside 1-255"),
    (True, "name or a number"), (1.0, "name or a number, not float"),
])
def test_bad_protocols_raise_every_time(value: Any, words: str) -> None:
    for _ in range(2):
        with pytest.raises(PolicyError, match=words):
            flow_module.protocol_number(value)


@pytest.mark.parametrize("fields, words", [
    ({"dst_port": 0}, "dst_port 0 is outside 1-65535"), ({"dst_port": 65536}, "outside 1-65535"),
    ({"dst_port": True}, "dst_port must be an integer"), ({"dst_port": 80.0}, "dst_port must be an integer"),
    ({"protocol": "ICMP", "dst_port": 80}, "has no ports"), ({"protocol": 1, "dst_port": 1}, "has no ports"),
    ({"src_port": 0}, "src_port 0"), ({"icmp_type": 3}, "need protocol ICMP"),
])
def test_bad_fields_still_raise(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        Flow("10.0.0.1", "10.0.0.2", **fields)
