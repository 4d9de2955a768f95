"""Metamorphic properties: transformations of the manifests that must not change any
verdict (or that change it in exactly one stated way)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from hypothesis import given, strategies as st

import netpolicy
from netpolicy.model import Action, Direction
from netpolicy.testing import strategies as nps
from netpolicy.verdict import Decision, Reason

from .support import (
    actions,
    draw_flows,
    flatten,
    heavy,
    insert_rules,
    is_calico_policy,
    is_k8s_np,
    load,
    requires_loader,
    summary,
)

pytestmark = requires_loader


@given(nps.manifests(), st.data())
def test_generated_manifests_load_and_decide(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    ps = load(documents)
    for flow in draw_flows(data, ps):
        verdict = ps.evaluate(flow)
        assert verdict.action in (Action.ALLOW, Action.DENY)
        assert verdict.allowed == (verdict.action is Action.ALLOW)
        for decision in (verdict.egress, verdict.ingress):
            if decision is not None:
                assert decision.action in (Action.ALLOW, Action.DENY)
                assert decision.reason in Reason.ALL
        assert isinstance(verdict.explain(), str)


@heavy
@given(nps.manifests(wrap=False), st.data())
def test_order_of_kubernetes_network_policies_does_not_matter(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    positions = [i for i, doc in enumerate(documents) if is_k8s_np(doc)]
    shuffled = data.draw(st.permutations([documents[i] for i in positions]), label="order")
    reordered = list(documents)
    for position, doc in zip(positions, shuffled):
        reordered[position] = doc
    before, after = load(documents), load(reordered)
    for flow in draw_flows(data, before):
        assert before.evaluate(flow) == after.evaluate(flow)


@heavy
@given(nps.manifests(), st.data())
def test_order_of_documents_does_not_matter(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    reordered = data.draw(st.permutations(documents), label="order")
    before, after = load(documents), load(reordered)
    for flow in draw_flows(data, before):
        assert before.evaluate(flow) == after.evaluate(flow)


def _split_peers(documents: list[dict[str, Any]], data: st.DataObject) -> list[dict[str, Any]]:
    """Every Kubernetes NetworkPolicy with a rule of two or more peers becomes two
    policies with the same podSelector and policyTypes: the first keeps a prefix of each
    rule's peers (and the rules without peers), the second gets the rest. A rule whose
    part is empty is left out of that part (an empty peer list would mean "everyone")."""
    out: list[dict[str, Any]] = []
    for doc in documents:
        spec = doc.get("spec", {})
        splittable = is_k8s_np(doc) and any(
            len(rule.get(peers) or []) >= 2 for direction, peers in (("ingress", "from"), ("egress", "to")) for rule in spec.get(direction) or []
        )
        if not splittable:
            out.append(doc)
            continue
        first, second = copy.deepcopy(doc), copy.deepcopy(doc)
        second["metadata"]["name"] += "-split"
        # Both halves must isolate the pod in the same directions as the original:
        # policyTypes as the API server defaults it (Ingress, plus Egress when there
        # are egress rules).
        types = spec.get("policyTypes") or ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        for half in (first, second):
            half["spec"]["policyTypes"] = list(types)
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            if direction not in spec:
                continue
            first_rules, second_rules = [], []
            for rule in spec[direction] or []:
                listed = rule.get(peers) or []
                if not listed:
                    first_rules.append(copy.deepcopy(rule))
                    continue
                cut = data.draw(st.integers(0, len(listed)), label="cut")
                for part, rules in ((listed[:cut], first_rules), (listed[cut:], second_rules)):
                    if part:
                        rules.append({**copy.deepcopy(rule), peers: copy.deepcopy(part)})
            first["spec"][direction] = first_rules
            second["spec"][direction] = second_rules
        out.extend((first, second))
    return out


@heavy
@given(nps.manifests(kinds=["KubernetesNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"], wrap=False), st.data())
def test_splitting_kubernetes_peers_over_two_policies_changes_nothing(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    # Kubernetes policies are Allow-only and all sit at order 1000 in tier default, so
    # only other default-tier policies at order 1000 could interleave with the split
    # half; these manifests have none (only K8s, admin and baseline policies).
    split = _split_peers(documents, data)
    before, after = load(documents), load(split)
    for flow in draw_flows(data, before):
        assert actions(before.evaluate(flow)) == actions(after.evaluate(flow))


NEVER_MATCHES = ({"protocol": "UDP", "notProtocol": "UDP"}, {"protocol": "TCP", "notProtocol": 6}, {"protocol": 1, "notProtocol": "ICMP"})


@heavy
@given(nps.manifests(), st.data())
def test_a_rule_that_can_never_match_changes_nothing(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    def make(direction: str) -> dict[str, Any]:
        action = data.draw(st.sampled_from(("Deny", "Allow", "Pass", "Log")), label="action")
        return {"action": action, **data.draw(st.sampled_from(NEVER_MATCHES), label="impossible")}

    changed, _ = insert_rules(documents, data, make)
    before, after = load(documents), load(changed)
    for flow in draw_flows(data, before):
        old, new = before.evaluate(flow), after.evaluate(flow)
        assert summary(old) == summary(new)
        assert len(old.logged) == len(new.logged)


@heavy
@given(nps.vocabularies(), st.data())
def test_a_log_rule_never_changes_an_action(vocab: nps.Vocabulary, data: st.DataObject) -> None:
    documents = data.draw(nps.manifests(vocab=st.just(vocab)), label="manifests")

    def make(direction: str) -> dict[str, Any]:
        return data.draw(nps.calico_rules(vocab, direction=direction, actions=["Log"]), label="log rule")

    changed, _ = insert_rules(documents, data, make)
    before, after = load(documents), load(changed)
    for flow in draw_flows(data, before):
        old, new = before.evaluate(flow), after.evaluate(flow)
        assert summary(old) == summary(new)
        assert len(new.logged) >= len(old.logged)


# -- tier default action ---------------------------------------------------------------


def _tier_docs(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in flatten(documents) if d.get("kind") == "Tier"]


def _policy_doc(documents: list[dict[str, Any]], ref: netpolicy.PolicyRef) -> dict[str, Any]:
    for doc in flatten(documents):
        meta = doc.get("metadata", {})
        if is_calico_policy(doc) and doc["kind"] == ref.kind and meta.get("name") == ref.name and meta.get("namespace") == ref.namespace:
            return doc
    raise LookupError(ref)


def _with_last_policy_deny(documents: list[dict[str, Any]], tier: str, ps: netpolicy.PolicySet, default_action: str) -> tuple[list[dict[str, Any]], Any]:
    """A copy where ``tier`` has ``default_action`` and its last enforced policy ends
    every direction it counts in with a catch-all Deny rule. Returns (copy, that policy)."""
    documents = copy.deepcopy(documents)
    last = [p for p in ps.policies if p.tier == tier][-1]
    doc = _policy_doc(documents, last.ref)
    for direction in (Direction.INGRESS, Direction.EGRESS):
        if last.rules(direction) is not None:
            doc["spec"].setdefault(direction.value.lower(), []).append({"action": "Deny"})
    for tier_doc in _tier_docs(documents):
        if tier_doc["metadata"]["name"] == tier:
            tier_doc["spec"]["defaultAction"] = default_action
    return documents, last


def _draw_deny_tier(documents: list[dict[str, Any]], ps: netpolicy.PolicySet, data: st.DataObject) -> tuple[str, netpolicy.PolicySet] | None:
    """A drawn custom tier T that has policies, and the documents loaded with T ending
    in Deny (None when there is no such tier)."""
    custom = {d["metadata"]["name"] for d in _tier_docs(documents)}
    tiers = [t.name for t in ps.tiers if t.name in custom and any(p.tier == t.name for p in ps.policies)]
    if not tiers:
        return None
    tier = data.draw(st.sampled_from(tiers), label="tier")
    plain = copy.deepcopy(documents)
    for tier_doc in _tier_docs(plain):
        if tier_doc["metadata"]["name"] == tier:
            tier_doc["spec"]["defaultAction"] = "Deny"
    return tier, load(plain)


def _endpoint(ps: netpolicy.PolicySet, flow: netpolicy.Flow, decision: Decision) -> netpolicy.Endpoint | None:
    """The endpoint that made ``decision``: the flow's side when it is hand-built,
    otherwise the inventory's."""
    side = flow.src if decision.direction is Direction.EGRESS else flow.dst
    if isinstance(side, netpolicy.Endpoint):
        return side
    try:
        return ps.endpoint(decision.endpoint) if decision.endpoint else None
    except KeyError:
        return None


