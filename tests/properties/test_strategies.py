"""The strategies keep the api.md promise: valid labels, selectors that round-trip,
manifests that load, flows of the right shape, checked arguments, registered types, and
no Hypothesis import from netpolicy itself."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.errors import InvalidArgument

import netpolicy
from netpolicy.testing import strategies as nps

from .support import heavy, requires_loader

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def valid_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not PREFIX.match(prefix)):
        return False
    return bool(NAME.match(name))


@settings(max_examples=1000)
@given(nps.label_keys())
def test_label_key_prefixes_end_alphanumeric(key: str) -> None:
    """Each DNS label of a prefix ends alphanumeric ('a-/a' was once drawn)."""
    assert valid_key(key), key


@given(nps.label_maps())
def test_label_maps_are_valid_kubernetes_labels(labels: dict[str, str]) -> None:
    for key, value in labels.items():
        assert valid_key(key), key
        assert value == "" or NAME.match(value), value


@given(nps.manifests())
def test_manifest_labels_are_valid(documents: list[dict[str, Any]]) -> None:
    def objects(docs: list[dict[str, Any]]) -> Any:
        for doc in docs:
            yield doc
            yield from objects(doc.get("items", []))

    for doc in objects(documents):
        for key, value in doc.get("metadata", {}).get("labels", {}).items():
            assert valid_key(key) and (value == "" or NAME.match(value)), (key, value)


@requires_loader
@heavy
@given(nps.policy_sets(), st.data())
def test_policy_sets_and_flows(ps: netpolicy.PolicySet, data: st.DataObject) -> None:
    assert isinstance(ps, netpolicy.PolicySet)
    flow = data.draw(nps.flows(ps))
    assert isinstance(flow, netpolicy.Flow)
    for side in (flow.src, flow.dst):
        if isinstance(side, str):
            ps.endpoint(side)  # namespace/pod sides name endpoints that exist


@given(st.from_type(netpolicy.Flow), st.from_type(netpolicy.Selector))
def test_types_are_registered(flow: netpolicy.Flow, sel: netpolicy.Selector) -> None:
    assert isinstance(flow, netpolicy.Flow)
    assert isinstance(sel, netpolicy.Selector)


def test_the_entry_point_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '_ = "netpolicy.testing._hypothesis_hook:_hypothesis_setup_hook"' in text
    from netpolicy.testing._hypothesis_hook import _hypothesis_setup_hook

    _hypothesis_setup_hook()  # idempotent


def test_the_strategies_show_no_internal_section_marks() -> None:
    """netpolicy.testing is read by users (help(), docstrings, comments): no section
    marks of the semantics notes in it."""
    marks = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "netpolicy" / "testing").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "\u00a7" in line
    ]
    assert not marks, marks


def test_netpolicy_does_not_import_hypothesis() -> None:
    code = "import sys, netpolicy, netpolicy.testing; sys.exit('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: nps.manifests(kinds=["Pod"]),
        lambda: nps.manifests(kinds="NetworkPolicy"),
        lambda: nps.manifests(inventory=["Secret"]),
        lambda: nps.manifests(max_pods=0),
        lambda: nps.manifests(min_policies=5, max_policies=2),
        lambda: nps.manifests(ipv6="yes"),
        lambda: nps.manifests(vocab=nps.Vocabulary()),
        lambda: nps.flows(object()),
        lambda: nps.flows(protocols=["XTP"]),
        lambda: nps.flows(protocols=[]),
        lambda: nps.flows(protocols="TCP"),
        lambda: nps.label_maps(min_size=3, max_size=1),
        lambda: nps.label_keys(max_size=0),
        lambda: nps.vocabularies(max_namespaces=0),
        lambda: nps.calico_rules(direction="both"),
        lambda: nps.calico_rules(actions=["Allow", "Drop"]),
        lambda: nps.tiers(name="default"),
        lambda: nps.admin_network_policies(priority=1001),
        lambda: nps.kubernetes_network_policies(max_rules=-1),
        lambda: nps.pods({"namespaces": ["a"]}),
        lambda: nps.calico_rules("a"),
    ],
)
def test_bad_arguments_raise_at_once(make: Any) -> None:
    with pytest.raises(InvalidArgument):
        make()


@given(nps.manifests(kinds=["KubernetesNetworkPolicy"], inventory=[], ipv6=False, crd_forms=False, wrap=False))
def test_arguments_narrow_kinds(documents: list[dict[str, Any]]) -> None:
    kinds = {doc["kind"] for doc in documents}
    assert kinds <= {"Namespace", "Pod", "NetworkPolicy"}
    assert all(doc["apiVersion"] in ("v1", "networking.k8s.io/v1") for doc in documents)
    text = json.dumps(documents)
    assert not re.search(r"fd00:|2001:db8|::/", text), text  # no IPv6 address anywhere
