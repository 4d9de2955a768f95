"""Every conformance case's ``resources`` loads, and what it holds is all there."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import netpolicy

CASES = sorted((Path(__file__).resolve().parents[1] / "conformance" / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_resources_load(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    documents = [d for d in yaml.safe_load_all(case["resources"]) if d]
    ps = netpolicy.loads(case["resources"])
    kinds = [d["kind"] for d in documents]
    pods = [d for d in documents if d["kind"] == "Pod" and not d.get("spec", {}).get("hostNetwork")]
    assert sorted(e.key for e in ps.endpoints) == sorted(f"{p['metadata'].get('namespace', 'default')}/{p['metadata']['name']}" for p in pods)
    policies = sum(kinds.count(k) for k in ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"))
    assert len(ps.policies) + len(ps.staged_policies) == policies
    for namespace in (d["metadata"]["name"] for d in documents if d["kind"] == "Namespace"):
        assert f"kns.{namespace}" in ps.profiles
    # the cases' host-network pods are no Calico endpoints, and a warning says so
    assert [w for w in ps.warnings if "(hostNetwork: true)" not in w] == []


def test_there_are_cases() -> None:
    assert len(CASES) > 100
