"""netpolicy.testing draws workloads: each loads as one endpoint with a synthetic address,
and manifests() draws them among the inventory."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

import netpolicy
from netpolicy.testing import strategies as nps
from netpolicy.testing._workloads import WORKLOAD_KINDS


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


def test_manifests_draw_every_workload_kind() -> None:
    seen: set[str] = set()

    @settings(max_examples=150, database=None)
    @given(nps.manifests(wrap=False))
    def collect(documents: list[dict[str, Any]]) -> None:
        seen.update(d["kind"] for d in documents if d["kind"] in WORKLOAD_KINDS)

    collect()
    assert seen == set(WORKLOAD_KINDS)