def _applies(ps: netpolicy.PolicySet, flow: netpolicy.Flow, decision: Decision | None, policy: Any) -> bool:
    """Whether ``policy`` applies to the endpoint that made ``decision``, in its direction."""
    endpoint = None if decision is None else _endpoint(ps, flow, decision)
    if endpoint is None:
        return False
    return any(p.ref == policy.ref for p in ps.policies_for(endpoint, decision.direction))


TIERED = dict(kinds=["NetworkPolicy", "GlobalNetworkPolicy"], inventory=["Tier", "NetworkSet", "GlobalNetworkSet", "ServiceAccount"], min_policies=1, wrap=False, crd_forms=False)


@heavy
@given(nps.manifests(**TIERED), st.data())
def test_deny_tier_equals_catch_all_deny_in_its_last_policy(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Tier T ends with Deny. Appending a catch-all Deny rule to T's last policy L (in the
    directions L counts in) changes no action anywhere; the deciding reason changes from
    "end of tier T" to "rule of L" exactly on the sides whose endpoint L applies to."""
    ps = load(documents)
    drawn = _draw_deny_tier(documents, ps, data)
    if drawn is None:
        return
    tier, base = drawn  # T ends with Deny, no extra rule
    with_rule_docs, _ = _with_last_policy_deny(documents, tier, ps, "Deny")
    with_rule = load(with_rule_docs)
    last = [p for p in base.policies if p.tier == tier][-1]
    for flow in draw_flows(data, base):
        old, new = base.evaluate(flow), with_rule.evaluate(flow)
        assert old.action == new.action
        for before, after in ((old.egress, new.egress), (old.ingress, new.ingress)):
            if before is not None and before.reason == Reason.END_OF_TIER and before.tier == tier and _applies(base, flow, before, last):
                assert after is not None
                assert (after.action, after.reason, after.tier, after.policy) == (Action.DENY, Reason.RULE, tier, last.ref)
            else:
                assert before == after


@heavy
@given(nps.manifests(**TIERED), st.data())
def test_pass_tier_with_catch_all_deny_equals_deny_tier_where_last_policy_applies(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Tier T ending with Deny, versus T ending with Pass whose last policy L ends with a
    catch-all Deny: each side decides the same action whenever L applies to its
    endpoint (in its direction) or T does not take part for it. Where T takes part but L
    does not apply, the Pass version passes on and may decide differently, so the
    property is stated only for the other sides."""
    ps = load(documents)
    drawn = _draw_deny_tier(documents, ps, data)
    if drawn is None:
        return
    tier, deny_tier = drawn
    pass_docs, _ = _with_last_policy_deny(documents, tier, ps, "Pass")
    pass_tier = load(pass_docs)
    last = [p for p in deny_tier.policies if p.tier == tier][-1]
    for flow in draw_flows(data, deny_tier):
        old, new = deny_tier.evaluate(flow), pass_tier.evaluate(flow)
        for before, after in ((old.egress, new.egress), (old.ingress, new.ingress)):
            if before is None:
                assert after is None
                continue
            endpoint = _endpoint(deny_tier, flow, before)
            if endpoint is None:
                continue
            applying = deny_tier.policies_for(endpoint, before.direction)
            takes_part = any(p.tier == tier for p in applying)
            if not takes_part or any(p.ref == last.ref for p in applying):
                assert after is not None and after.action == before.action, (before, after)


