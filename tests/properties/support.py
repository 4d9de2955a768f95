"""Helpers shared by the property tests: loading, flows, verdict summaries and manifest
transformations."""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

import netpolicy
from netpolicy.testing import strategies as nps

Manifest = dict[str, Any]

K8S_NP = ("networking.k8s.io/v1", "NetworkPolicy")
CALICO_API = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
CALICO_POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy")


def _loader_ready() -> bool:
    try:
        netpolicy.from_objects([])
    except NotImplementedError:
        return False
    return True


def _evaluate_many_ready() -> bool:
    return hasattr(netpolicy.PolicySet, "evaluate_many")


LOADER_READY = _loader_ready()
requires_loader = pytest.mark.skipif(not LOADER_READY, reason="the loader is not built yet")
requires_evaluate_many = pytest.mark.skipif(not _evaluate_many_ready(), reason="evaluate_many is not built yet")


def load(documents: list[Manifest]) -> netpolicy.PolicySet:
    return netpolicy.from_objects(copy.deepcopy(documents))


def flatten(documents: list[Manifest]) -> list[Manifest]:
    """Documents with List wrappers unwrapped (the objects themselves, not copies)."""
    out: list[Manifest] = []
    for doc in documents:
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            out.extend(flatten(doc["items"]))
        else:
            out.append(doc)
    return out


def is_k8s_np(doc: Manifest) -> bool:
    return (doc.get("apiVersion"), doc.get("kind")) == K8S_NP


def is_calico_policy(doc: Manifest) -> bool:
    return doc.get("apiVersion") in CALICO_API and doc.get("kind") in CALICO_POLICY_KINDS


def draw_flows(data: st.DataObject, ps: netpolicy.PolicySet, max_size: int = 8) -> list[netpolicy.Flow]:
    return data.draw(st.lists(nps.flows(ps), min_size=1, max_size=max_size), label="flows")


def summary(verdict: netpolicy.Verdict) -> tuple[Any, ...]:
    """What must not change under a transformation that renames or renumbers nothing:
    the action and each side's action and reason."""

    def side(decision: Any) -> Any:
        return None if decision is None else (decision.action, decision.reason)

    return (verdict.action, side(verdict.egress), side(verdict.ingress))


def actions(verdict: netpolicy.Verdict) -> tuple[Any, ...]:
    def side(decision: Any) -> Any:
        return None if decision is None else decision.action

    return (verdict.action, side(verdict.egress), side(verdict.ingress))


def effective_directions(spec: Manifest) -> tuple[str, ...]:
    """The directions a Calico policy counts in (calico-semantics §B.2)."""
    types = spec.get("types")
    if types:
        return tuple(t.lower() for t in types)
    if spec.get("egress"):
        return ("ingress", "egress") if spec.get("ingress") else ("egress",)
    return ("ingress",)


def rule_lists(documents: list[Manifest]) -> Iterator[tuple[Manifest, str]]:
    """Every (spec, direction) whose rule list may take another rule without changing
    which directions the object counts in: Calico policies in their effective
    directions, and profiles in both."""
    for doc in flatten(documents):
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            continue
        if is_calico_policy(doc):
            for direction in effective_directions(spec):
                yield spec, direction
        elif doc.get("kind") == "Profile" and doc.get("apiVersion") in CALICO_API:
            yield spec, "ingress"
            yield spec, "egress"


def insert_rules(documents: list[Manifest], data: st.DataObject, make_rule: Callable[[str], Manifest]) -> tuple[list[Manifest], int]:
    """A copy of ``documents`` with a rule made by ``make_rule(direction)`` inserted at a
    drawn place in some of the rule lists of :func:`rule_lists`; returns the count."""
    documents = copy.deepcopy(documents)
    inserted = 0
    for spec, direction in list(rule_lists(documents)):
        if not data.draw(st.booleans(), label="insert here"):
            continue
        rules = spec.setdefault(direction, [])
        position = data.draw(st.integers(0, len(rules)), label="position")
        rules.insert(position, make_rule(direction))
        inserted += 1
    return documents, inserted


#: For properties that load or compile policy sets per example: a third of the profile's
#: examples and never fewer than 20 (20 under ``dev``, 33 under ``ci``), enough to reach
#: notPorts and Log rules, while keeping the suite's runtime moderate.
heavy = settings(max_examples=max(20, settings.default.max_examples // 3))


class _Drawn(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__("drawn")
        self.value = value


def first_drawn(strategy: st.SearchStrategy[Any], predicate: Callable[[Any], bool], max_examples: int = 300) -> Any:
    """The first example of ``strategy`` (fixed seed, generation only: nothing is shrunk,
    unlike ``hypothesis.find``) that satisfies ``predicate``; fails the test when none of
    ``max_examples`` does, for then the strategy no longer draws what is asked of it."""

    @settings(max_examples=max_examples, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def search(value: Any) -> None:
        if predicate(value):
            raise _Drawn(value)

    try:
        search()
    except _Drawn as drawn:
        return drawn.value
    pytest.fail(f"no example among {max_examples} satisfies {getattr(predicate, '__name__', predicate)}")
