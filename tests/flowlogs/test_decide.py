"""Deciding flow-log records: aggregated names resolve to the workload or its pods,
records without addresses or with intersected labels are decided where exact and marked
uncertain where not, never guessed."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import netpolicy
from netpolicy.flowlogs.batch import SideValue, from_rows
from netpolicy.flowlogs.decide import EXACT, UNCERTAIN, UNKNOWN, Decider, Outcome

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def shop() -> netpolicy.PolicySet:
    return netpolicy.load(DATA / "cluster.yaml")


def wep(name: str, namespace: str = "shop", labels: tuple[str, ...] | None = None) -> SideValue:
    return SideValue(name=name, namespace=namespace, kind="wep", labels=labels)


def decide(ps: netpolicy.PolicySet, *flows: tuple[SideValue, SideValue, int, int]) -> list[Outcome]:
    rows = [(k + 1, src, dst, proto, port, 0, -1, -1, 0, 0, "", "", 1) for k, (src, dst, proto, port) in enumerate(flows)]
    decider = Decider(ps)
    where = decider.decide(from_rows("log", rows))
    return [decider.outcomes[k] for k in where]


def test_aggregated_names_resolve_to_the_workload(shop: netpolicy.PolicySet) -> None:
    (allowed, denied) = decide(
        shop,
        (wep("frontend-6c9d5b7f8-*"), wep("backend-5d8f7c9b4-*"), 6, 8080),
        (wep("frontend-6c9d5b7f8-*"), wep("backend-5d8f7c9b4-*"), 6, 9090),
    )
    assert allowed.src.endpoint is not None and allowed.src.endpoint.key == "shop/frontend[Deployment]"
    assert allowed.dst.endpoint is not None and allowed.dst.endpoint.key == "shop/backend[Deployment]"
    assert (allowed.action, allowed.certainty) == ("Allow", EXACT)
    assert (denied.action, denied.certainty) == ("Deny", EXACT)
    assert allowed.label == "NetworkPolicy shop/backend (tier default) rule 0"


def test_aggregated_names_resolve_to_the_pods_of_their_owner(shop: netpolicy.PolicySet) -> None:
    (outcome,) = decide(shop, (wep("db-*"), wep("kube-dns-*", "kube-system"), 17, 53))
    # db-0 and db-1 differ in a per-pod label: both are decided, alike
    assert [e.key for e in outcome.src.groups] == ["shop/db-0", "shop/db-1"]
    assert "shop/db-0, shop/db-1" in outcome.src.note
    assert outcome.dst.endpoint is not None and outcome.dst.endpoint.key == "kube-system/kube-dns-5f7d9"
    assert outcome.certainty == EXACT


def test_a_name_of_nothing_in_the_manifests_is_not_decided(shop: netpolicy.PolicySet) -> None:
    (outcome,) = decide(shop, (wep("cache-7b9c-*"), wep("backend-5d8f7c9b4-*"), 6, 8080))
    assert (outcome.action, outcome.certainty) == (None, UNKNOWN)
    assert "no pod or workload of shop/cache-7b9c-*" in outcome.reasons[0]


def test_an_address_test_the_log_cannot_answer_is_uncertain(shop: netpolicy.PolicySet) -> None:
    # db allows 5432 from app=backend (rule 0), then from 192.168.0.0/16 (rule 1)
    private, backend, frontend = decide(
        shop,
        (SideValue(name="pvt", kind="net"), wep("db-*"), 6, 5432),
        (wep("backend-5d8f7c9b4-*"), wep("db-*"), 6, 5432),
        (wep("frontend-6c9d5b7f8-*"), SideValue(name="pub", kind="net"), 6, 443),
    )
    assert private.certainty == UNCERTAIN and "tests addresses" in private.reasons[0]
    # rule 0 matches the backend's pods before any address is tested
    assert (backend.action, backend.certainty) == ("Allow", EXACT)
    # nothing tests the public address: the frontend's egress ends its tier
    assert (frontend.action, frontend.certainty) == ("Deny", EXACT)


def test_a_workload_reaching_an_address_test_is_uncertain() -> None:
    ps = netpolicy.loads((DATA / "cluster.yaml").read_text() + """
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: frontend-in, namespace: shop}
spec:
  selector: app == 'frontend'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {nets: [10.0.0.0/8]}}
""")
    (outcome,) = decide(ps, (wep("backend-5d8f7c9b4-*"), wep("frontend-6c9d5b7f8-*"), 6, 8000))
    assert outcome.certainty == UNCERTAIN
    assert "tests the source's address (nets)" in outcome.reasons[0]


def test_pods_missing_from_the_manifests_are_decided_from_their_labels(shop: netpolicy.PolicySet) -> None:
    known, partial = decide(
        shop,
        # the labels the policies read are logged: exact
        (wep("canary-6d5f-*", labels=("app=frontend",)), wep("backend-5d8f7c9b4-*"), 6, 8080),
        # no app label (the pods differ in it): the selectors cannot be answered
        (wep("canary-6d5f-*", labels=("tier=web",)), wep("backend-5d8f7c9b4-*"), 6, 8080),
    )
    assert (known.action, known.certainty) == ("Allow", EXACT)
    assert known.src.how == "labelled"
    assert partial.certainty == UNCERTAIN
    assert "selectors read labels the log does not give for the source: app" in partial.reasons[0]


def test_each_distinct_flow_is_decided_once(shop: netpolicy.PolicySet) -> None:
    flow = (wep("frontend-6c9d5b7f8-*"), wep("backend-5d8f7c9b4-*"), 6, 8080)
    rows = [(k, flow[0], flow[1], 6, 8080, 0, -1, -1, 0, 0, "", "", 1) for k in range(1000)]
    decider = Decider(shop)
    where = decider.decide(from_rows("log", rows))
    assert len(decider.outcomes) == 1 and np.all(where == 0)
    decider.decide(from_rows("log", rows[:10]))  # the next batch finds it kept
    assert len(decider.outcomes) == 1


def test_exact_sides_agree_with_evaluate(shop: netpolicy.PolicySet) -> None:
    flows = [
        (SideValue(ip="10.1.0.10"), SideValue(ip="10.1.9.53"), 17, 53),
        (wep("frontend", labels=None), wep("db-0"), 6, 5432),
        (SideValue(ip="192.168.3.4"), wep("db-1"), 6, 5432),
    ]
    outcomes = decide(shop, *flows)
    assert outcomes[1].certainty == UNKNOWN  # a bare Deployment name is not one of its pods
    for outcome in (outcomes[0], outcomes[2]):
        assert outcome.flow is not None and outcome.certainty == EXACT
        verdict = shop.evaluate(outcome.flow)
        assert outcome.action == verdict.action.value
        for ours, theirs in ((outcome.egress, verdict.egress), (outcome.ingress, verdict.ingress)):
            assert (ours is None) == (theirs is None)
            assert ours is None or theirs is None or (ours.action, ours.why) == (theirs.action, theirs.why)