# -- renaming ------------------------------------------------------------------------------

REF_KIND = {
    ("networking.k8s.io/v1", "NetworkPolicy"): "KubernetesNetworkPolicy",
}


def _ref_kind(doc: dict[str, Any]) -> str:
    return REF_KIND.get((doc["apiVersion"], doc["kind"]), doc["kind"])


POLICY_DOC_KINDS = {"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy", "AdminNetworkPolicy"}


def _rename(documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Rename policies, tiers, pods and network sets so that every order Calico derives
    from names is kept: policies by their rank in ``name/namespace/kind`` order, tiers by
    their rank in name order (new names still sort after the built-in tiers' names).
    Returns the copy and the pod key mapping."""
    documents = copy.deepcopy(documents)
    objects = flatten(documents)
    policies = [d for d in objects if d.get("kind") in POLICY_DOC_KINDS]
    keys = sorted({f"{d['metadata']['name']}/{d['metadata'].get('namespace', '')}/{_ref_kind(d)}" for d in policies})
    for doc in policies:
        key = f"{doc['metadata']['name']}/{doc['metadata'].get('namespace', '')}/{_ref_kind(doc)}"
        doc["metadata"]["name"] = f"q{keys.index(key):03d}"
    tier_names = sorted(d["metadata"]["name"] for d in objects if d.get("kind") == "Tier")
    new_tier = {name: f"tz{i}" for i, name in enumerate(tier_names)}
    pods: dict[str, str] = {}
    for doc in objects:
        kind, meta = doc.get("kind"), doc["metadata"]
        if kind == "Tier":
            meta["name"] = new_tier[meta["name"]]
        elif kind in ("NetworkSet", "GlobalNetworkSet"):
            meta["name"] = "renamed-" + meta["name"]
        elif kind == "Pod":
            old = f"{meta['namespace']}/{meta['name']}"
            meta["name"] = "pod-" + meta["name"]
            pods[old] = f"{meta['namespace']}/{meta['name']}"
        spec = doc.get("spec")
        if isinstance(spec, dict) and spec.get("tier") in new_tier:
            spec["tier"] = new_tier[spec["tier"]]
    return documents, pods


@heavy
@given(nps.manifests(), st.data())
def test_renaming_objects_without_changing_order_changes_nothing(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    renamed, pods = _rename(documents)
    before, after = load(documents), load(renamed)
    for flow in draw_flows(data, before):
        moved = flow
        for side in ("src", "dst"):
            value = getattr(flow, side)
            if isinstance(value, str) and value in pods:
                moved = netpolicy.Flow(**{**_flow_fields(moved), side: pods[value]})
        old, new = before.evaluate(flow), after.evaluate(moved)
        assert summary(old) == summary(new)
        for a, b in ((old.egress, new.egress), (old.ingress, new.ingress)):
            if a is not None and b is not None:
                assert a.rule == b.rule
        assert [r.rule for r in old.logged] == [r.rule for r in new.logged]


def _flow_fields(flow: netpolicy.Flow) -> dict[str, Any]:
    return {f: getattr(flow, f) for f in ("src", "dst", "protocol", "dst_port", "src_port", "icmp_type", "icmp_code")}


# -- snapshots -----------------------------------------------------------------------------


@heavy
@given(nps.manifests(), st.data())
def test_pickled_policy_set_decides_the_same(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    ps = load(documents)
    restored = pickle.loads(pickle.dumps(ps))
    for flow in draw_flows(data, ps):
        assert ps.evaluate(flow) == restored.evaluate(flow)


# -- staged policies -------------------------------------------------------------------------

STAGED = {"StagedNetworkPolicy": "NetworkPolicy", "StagedGlobalNetworkPolicy": "GlobalNetworkPolicy"}


def _without_staged(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in flatten(copy.deepcopy(documents)) if not d.get("kind", "").startswith("Staged")]


def _enforce_staged(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every staged policy (stagedAction Set) turned into the policy it stages."""
    out = []
    for doc in flatten(copy.deepcopy(documents)):
        kind = doc.get("kind", "")
        if kind in STAGED:
            doc["kind"] = STAGED[kind]
            doc["spec"].pop("stagedAction", None)
        elif kind == "StagedKubernetesNetworkPolicy":
            doc["apiVersion"], doc["kind"] = "networking.k8s.io/v1", "NetworkPolicy"
            doc["spec"].pop("stagedAction", None)
        out.append(doc)
    return out


@heavy
@given(nps.manifests(), st.data())
def test_staged_policies_never_change_the_action(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Removing every staged policy changes no action; enforcing every staged policy
    gives the pending verdict (generated names are unique, so the order is kept)."""
    ps, unstaged, enforced = load(documents), load(_without_staged(documents)), load(_enforce_staged(documents))
    for flow in draw_flows(data, ps):
        verdict = ps.evaluate(flow)
        assert summary(verdict) == summary(unstaged.evaluate(flow))
        pending = verdict.pending if verdict.pending is not None else verdict
        assert enforced.evaluate(flow).action == pending.action
