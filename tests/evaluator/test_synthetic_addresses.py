"""Endpoints without an address in the manifests get synthetic ones from a pool; a
verdict that a test on such an address decided says so."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

import netpolicy
from netpolicy import Flow, PolicyError
from netpolicy.resolve.addresses import CANDIDATES, choose_pool


def deployment(name: str, namespace: str = "shop", **labels: str) -> dict[str, Any]:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                 "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    }


def pod(name: str, ip: str, namespace: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "status": {"podIP": ip}}


def egress_to(cidr: str, *, except_: tuple[str, ...] = (), app: str = "web") -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if except_:
        block["except"] = list(except_)
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": f"to-{app}", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": block}]}]},
    }


def test_the_default_pool_is_a_private_range_no_rule_mentions() -> None:
    ps = netpolicy.from_objects([deployment("web"), deployment("db")])
    assert ps.address_pool == ipaddress.ip_network("10.244.0.0/16")
    assert [(e.key, str(e.ips[0]), e.synthetic) for e in ps.endpoints] == [
        ("shop/web[Deployment]", "10.244.0.2", True),
        ("shop/db[Deployment]", "10.244.0.1", True),  # handed out in the order of the keys
    ]
    (note,) = ps.warnings
    assert "2 endpoints without an address in the manifests" in note
    assert "synthetic addresses from 10.244.0.0/16 (a range no rule mentions; pod_cidr or --pod-cidr chooses another)" in note


def test_no_pool_without_endpoints_that_need_one() -> None:
    ps = netpolicy.from_objects([pod("a", "10.0.0.1")])
    assert ps.address_pool is None and ps.warnings == ()
    assert not ps.endpoints[0].synthetic


def test_a_range_the_rules_cut_into_is_avoided() -> None:
    ps = netpolicy.from_objects([deployment("web"), egress_to("10.244.3.0/24")])
    assert ps.address_pool == ipaddress.ip_network("10.42.0.0/16")


def test_a_cidr_that_holds_the_whole_range_does_not_count() -> None:
    ps = netpolicy.from_objects([deployment("web"), egress_to("0.0.0.0/0", except_=("10.0.0.0/8",))])
    assert ps.address_pool == ipaddress.ip_network("10.244.0.0/16")


def test_choose_pool_falls_back_when_every_candidate_is_cut() -> None:
    blocks = [block for candidate in CANDIDATES for block in candidate.subnets(new_prefix=16)]
    cuts = [ipaddress.ip_network(f"{block.network_address}/24") for block in blocks]
    pool, clean = choose_pool(10, cuts)
    assert not clean and pool == ipaddress.ip_network("10.244.0.0/16")


def test_a_large_number_of_endpoints_gets_a_larger_pool() -> None:
    pool, clean = choose_pool(100_000, [])
    assert clean and pool.num_addresses >= 100_002


def test_real_addresses_in_the_pool_are_skipped() -> None:
    ps = netpolicy.from_objects([pod("real", "10.42.0.1"), deployment("web")], pod_cidr="10.42.0.0/24")
    by_key = {e.key: e for e in ps.endpoints}
    assert str(by_key["shop/web[Deployment]"].ips[0]) == "10.42.0.2"
    assert not by_key["shop/real"].synthetic


def test_pod_cidr_is_used_as_given_even_for_ipv6() -> None:
    ps = netpolicy.from_objects([deployment("web")], pod_cidr="fd00:10::/64")
    assert ps.address_pool == ipaddress.ip_network("fd00:10::/64")
    assert str(ps.endpoints[0].ips[0]) == "fd00:10::1"
    assert "the pod CIDR asked for" in ps.warnings[0]


@pytest.mark.parametrize(("value", "message"), [
    ("not-a-cidr", "pod_cidr 'not-a-cidr' is not a CIDR"),
    ("10.0.0.0/31", "the pool 10.0.0.0/31 has too few free addresses for the 3 endpoints without one"),
])
def test_bad_pod_cidrs(value: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        netpolicy.from_objects([deployment("a"), deployment("b"), deployment("c")], pod_cidr=value)


# -- verdicts ---------------------------------------------------------------------------------------


@pytest.fixture(params=["reference", "tables"])
def decide(request: pytest.FixtureRequest) -> Any:
    def run(ps: netpolicy.PolicySet, flow: Flow) -> netpolicy.Verdict:
        if request.param == "reference":
            from netpolicy.reference import evaluate

            return evaluate(ps, flow)
        result = ps.evaluate_many([flow])
        verdict = ps.evaluate(flow)
        assert bool(result.allowed[0]) is verdict.allowed
        return verdict

    return run


def test_a_nets_test_on_a_synthetic_address_is_flagged(decide: Any) -> None:
    ps = netpolicy.from_objects([deployment("web"), deployment("db"), egress_to("0.0.0.0/0", except_=("10.0.0.0/8",))])
    verdict = decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=5432))
    assert not verdict.allowed and verdict.depends_on_synthetic_address
    text = verdict.explain()
    assert "destination: WorkloadEndpoint shop/db[Deployment] (10.244.0.1, synthetic)" in text
    assert "note: rule 0 tested notNets 10.0.0.0/8 on the destination's synthetic address 10.244.0.1" in text
    assert "tested nets 0.0.0.0/0" not in text  # every pod address is in it
    assert text.splitlines()[-1].startswith("note: this verdict depends on a synthetic address (from the pool 10.244.0.0/16)")


def test_a_nets_test_that_fails_is_flagged_too(decide: Any) -> None:
    ps = netpolicy.from_objects([deployment("web"), deployment("db"), egress_to("192.168.0.0/24")])
    verdict = decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=5432))
    assert not verdict.allowed and verdict.depends_on_synthetic_address  # pods may have addresses there


@pytest.mark.parametrize("cidr", ["169.254.169.254/32", "192.0.2.0/24", "0.0.0.0/0"])
def test_a_test_no_pod_address_answers_otherwise_is_not_flagged(decide: Any, cidr: str) -> None:
    ps = netpolicy.from_objects([deployment("web"), deployment("db"), egress_to(cidr)])
    verdict = decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=5432))
    assert verdict.allowed is (cidr == "0.0.0.0/0") and not verdict.depends_on_synthetic_address


def test_with_the_pod_cidr_given_only_tests_that_cut_it_are_flagged(decide: Any) -> None:
    flow = Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=5432)
    outside = netpolicy.from_objects([deployment("web"), deployment("db"), egress_to("10.0.0.0/16")], pod_cidr="10.8.0.0/16")
    assert not decide(outside, flow).depends_on_synthetic_address
    across = netpolicy.from_objects([deployment("web"), deployment("db"), egress_to("10.8.0.0/24")], pod_cidr="10.8.0.0/16")
    assert decide(across, flow).depends_on_synthetic_address


def test_selectors_alone_do_not_depend_on_the_address(decide: Any) -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]},
    }
    ps = netpolicy.from_objects([deployment("web"), deployment("db"), policy])
    verdict = decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=5432))
    assert verdict.allowed and not verdict.depends_on_synthetic_address
    assert "note:" not in verdict.explain()


def test_an_address_side_and_real_pods_are_not_flagged(decide: Any) -> None:
    ps = netpolicy.from_objects([pod("web", "10.1.0.1"), pod("db", "10.1.0.2"), deployment("job"), egress_to("10.1.0.0/24")])
    assert not decide(ps, Flow(src="shop/web", dst="shop/db", dst_port=1)).depends_on_synthetic_address
    assert not decide(ps, Flow(src="shop/web", dst="10.1.0.2", dst_port=1)).depends_on_synthetic_address
    # the synthetic address written out is still the synthetic endpoint's
    synthetic = str(ps.endpoint("shop/job[Deployment]").ips[0])
    assert decide(ps, Flow(src="shop/web", dst=synthetic, dst_port=1)).depends_on_synthetic_address


def test_a_selector_that_matches_through_a_network_set_is_flagged(decide: Any) -> None:
    objects = [
        deployment("web"), deployment("db"),
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet", "metadata": {"name": "pods", "labels": {"role": "pods"}},
         "spec": {"nets": ["10.244.0.0/16"]}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "to-pods"},
         "spec": {"selector": "app == 'web'", "types": ["Egress"], "egress": [{"action": "Allow", "destination": {"selector": "role == 'pods'"}}]}},
    ]
    ps = netpolicy.from_objects(objects)
    verdict = decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=1))
    assert verdict.allowed and verdict.depends_on_synthetic_address
    assert "a selector on the destination's synthetic address 10.244.0.1, which GlobalNetworkSet pods holds" in verdict.explain()
    # given the pods' CIDR, which the set holds whole, every pod would match alike
    ps = netpolicy.from_objects(objects, pod_cidr="10.244.0.0/24")
    assert not decide(ps, Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]", dst_port=1)).depends_on_synthetic_address


def test_a_workload_without_running_pods_says_so_in_the_trace() -> None:
    zero = deployment("web")
    zero["spec"]["replicas"] = 0
    ps = netpolicy.from_objects([zero, deployment("db")])
    text = ps.evaluate(Flow(src="shop/web[Deployment]", dst="shop/db[Deployment]")).explain()
    assert "source: WorkloadEndpoint shop/web[Deployment] (10.244.0.2, synthetic) [no running pods: 0 replicas]" in text
