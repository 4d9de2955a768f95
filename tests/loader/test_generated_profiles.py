"""Profiles Calico generates (kns.<namespace>, ksa.<namespace>.<account>,
projectcalico-default-allow) cannot be written with the Kubernetes datastore: a Profile
manifest of one of their names is an error naming both documents. With the etcd
datastore profiles are stored, and the manifest replaces the generated profile."""

from __future__ import annotations

import textwrap

import pytest

import netpolicy
from netpolicy import Flow, ValidationError

PROD = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Namespace
    metadata: {name: prod}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: prod, labels: {app: a}}
    spec: {serviceAccountName: api}
    status: {podIP: 10.0.0.1}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: deny-all, namespace: prod}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: admin-allow}
    spec:
      order: 10
      namespaceSelector: team == 'admin'
      types: [Ingress]
      ingress:
      - action: Allow
    """
)


def _profile(name: str, labels: str) -> str:
    return f"---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {{name: {name}}}\nspec:\n  labelsToApply: {labels}\n"


FLOW = Flow(src="10.9.9.9", dst="prod/a", dst_port=80)


def test_without_a_profile_manifest_the_admin_policy_does_not_apply() -> None:
    assert netpolicy.loads(PROD).evaluate(FLOW).action is netpolicy.Action.DENY


@pytest.mark.parametrize("labels", ["{team: admin}", "{pcns.team: admin}"])
def test_a_namespace_profile_manifest_is_refused_with_the_kubernetes_datastore(labels: str) -> None:
    # Were it loaded, the namespace would lend 'admin' and the GlobalNetworkPolicy allow
    # a flow Calico drops (with the pcns. form, as the generated profile lends its labels).
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(PROD + _profile("kns.prod", labels))
    [problem] = info.value.problems
    assert (problem.document, problem.path, problem.line) == (5, "metadata.name", 30)
    assert problem.message == (
        "Profile kns.prod would replace the profile Calico generates from Namespace prod at <input>:1 "
        "(document 1): with the Kubernetes datastore such profiles are derived, not stored, and cannot be "
        "written; if the cluster keeps Calico's data in etcd, load with datastore='etcd' (--datastore etcd "
        "on the command line)"
    )
    with pytest.raises(ValidationError):
        netpolicy.loads(PROD + _profile("kns.prod", labels), datastore="kubernetes")


def test_with_the_etcd_datastore_the_manifest_is_the_stored_profile() -> None:
    ps = netpolicy.loads(PROD + _profile("kns.prod", "{pcns.team: admin}"), datastore="etcd")
    assert ps.endpoint("prod/a").effective_labels["pcns.team"] == "admin"
    assert ps.evaluate(FLOW).action is netpolicy.Action.ALLOW  # what Felix does with that stored profile
    plain = netpolicy.loads(PROD, datastore="etcd")  # no manifest: generated as calico-kube-controllers does
    assert "kns.prod" in plain.profiles and plain.evaluate(FLOW).action is netpolicy.Action.DENY


def test_a_namespace_only_used_by_objects_names_the_first_of_them() -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: dev}\nstatus: {podIP: 10.0.0.2}\n"
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(pod + _profile("kns.dev", "{}"))
    assert "the profile Calico generates from namespace dev of Pod dev/b at <input>:1 (document 1)" in str(info.value)


def test_service_account_profiles_from_accounts_and_from_pods() -> None:
    account = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: prod}\n"
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(PROD + account + _profile("ksa.prod.web", "{}") + _profile("ksa.prod.api", "{}"))
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2
    assert "from ServiceAccount prod/web at <input>:28 (document 5)" in messages[0]
    assert "from service account prod/api of Pod prod/a at <input>:5 (document 2)" in messages[1]


def test_the_default_allow_profile_cannot_be_written() -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(_profile("projectcalico-default-allow", "{}"))
    assert info.value.problems[0].message.startswith(
        "Profile projectcalico-default-allow would replace Calico's built-in profile that allows everything: "
    )


def test_other_profiles_load_with_either_datastore() -> None:
    for datastore in ("kubernetes", "etcd"):
        ps = netpolicy.loads(PROD + _profile("kns.elsewhere", "{a: b}") + _profile("custom", "{a: b}"), datastore=datastore)
        assert {"kns.elsewhere", "custom"} <= set(ps.profiles)


def test_an_unknown_datastore_is_refused() -> None:
    with pytest.raises(ValueError, match="datastore must be 'kubernetes' or 'etcd'"):
        netpolicy.loads(PROD, datastore="consul")
    with pytest.raises(ValueError, match="datastore must be 'kubernetes' or 'etcd'"):
        netpolicy.from_objects([], datastore="KDD")
