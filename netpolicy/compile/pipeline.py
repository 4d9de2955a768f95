"""The compiler's stages in order, from a snapshot to its :class:`Compiled` tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import PolicyError
from ..model import Action, Direction, Rule
from ..resolve.index import index_of
from .addresses import EGRESS_LOCAL, INGRESS_LOCAL, collect_atoms, partition, project_roles, rule_sides
from .compiled import Compiled, TooLarge
from .groups import PeerGroups
from .labels import LabelMaps
from .layout import LocalRows, lay_out_addresses, lay_out_tables
from .local import RuleIds, entries_of, local_classes, policies_by_label, profiles_of, signatures
from .outcomes import Concrete, Templates
from .sides import SideRows
from .tables import RelativeTables

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["compile_policyset"]


def compile_policyset(ps: Snapshot) -> Compiled:
    """Compiles ``ps`` into tables (see :mod:`netpolicy.compile`). Tables that would
    grow past :data:`~netpolicy.compile.layout.MAX_TABLE_CELLS` are not built: every
    flow then goes to the reference."""
    try:
        return _compile(ps)
    except TooLarge:
        out = Compiled()
        out.endpoints = ps.endpoints
        out.endpoint_ids = {e.key: i for i, e in enumerate(ps.endpoints) if e.name}
        out.all_fallback = True
        out.verdict_by_reference = np.ones(len(ps.endpoints), np.bool_)
        return out


def _compile(ps: Snapshot) -> Compiled:
    out = Compiled()
    policies, endpoints = ps.policies, ps.endpoints
    out.endpoints = endpoints
    out.endpoint_ids = {e.key: i for i, e in enumerate(endpoints) if e.name}
    out.all_fallback = any(e.is_host for e in endpoints)
    egress_rules: list[Rule] = []
    ingress_rules: list[Rule] = []
    for policy in policies:
        ingress_rules.extend(policy.ingress or ())
        egress_rules.extend(policy.egress or ())
    index = index_of(ps)  # profile resolution exactly as the reference does it
    ep_profiles = [profiles_of(index, e) for e in endpoints]
    for profile in {p for profiles in ep_profiles for _, p in profiles if p is not None}:
        ingress_rules.extend(profile.ingress)
        egress_rules.extend(profile.egress)
    rules = egress_rules + ingress_rules
    _check_actions(ps, rules)

    # label maps, kept to the labels some selector reads
    selectors: list[Any] = [p.selector for p in (*policies, *ps.staged_policies)]
    selectors += [sel for side in rule_sides(rules) for sel in (side.selector, side.not_selector) if sel is not None]
    labels = LabelMaps(frozenset().union(*(sel.label_keys for sel in selectors)))
    ep_labels = [labels.id_of(ps._labels_of(e)) for e in endpoints]
    ns_labels = [labels.id_of(n.effective_labels) for n in ps.network_sets]

    # address classes, and their classes per role
    atoms = collect_atoms(ps, rules, labels, ep_labels, ns_labels)
    classes = partition(atoms.nodes.values())
    role_sides = [[r.source for r in egress_rules], [r.destination for r in egress_rules],
                  [r.source for r in ingress_rules], [r.destination for r in ingress_rules]]
    roles = project_roles(classes, atoms, role_sides)

    # which policies apply to each label map; staged ones send their endpoints to the reference
    by_label = policies_by_label(policies, labels)
    staged_hits = [labels.matches(p.selector) for p in ps.staged_policies]
    labels.release()
    verdict_ref = np.zeros(len(endpoints), np.bool_)
    for eid, lid in enumerate(ep_labels):
        verdict_ref[eid] = any(hits[lid] for hits in staged_hits)
    out.verdict_by_reference = verdict_ref

    # per direction: local classes, their rows and group tables
    sides = SideRows(ps, atoms, roles)
    templates = Templates()
    relative = RelativeTables({tier.name: tier for tier in ps.tiers}, sides, templates)
    groups = PeerGroups(classes, roles, sides, relative)
    concrete = Concrete(policies, templates, relative.tables, out.outcomes)
    rule_ids = RuleIds()
    shared_idents: dict[Any, int] = {}
    specs: list[LocalRows] = []
    local: list[dict[int, np.ndarray]] = []
    for direction, local_role in ((Direction.EGRESS, EGRESS_LOCAL), (Direction.INGRESS, INGRESS_LOCAL)):
        sigs = signatures(policies, endpoints, ep_profiles, ep_labels, by_label, direction, rule_ids)
        classes_here = local_classes(classes.per_family, sigs.of_endpoint, roles.of[local_role])
        local.append(classes_here.per_family)
        rows: list[Any] = [None] * len(classes_here.ids)
        for rid, members in classes_here.by_relative(sigs).items():
            # one relative signature at a time: its entries are dropped after it
            entries = entries_of(sigs.relatives[rid], direction, policies, rule_ids, shared_idents)
            done: dict[int, tuple[int, list[int]]] = {}
            for lid, rcid, sid in members:
                computed = done.get(rcid)
                if computed is None:
                    computed = done[rcid] = groups.cell_row(entries, classes_here.fine[(sid, rcid)], direction)
                names = sigs.names[sid]
                rows[lid] = (computed[0], np.array([concrete.table(t, names) for t in computed[1]], np.int32))
        specs.append(rows)
    relative.forget()

    lay_out_addresses(out, specs, local, groups.rows, classes, roles)
    del specs, local
    lay_out_tables(out, concrete.tables)
    return out


_RULE_ACTIONS = (Action.ALLOW, Action.DENY, Action.PASS, Action.LOG)
_TIER_ENDS = (Action.DENY, Action.PASS)


def _check_actions(ps: Snapshot, rules: list[Rule]) -> None:
    """Raises PolicyError, as the reference evaluator does, for what the tables could
    only guess at: a policy in a tier the snapshot does not have, a tier ending in
    anything but Deny or Pass, a rule action that is none of Allow, Deny, Pass and Log."""
    tiers = {tier.name: tier for tier in ps.tiers}
    for tier in tiers.values():
        if tier.default_action not in _TIER_ENDS:
            raise PolicyError(f"internal inconsistency: tier {tier.name} has default action {tier.default_action}")
    for policy in ps.policies:
        if policy.tier not in tiers:
            raise PolicyError(f"internal inconsistency: policy names unknown tier {policy.tier!r}")
    for rule in rules:
        if rule.action not in _RULE_ACTIONS:
            raise PolicyError(f"internal inconsistency: rule action {rule.action!r}")
