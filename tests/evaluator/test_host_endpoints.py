"""§C.6, H.15: host endpoints, for traffic to and from processes on the host."""

from __future__ import annotations

from evalmodels import ALLOW, DENY, TCP, UDP, gnp, host, pod, policy_set, side
from netpolicy import Flow
from netpolicy.model import PortRange, Rule
from netpolicy.verdict import Layer, Reason

H = host("node1", "172.16.0.1", labels={"role": "node"}, node="node1")
OPEN = host("node2", "172.16.0.2", labels={"role": "node"}, profiles=("projectcalico-default-allow",), node="node2")
A = pod("x", "a", "10.0.0.1", labels={"app": "a"}, node="node2")
LOCAL = pod("x", "local", "10.0.0.9", labels={"app": "local"}, node="node1")
OUTSIDE = "192.0.2.1"


def to_host(port: int, *policies, protocol: str = "TCP", src: str = OUTSIDE):
    return policy_set(endpoints=[H, OPEN, A, LOCAL], policies=policies).evaluate(Flow(src, "172.16.0.1", protocol=protocol, dst_port=port))


def test_a_host_endpoint_with_no_policy_and_no_profile_denies() -> None:
    v = to_host(8080)
    assert not v.allowed
    assert (v.ingress.reason, v.ingress.layer, v.ingress.endpoint) == (Reason.NO_PROFILE_MATCH, Layer.NORMAL, "node1")


def test_failsafe_ports_are_allowed_before_policy() -> None:
    v = to_host(22, gnp("deny", "role == 'node'", ingress=[Rule(DENY)]))
    assert v.allowed and v.ingress.reason == Reason.FAILSAFE
    assert to_host(68, protocol="UDP").ingress.reason == Reason.FAILSAFE
    assert to_host(53, protocol="UDP").ingress.reason == Reason.NO_PROFILE_MATCH  # udp 53 is outbound only
    ps = policy_set(endpoints=[H], policies=[gnp("deny", "role == 'node'", egress=[Rule(DENY)])])
    out = ps.evaluate(Flow("172.16.0.1", OUTSIDE, protocol="UDP", dst_port=53))
    assert out.allowed and out.egress.reason == Reason.FAILSAFE
    assert not ps.evaluate(Flow("172.16.0.1", OUTSIDE, protocol="TCP", dst_port=22)).allowed


def test_profiles_of_a_host_endpoint() -> None:
    ps = policy_set(endpoints=[OPEN])
    v = ps.evaluate(Flow(OUTSIDE, "172.16.0.2", dst_port=8080))
    assert v.allowed and (v.ingress.reason, v.ingress.profile) == (Reason.PROFILE, "projectcalico-default-allow")


def test_normal_policy_applies_to_host_traffic() -> None:
    allow = gnp("web", "role == 'node'", ingress=[Rule(ALLOW, protocol=TCP, destination=side(ports=(PortRange(8080, 8080),)))])
    assert to_host(8080, allow).ingress.policy.name == "web"
    assert to_host(8081, allow).ingress.reason == Reason.END_OF_TIER


def test_untracked_allow_skips_the_normal_layer() -> None:
    untracked = gnp("raw", "role == 'node'", ingress=[Rule(ALLOW, protocol=TCP)], do_not_track=True, apply_on_forward=True)
    deny = gnp("deny", "role == 'node'", ingress=[Rule(DENY)])
    v = to_host(8080, untracked, deny)
    assert v.allowed and (v.ingress.layer, v.ingress.policy.name) == (Layer.UNTRACKED, "raw")


