"""netpolicy.testing draws workloads: each loads as one endpoint with a synthetic address,
and manifests() draws them among the inventory."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st

import netpolicy
from netpolicy.testing import strategies as nps
from netpolicy.testing._workloads import WORKLOAD_KINDS

from .support import first_drawn


@given(nps.vocabularies().flatmap(lambda vocab: st.tuples(st.just(vocab), nps.workloads(vocab, index=3))))
def test_a_drawn_workload_is_one_endpoint(case: tuple[Any, dict[str, Any]]) -> None:
    vocab, manifest = case
    namespace = manifest["metadata"]["namespace"]
    ps = netpolicy.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, manifest])
    (endpoint,) = ps.endpoints
    assert endpoint.key == f"{namespace}/w3[{manifest['kind']}]"
    assert endpoint.synthetic and endpoint.ips
    short = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs", "Job": "job",
             "CronJob": "cj", "ReplicationController": "rc"}[manifest["kind"]]
    assert ps.endpoint(f"{namespace}/{short}/w3") == endpoint


@pytest.mark.parametrize("kind", sorted(WORKLOAD_KINDS))
def test_manifests_draw_every_workload_kind(kind: str) -> None:
    found = first_drawn(nps.manifests(inventory=[kind], wrap=False), lambda docs: any(d["kind"] == kind for d in docs))
    assert netpolicy.from_objects(found).endpoints
