"""Flow sides: names, addresses, hand-built endpoints, IP families, self-traffic,
external peers (§C.4), and the values a verdict is."""

from __future__ import annotations

import pickle
import threading

import pytest

from evalmodels import ALLOW, DENY, gnp, host, pod, policy_set, side
from netpolicy import Endpoint, Flow, PolicyError
from netpolicy.model import Rule
from netpolicy.verdict import Reason

A = pod("x", "a", "10.0.0.1", labels={"app": "a"})
B = pod("x", "b", "10.0.0.2", "fd00::2", labels={"app": "b"})
V6 = pod("x", "v6", "fd00::6", labels={"app": "v6"})
DENY_B = gnp("deny-b", "app == 'b'", ingress=[Rule(DENY)])
PS = policy_set(endpoints=[A, B, V6], policies=[DENY_B, gnp("from-a", "app == 'v6'", ingress=[Rule(ALLOW, source=side(selector="app == 'a'"))])])


def test_unknown_pod_name_is_an_error_never_external() -> None:
    with pytest.raises(PolicyError, match="x/nope"):
        PS.evaluate(Flow("x/nope", "x/b"))


def test_an_address_resolves_to_its_endpoint() -> None:
    v = PS.evaluate(Flow("10.0.0.1", "10.0.0.2", dst_port=80))
    assert v.egress.endpoint == "x/a" and v.ingress.endpoint == "x/b"
    assert v.ingress.policy.name == "deny-b"
    v6 = PS.evaluate(Flow("2001:db8::1", "fd00::2", dst_port=80))
    assert v6.egress is None and v6.ingress.endpoint == "x/b"
    with pytest.raises(PolicyError, match=r"only IPv[46] addresses"):
        PS.evaluate(Flow("192.0.2.1", "fd00::2", dst_port=80))


def test_an_unknown_address_is_an_external_peer_and_not_policed() -> None:
    v = PS.evaluate(Flow("x/a", "198.51.100.1", dst_port=80))
    assert v.allowed and v.ingress is None and v.egress.reason == Reason.PROFILE
    v = PS.evaluate(Flow("198.51.100.1", "198.51.100.2", dst_port=80))
    assert v.allowed and v.egress is None and v.ingress is None


def test_an_explicit_address_fixes_the_family() -> None:
    v = PS.evaluate(Flow("x/b", "fd00::6", dst_port=80))  # b has both families; v6 only IPv6
    assert "IPv6" in v.explain()
    with pytest.raises(PolicyError, match=r"only IPv[46] addresses"):
        PS.evaluate(Flow("x/a", "x/v6", dst_port=80))  # IPv4-only to IPv6-only


def test_a_hand_built_endpoint_is_adopted() -> None:
    me = Endpoint(labels={"app": "a"}, namespace="x", name="visitor", ips=("10.9.9.9",),
                  effective_labels={"app": "a", "projectcalico.org/namespace": "x"}, profiles=("kns.x",))
    v = PS.evaluate(Flow(me, "x/b", protocol="TCP", dst_port=80))
    assert v.egress.endpoint == "x/visitor" and v.egress.reason == Reason.PROFILE
    with pytest.raises(PolicyError, match=r"only IPv[46] addresses"):
        PS.evaluate(Flow(me, "fd00::6", dst_port=80))
    # its address is not in the inventory, yet the destination's selector matches it
    me6 = Endpoint(labels={"app": "a"}, namespace="x", name="visitor", ips=("fd00::99",),
                   effective_labels={"app": "a", "projectcalico.org/namespace": "x"}, profiles=("kns.x",))
    v = PS.evaluate(Flow(me6, "x/v6", dst_port=80))
    assert v.allowed and v.ingress.policy.name == "from-a"


def test_a_hand_built_endpoint_in_a_namespace_the_inventory_lacks_has_its_namespace_profile() -> None:
    stranger = Endpoint(labels={"app": "s"}, namespace="elsewhere", name="s", ips=("10.7.7.7",))
    v = PS.evaluate(Flow(stranger, "198.51.100.1", dst_port=80))
    assert v.allowed and (v.egress.reason, v.egress.profile) == (Reason.PROFILE, "kns.elsewhere")


