"""Damaged manifests: whatever is dropped, altered or retyped, loading either succeeds
or raises PolicyError, never anything else."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import yaml
from hypothesis import given, strategies as st

import netpolicy
from netpolicy.testing import strategies as nps

from .support import heavy, requires_loader

pytestmark = requires_loader

Path = tuple[Any, ...]

ODD_VALUES = st.sampled_from(
    [None, 0, -1, 1.5, True, False, "", "x", [], {}, [None], {"a": 1}, "0.0.0.0/0", "::/0", "65536", "0", 2**64,
     float("nan"), float("inf"), "'", "all()", "!!", "a == 'b", "10.0.0.1/33", "Allow", "TCP", "ICMP", -0.0,
     "1:0", "http", "kube-admin", "default", "a/b", "a" * 300, "\n", "global()", "UDPLite", 256]
)
KINDS = st.sampled_from(
    ["Pod", "Namespace", "NetworkPolicy", "GlobalNetworkPolicy", "Tier", "Profile", "NetworkSet", "GlobalNetworkSet",
     "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "WorkloadEndpoint", "HostEndpoint", "ServiceAccount", "Node",
     "StagedNetworkPolicy", "StagedKubernetesNetworkPolicy", "List", "NetworkPolicyList", "Unknown", "EndpointSlice"]
)
API_VERSIONS = st.sampled_from(
    ["v1", "projectcalico.org/v3", "crd.projectcalico.org/v1", "networking.k8s.io/v1", "policy.networking.k8s.io/v1alpha1",
     "discovery.k8s.io/v1", "apps/v1", "", "projectcalico.org/v2"]
)


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, prefix + (index,))


def get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    documents = copy.deepcopy(draw(nps.manifests()))
    for _ in range(draw(st.integers(1, 3))):
        if not documents:
            break
        index = draw(st.integers(0, len(documents) - 1))
        all_paths = list(paths(documents[index]))
        path = draw(st.sampled_from(all_paths))
        how = draw(st.sampled_from(("drop", "retype", "kind", "apiVersion", "alter", "duplicate", "document")))
        if how == "document":
            documents[index] = draw(st.one_of(ODD_VALUES, st.just([documents[index]])))
        elif how == "kind" and isinstance(documents[index], dict):
            documents[index]["kind"] = draw(KINDS)
        elif how == "apiVersion" and isinstance(documents[index], dict):
            documents[index]["apiVersion"] = draw(API_VERSIONS)
        elif not path:
            documents[index] = draw(ODD_VALUES)
        else:
            parent = get(documents[index], path[:-1])
            key = path[-1]
            if how == "drop":
                del parent[key]
            elif how == "retype":
                parent[key] = draw(ODD_VALUES)
            elif how == "duplicate" and isinstance(parent, list):
                parent.insert(key, copy.deepcopy(parent[key]))
            elif how == "alter" and isinstance(parent[key], str):
                text = parent[key]
                parent[key] = draw(st.sampled_from([text + "x", text[:-1], text.upper(), " " + text, text + "\n", text * 2]))
            elif how == "alter" and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
                parent[key] = draw(st.sampled_from([parent[key] + 1, -parent[key], parent[key] * 1000, str(parent[key])]))
            else:
                parent[key] = draw(ODD_VALUES)
    return documents


def _load_or_policy_error(documents: Any) -> None:
    try:
        ps = netpolicy.from_objects(documents)
    except netpolicy.PolicyError:
        return
    # What loads must be usable.
    for endpoint in ps.endpoints[:2]:
        if endpoint.name and endpoint.namespace:
            ps.evaluate(netpolicy.Flow(src=endpoint.key, dst="192.168.0.7"))


@heavy
@given(mutated())
def test_mutated_manifests_raise_only_policy_error(documents: Any) -> None:
    _load_or_policy_error(documents)


@heavy
@given(mutated())
def test_mutated_manifest_text_raises_only_policy_error(documents: Any) -> None:
    try:
        text = yaml.safe_dump_all(documents) if isinstance(documents, list) else yaml.safe_dump(documents)
    except yaml.YAMLError:
        return
    try:
        netpolicy.loads(text)
    except netpolicy.PolicyError:
        pass
    try:
        netpolicy.loads(json.dumps(documents, allow_nan=True))
    except netpolicy.PolicyError:
        pass


@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_policy_error(text: str) -> None:
    try:
        netpolicy.loads(text)
    except netpolicy.PolicyError:
        pass
