"""The second bundled example, examples/shop: a microservice shop as helm template
prints it (Deployments, StatefulSets, Services, NetworkPolicies, a Calico tier), no Pod.
It decides as its comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

import netpolicy
from netpolicy import Flow

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"


@pytest.fixture(scope="module")
def shop() -> netpolicy.PolicySet:
    return netpolicy.load(str(SHOP))


def test_every_workload_is_an_endpoint_with_a_synthetic_address(shop: netpolicy.PolicySet) -> None:
    assert sorted(e.key for e in shop.endpoints) == [
        "ingress-nginx/ingress-nginx-controller[Deployment]",
        "kube-system/coredns[Deployment]",
        "shop/cache[StatefulSet]",
        "shop/catalog[Deployment]",
        "shop/db[StatefulSet]",
        "shop/frontend[Deployment]",
        "shop/orders[Deployment]",
    ]
    assert all(e.synthetic for e in shop.endpoints)
    assert str(shop.address_pool) == "10.244.0.0/16"
    assert sorted(shop.names.services) == [
        "kube-system/kube-dns[Service]", "shop/cache[Service]", "shop/catalog[Service]", "shop/db[Service]",
        "shop/frontend[Service]", "shop/orders[Service]",
    ]


# (src, dst, protocol, port, allowed), as the comments of 30-networkpolicies.yaml say
FLOWS = [
    ("shop/deploy/frontend", "shop/sts/db", "TCP", 5432, False),
    ("shop/deploy/catalog", "shop/sts/db", "TCP", 5432, True),
    ("shop/deploy/orders", "shop/sts/db", "TCP", 5432, True),
    ("shop/deploy/orders", "shop/sts/cache", "TCP", 6379, True),
    ("shop/deploy/catalog", "shop/sts/cache", "TCP", 6379, False),
    ("shop/deploy/frontend", "shop/deploy/catalog", "TCP", 50051, True),
    ("shop/deploy/frontend", "shop/deploy/orders", "TCP", 8080, True),
    ("ingress-nginx/deploy/ingress-nginx-controller", "shop/deploy/frontend", "TCP", 8080, True),
    ("shop/deploy/catalog", "shop/deploy/frontend", "TCP", 8080, False),
    ("shop/deploy/frontend", "kube-system/deploy/coredns", "UDP", 53, True),
    ("shop/deploy/catalog", "169.254.169.254", "TCP", 80, False),
]


@pytest.mark.parametrize(("src", "dst", "protocol", "port", "allowed"), FLOWS)
def test_the_shop_decides_as_its_comments_say(shop: netpolicy.PolicySet, src: str, dst: str, protocol: str, port: int, allowed: bool) -> None:
    verdict = shop.evaluate(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
    assert verdict.allowed is allowed
    assert not verdict.depends_on_synthetic_address


def test_the_metadata_block_is_decided_by_the_platform_tier(shop: netpolicy.PolicySet) -> None:
    verdict = shop.evaluate(Flow(src="shop/deploy/catalog", dst="169.254.169.254", dst_port=80))
    assert verdict.egress is not None and verdict.egress.tier == "platform"
    assert str(verdict.egress.policy) == "GlobalNetworkPolicy platform.block-metadata"


def test_the_database_port_is_audited(shop: netpolicy.PolicySet) -> None:
    verdict = shop.evaluate(Flow(src="shop/deploy/orders", dst="shop/sts/db", dst_port=5432))
    assert [str(ref) for ref in verdict.logged] == ["Ingress tier platform, GlobalNetworkPolicy platform.audit-database rule 0"]


def test_services_of_the_shop(shop: netpolicy.PolicySet) -> None:
    to_frontend = shop.evaluate_each(Flow(src="ingress-nginx/deploy/ingress-nginx-controller", dst="shop/svc/frontend", dst_port=80))
    assert [(v.flow.dst, v.flow.dst_port) for v in to_frontend] == [("shop/frontend[Deployment]", 8080)]
    assert to_frontend.summary == "all"
    dns = shop.evaluate_each(Flow(src="shop/deploy/orders", dst="kube-system/svc/kube-dns", protocol="UDP", dst_port=53))
    assert dns.summary == "all"


def test_the_matrix_has_a_row_per_workload(shop: netpolicy.PolicySet) -> None:
    matrix = shop.matrix("TCP", 5432, namespaces=["shop"])
    keys = [e.key for e in matrix.sources]
    db = keys.index("shop/db[StatefulSet]")
    allowed = {keys[i] for i in range(len(keys)) if matrix.allowed[i, db] and keys[i] != "shop/db[StatefulSet]"}
    assert allowed == {"shop/catalog[Deployment]", "shop/orders[Deployment]"}
