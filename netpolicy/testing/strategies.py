"""Hypothesis strategies for label maps, selectors, manifests, policy sets and flows.

Import this module only in tests: it needs Hypothesis, which netpolicy itself does not
(``pip install netpolicy[hypothesis]``)::

    from netpolicy.testing import strategies as nps

    @given(nps.policy_sets().flatmap(lambda ps: st.tuples(st.just(ps), nps.flows(ps))))
    def test_something(case): ...

Everything is built from small integers and sampled choices so that failing examples
shrink to short, readable manifests. Each generated example first draws a small
:class:`Vocabulary` (namespaces, label keys and values, ports, port names, service
accounts); every object of the example then uses it, so selectors match labels, rules
name the ports endpoints declare, and flows hit endpoints, set members and the ports and
ICMP types that rules mention.

Every strategy validates its keyword arguments when it is called and raises
:class:`hypothesis.errors.InvalidArgument` for bad ones.
"""

from __future__ import annotations

from ._cluster import cluster_network_policies
from ._flows import endpoints, flows
from ._hosts import endpoint_slices, host_endpoints
from ._inventory import global_network_sets, namespaces, network_sets, pods, service_accounts, workload_endpoints
from ._labels import label_keys, label_maps, label_selectors, label_values
from ._manifests import manifests, policy_sets
from ._policies import (
    admin_network_policies,
    baseline_admin_network_policies,
    calico_network_policies,
    global_network_policies,
    kubernetes_network_policies,
    profiles,
    tiers,
)
from ._register import register_type_strategies
from ._rules import calico_rules
from ._selectors import SelectorExpr, selector_exprs, selector_texts, selectors
from ._vocabulary import INVENTORY_KINDS, POLICY_KINDS, Vocabulary, vocabularies
from ._vocabulary import Manifest as Manifest
from ._workloads import workloads

__all__ = [
    "POLICY_KINDS",
    "INVENTORY_KINDS",
    "Vocabulary",
    "SelectorExpr",
    "vocabularies",
    "label_keys",
    "label_values",
    "label_maps",
    "selector_exprs",
    "selector_texts",
    "selectors",
    "label_selectors",
    "namespaces",
    "service_accounts",
    "pods",
    "network_sets",
    "global_network_sets",
    "tiers",
    "profiles",
    "workload_endpoints",
    "host_endpoints",
    "endpoint_slices",
    "workloads",
    "calico_rules",
    "kubernetes_network_policies",
    "calico_network_policies",
    "global_network_policies",
    "admin_network_policies",
    "baseline_admin_network_policies",
    "cluster_network_policies",
    "manifests",
    "policy_sets",
    "flows",
    "endpoints",
]

# Register the type strategies even when netpolicy is used from a source tree (the entry
# point only works for an installed distribution). Registering twice is harmless.
register_type_strategies()
