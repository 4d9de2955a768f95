"""Which Calico release to follow (``calico_version``) and Calico's own conversion of
ClusterNetworkPolicy (``calico_exact``), through the public load functions."""

from __future__ import annotations

import pathlib
import pickle

import pytest
import yaml

import netpolicy
from test_policies_anp import CLUSTER
from netpolicy.loader.release import NEWEST, calico_version, tie_break_key
from netpolicy.model import Policy, PolicyRef
from netpolicy.selector import Selector

def _admin(kind: str, name: str, action: str) -> str:
    if kind == "AdminNetworkPolicy":
        head = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy"
        tier = ""
    else:
        head = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy"
        tier, action = "  tier: Admin\n", {"Allow": "Accept"}.get(action, action)
    return f"""{head}
metadata: {{name: {name}}}
spec:
{tier}  priority: 10
  subject: {{namespaces: {{}}}}
  egress: [{{action: {action}, to: [{{namespaces: {{}}}}]}}]
---
"""


@pytest.mark.parametrize("value, expected", [
    (None, NEWEST), ("3.32", (3, 32)), ("v3.31.7", (3, 31)), ("3.29", (3, 29)), ((3, 31), (3, 31)), ("3.40", (3, 40))])
def test_versions_read(value: object, expected: tuple[int, int]) -> None:
    assert calico_version(value) == expected


@pytest.mark.parametrize("value", ["4.0", "3", "latest", "3.x", "", (2, 1), 3.31, (3, 31, 0)])
def test_bad_versions_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="calico_version must be"):
        netpolicy.loads(CLUSTER, calico_version=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["AdminNetworkPolicy", "ClusterNetworkPolicy"])
def test_ties_of_priority_are_broken_as_the_release_breaks_them(kind: str) -> None:
    """'a-b' sorts before 'a' in 3.32's '<name>/<namespace>/<kind>' key ('-' < '/'), after
    it when the name alone is compared (3.31)."""
    text = CLUSTER + _admin(kind, "a", "Deny") + _admin(kind, "a-b", "Allow")
    flow = netpolicy.Flow(src="a/p", dst="b/q", dst_port=80)
    newest = netpolicy.loads(text)
    assert newest.calico_version == NEWEST
    assert [p.ref.name for p in newest.policies] == ["a-b", "a"]
    assert newest.evaluate(flow).allowed
    older = netpolicy.loads(text, calico_version="3.31")
    assert older.calico_version == (3, 31)
    assert [p.ref.name for p in older.policies] == ["a", "a-b"]
    assert not older.evaluate(flow).allowed
    assert pickle.loads(pickle.dumps(older)).calico_version == (3, 31)


def _policy(kind: str, name: str, namespace: str | None = None, tier: str = "default", staged: bool = False) -> Policy:
    return Policy(PolicyRef(kind, namespace, name), tier, 1000.0, Selector.parse("all()"), staged=staged)


@pytest.mark.parametrize("policy, newest, older", [
    (_policy("GlobalNetworkPolicy", "x"), "x//GlobalNetworkPolicy", "default.x"),
    (_policy("GlobalNetworkPolicy", "sec.x", tier="sec"), "sec.x//GlobalNetworkPolicy", "sec.x"),
    (_policy("GlobalNetworkPolicy", "x", tier="sec"), "x//GlobalNetworkPolicy", "sec.x"),
    (_policy("NetworkPolicy", "x", "n"), "x/n/NetworkPolicy", "n/default.x"),
    (_policy("StagedNetworkPolicy", "x", "n", staged=True), "x/n/StagedNetworkPolicy", "n/staged:default.x"),
    (_policy("StagedGlobalNetworkPolicy", "x", staged=True), "x//StagedGlobalNetworkPolicy", "staged:default.x"),
    (_policy("KubernetesNetworkPolicy", "x", "n"), "x/n/KubernetesNetworkPolicy", "n/knp.default.x"),
    (_policy("StagedKubernetesNetworkPolicy", "x", "n", staged=True), "x/n/StagedKubernetesNetworkPolicy",
     "n/staged:knp.default.x"),
    (_policy("AdminNetworkPolicy", "x", tier="adminnetworkpolicy"), "x//AdminNetworkPolicy",
     "kanp.adminnetworkpolicy.x"),
    (_policy("BaselineAdminNetworkPolicy", "default", tier="baselineadminnetworkpolicy"),
     "default//BaselineAdminNetworkPolicy", "kbanp.baselineadminnetworkpolicy.default"),
    (_policy("KubernetesClusterNetworkPolicy", "x", tier="kube-admin"), "x//KubernetesClusterNetworkPolicy", "x"),
])
def test_tie_break_keys(policy: Policy, newest: str, older: str) -> None:
    assert tie_break_key(policy) == newest == tie_break_key(policy, (3, 33))
    assert tie_break_key(policy, (3, 31)) == older == tie_break_key(policy, (3, 28))


NODE_CASE = (pathlib.Path(__file__).resolve().parents[1] / "conformance" / "cases"
             / "cnp-admin-egress-node-peers-01-allow-egress-rule-egress-node-peer.yaml")


def test_calico_exact_reproduces_calicos_conversion_of_nodes_peers() -> None:
    case = yaml.safe_load(NODE_CASE.read_text())
    (entry,) = case["flows"]
    flow = netpolicy.Flow(src=entry["src"], dst=entry["dst"], protocol=entry["protocol"], dst_port=entry["port"])
    assert netpolicy.loads(case["resources"]).evaluate(flow).allowed is entry["allowed"] is True
    # Calico drops the Accept rule it cannot convert; the Deny rule with a nodes peer
    # becomes a bare Deny, so the flow upstream accepts is denied
    verdict = netpolicy.loads(case["resources"], calico_exact=True).evaluate(flow)
    assert not verdict.allowed
    assert verdict.egress is not None and verdict.egress.tier == "kube-admin"


def test_options_reach_every_load_function(tmp_path: pathlib.Path) -> None:
    text = CLUSTER + _admin("ClusterNetworkPolicy", "a", "Deny")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    for ps in (netpolicy.load(path, calico_version="3.31", calico_exact=True),
               netpolicy.from_objects(yaml.safe_load_all(text), calico_version="v3.31.2", calico_exact=True)):
        assert ps.calico_version == (3, 31)
        (policy,) = ps.policies  # Calico's namespaces peer: no orchestrator term
        assert "orchestrator" not in str(policy.egress[0].destination.selector)