def test_untracked_deny_drops_and_no_verdict_passes_on() -> None:
    untracked = gnp("raw", "role == 'node'", ingress=[Rule(DENY, protocol=UDP)], do_not_track=True, apply_on_forward=True)
    allow = gnp("allow", "role == 'node'", ingress=[Rule(ALLOW)])
    v = to_host(8080, untracked, allow, protocol="UDP")
    assert not v.allowed and v.ingress.layer == Layer.UNTRACKED
    v = to_host(8080, untracked, allow)  # TCP: the untracked tier ends with Pass, normal allows
    assert v.allowed and (v.ingress.layer, v.ingress.policy.name) == (Layer.NORMAL, "allow")


def test_pre_dnat_policies_are_ingress_only() -> None:
    pre = gnp("pre", "role == 'node'", ingress=[Rule(DENY, source=side(nets=("192.0.2.0/24",)))], pre_dnat=True,
              apply_on_forward=True)
    allow = gnp("allow", "role == 'node'", ingress=[Rule(ALLOW)], egress=[Rule(ALLOW)])
    v = to_host(8080, pre, allow)
    assert not v.allowed and (v.ingress.layer, v.ingress.policy.name) == (Layer.PRE_DNAT, "pre")
    v = to_host(8080, pre, allow, src="198.51.100.1")
    assert v.allowed and v.ingress.layer == Layer.NORMAL
    ps = policy_set(endpoints=[H], policies=[pre, allow])
    assert ps.evaluate(Flow("172.16.0.1", "192.0.2.1", dst_port=80)).egress.layer == Layer.NORMAL


def test_untracked_and_pre_dnat_policies_do_not_affect_workloads() -> None:
    raw = gnp("raw", "all()", ingress=[Rule(DENY)], do_not_track=True, apply_on_forward=True)
    pre = gnp("pre", "all()", ingress=[Rule(DENY)], pre_dnat=True, apply_on_forward=True)
    ps = policy_set(endpoints=[A], policies=[raw, pre])
    v = ps.evaluate(Flow(OUTSIDE, "x/a", dst_port=80))
    assert v.allowed and v.ingress.reason == Reason.PROFILE and v.ingress.layer is None


def test_host_to_a_local_workload_is_not_policed() -> None:
    deny = gnp("deny", "all()", ingress=[Rule(DENY)], egress=[Rule(DENY)])
    ps = policy_set(endpoints=[H, LOCAL, A], policies=[deny])
    v = ps.evaluate(Flow("172.16.0.1", "x/local", dst_port=80))
    assert v.allowed and v.egress is None and v.ingress is None
    # a workload on another node is policed on both sides
    v = ps.evaluate(Flow("172.16.0.1", "x/a", dst_port=80))
    assert not v.allowed and v.egress.endpoint == "node1" and v.ingress.endpoint == "x/a"


def test_workload_to_its_own_host_is_accepted_after_the_workload_egress() -> None:
    ps = policy_set(endpoints=[H, LOCAL], policies=[gnp("deny-host", "role == 'node'", ingress=[Rule(DENY)])])
    v = ps.evaluate(Flow("x/local", "172.16.0.1", dst_port=8080))
    assert v.allowed and v.ingress is None and v.egress.reason == Reason.PROFILE
    ps = policy_set(endpoints=[H, LOCAL], policies=[gnp("deny-out", "app == 'local'", egress=[Rule(DENY)])])
    assert not ps.evaluate(Flow("x/local", "172.16.0.1", dst_port=8080)).allowed


def test_forwarded_traffic_is_not_modelled_and_the_trace_says_so() -> None:
    pre = gnp("pre", "role == 'node'", ingress=[Rule(DENY)], pre_dnat=True, apply_on_forward=True)
    ps = policy_set(endpoints=[H, LOCAL], policies=[pre])
    v = ps.evaluate(Flow(OUTSIDE, "x/local", dst_port=80))
    assert v.allowed and v.ingress.endpoint == "x/local"
    assert "forwarded traffic through host endpoints is not modelled" in v.explain()
    plain = policy_set(endpoints=[H, LOCAL]).evaluate(Flow(OUTSIDE, "x/local", dst_port=80))
    assert "not modelled" not in plain.explain()