def test_an_endpoint_without_addresses_is_matched_by_identity() -> None:
    me = Endpoint(labels={"app": "a"}, namespace="x", name="noip",
                  effective_labels={"app": "a", "projectcalico.org/namespace": "x"}, profiles=("kns.x",))
    v = PS.evaluate(Flow(me, "x/v6", dst_port=80))
    assert v.allowed and v.ingress.policy.name == "from-a"
    # a nets rule never contains it
    ps = policy_set(endpoints=[V6], policies=[gnp("nets", "app == 'v6'", ingress=[Rule(ALLOW, source=side(nets=("::/0",)))])])
    assert ps.evaluate(Flow(me, "x/v6", dst_port=80)).ingress.reason == Reason.END_OF_TIER


def test_self_traffic_is_allowed_without_evaluation() -> None:
    v = PS.evaluate(Flow("x/b", "x/b", dst_port=80))
    assert v.allowed and v.egress is None and v.ingress is None
    assert PS.evaluate(Flow("10.0.0.2", "x/b", dst_port=80)).allowed


def test_two_endpoints_with_one_address_is_an_error() -> None:
    twin = pod("x", "twin", "10.0.0.1")
    ps = policy_set(endpoints=[A, twin])
    with pytest.raises(PolicyError, match="several endpoints"):
        ps.evaluate(Flow("10.0.0.1", "198.51.100.1"))


# -- the verdict as a value --------------------------------------------------------------------


def test_verdicts_are_frozen_comparable_values() -> None:
    flow = Flow("x/a", "x/b", dst_port=80)
    first, second = PS.evaluate(flow), PS.evaluate(flow)
    assert first == second and hash(first) == hash(second)
    assert first != PS.evaluate(Flow("x/a", "x/b", dst_port=81))
    with pytest.raises(AttributeError):
        first.action = ALLOW  # type: ignore[misc]


def test_verdicts_and_policy_sets_pickle() -> None:
    flow = Flow("x/a", "x/b", dst_port=80)
    v = PS.evaluate(flow)
    again = pickle.loads(pickle.dumps(v))
    assert again == v
    assert again.explain() == v.explain()
    ps = pickle.loads(pickle.dumps(PS))
    assert ps.evaluate(flow) == v


def test_explain_is_recomputed_on_demand() -> None:
    v = PS.evaluate(Flow("x/a", "x/b", dst_port=80))
    assert v.trace == ()
    text = v.explain()
    assert "GlobalNetworkPolicy deny-b" in text and text.endswith("verdict: Deny")
    assert [s.event for s in v.steps()][:3] == ["flow", "endpoint", "endpoint"]


def test_evaluate_from_many_threads_agrees() -> None:
    ps = policy_set(endpoints=[A, B, V6], policies=[DENY_B])
    flows = [Flow("x/a", "x/b", dst_port=p) for p in range(1, 200)]
    results: list[list[bool]] = []

    def run() -> None:
        results.append([ps.evaluate(f).allowed for f in flows])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == [False] * len(flows) for r in results)


def test_hosts_are_resolved_by_expected_ip() -> None:
    h = host("node1-eth0", "172.16.0.1", labels={"role": "node"})
    ps = policy_set(endpoints=[A, h])
    v = ps.evaluate(Flow("x/a", "172.16.0.1", dst_port=8000))
    assert v.ingress.endpoint == "node1-eth0"


def test_an_unnamed_hand_built_endpoint() -> None:
    me = Endpoint(labels={"app": "a"}, namespace="x", ips=("10.8.8.8",))
    v = PS.evaluate(Flow(me, "x/b", dst_port=80))
    assert v.egress.endpoint == "x/<unnamed>"
    assert "egress from WorkloadEndpoint x/<unnamed>:" in v.explain()


def test_icmp_is_ipv4_only_and_icmpv6_ipv6_only() -> None:
    assert "IPv6" in PS.evaluate(Flow("x/b", "fd00::6", protocol="ICMPv6", icmp_type=128)).explain()
    assert "IPv4" in PS.evaluate(Flow("x/a", "x/b", protocol="ICMP", icmp_type=8)).explain()
    assert "IPv6" in PS.evaluate(Flow("x/b", "x/v6", protocol="ICMPv6")).explain()
    with pytest.raises(PolicyError, match="ICMPv6"):
        PS.evaluate(Flow("x/a", "x/b", protocol="ICMPv6"))  # a has no IPv6 address
    with pytest.raises(PolicyError, match="ICMP"):
        PS.evaluate(Flow("fd00::9", "x/b", protocol="ICMP"))
