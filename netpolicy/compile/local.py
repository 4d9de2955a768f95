"""Local classes.

The policed side of a direction (egress: the source, ingress: the destination) is
classed by its endpoint's *signature* (the policies that apply to it in that direction
and its profiles, §C.2) together with the address's local-role class. A signature's
tables are worked out once per *relative* signature, where its profiles stand as slots
(profile rules compared by content); the profiles' names go into the outcomes last
(:class:`~netpolicy.compile.outcomes.Concrete`), so namespaces whose profiles say the
same thing share the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import Direction, Endpoint, Policy, Rule
from .addresses import AddressIntervals
from .compiled import LOCAL_EXTERNAL, LOCAL_FALLBACK
from .labels import LabelMaps

if TYPE_CHECKING:
    from ..resolve import Index

__all__ = [
    "Entries", "Entry", "LocalClasses", "RuleIds", "Signatures", "entries_of", "local_classes",
    "policies_by_label", "profiles_of", "signatures",
]

#: an endpoint's profiles in order: (name, the profile or None when it does not exist)
Profiles = tuple[tuple[str, Any], ...]
#: (applying policy indexes, the rules of each present profile in the direction)
Relative = tuple[tuple[int, ...], tuple[Any, ...]]
#: (layer, rule, tier, owner, index), see :func:`entries_of`
Entry = tuple[Any, ...]


def profiles_of(index: Index, endpoint: Endpoint) -> Profiles:
    """The endpoint's profiles in order, resolved as the reference resolves them."""
    return tuple((name, index.profile(name, endpoint)) for name in index.profiles_of(endpoint))


def policies_by_label(policies: tuple[Policy, ...], labels: LabelMaps) -> list[list[int]]:
    """Per distinct label map, the policies whose selector matches it, in policy order."""
    found: list[list[int]] = [[] for _ in range(len(labels))]
    for i, policy in enumerate(policies):
        for lid in labels.matching(policy.selector).tolist():
            found[lid].append(i)
    return found


class RuleIds:
    """A number per distinct rule content (rules are hashed once per object, and kept
    so that their ids stay theirs)."""

    def __init__(self) -> None:
        self._by_object: dict[int, int] = {}
        self._by_content: dict[Rule, int] = {}
        self._keep: list[Rule] = []

    def __call__(self, rule: Rule) -> int:
        found = self._by_object.get(id(rule))
        if found is None:
            found = self._by_object[id(rule)] = self._by_content.setdefault(rule, len(self._by_content))
            self._keep.append(rule)
        return found


@dataclass
class Signatures:
    """The signatures of one direction: each endpoint's (-1: a host endpoint, decided
    by the reference), each signature's relative signature and profile names, and the
    relative signatures."""

    of_endpoint: np.ndarray
    relative: list[int]
    names: list[tuple[str, ...]]
    relatives: list[Relative]


def signatures(
    policies: tuple[Policy, ...], endpoints: tuple[Endpoint, ...], ep_profiles: list[Profiles],
    ep_labels: list[int], by_label: list[list[int]], direction: Direction, rule_ids: RuleIds,
) -> Signatures:
    """The signatures of ``direction`` (see the module docstring)."""
    sigma_ids: dict[Any, int] = {}
    relative_ids: dict[Any, int] = {}
    found = Signatures(np.full(len(endpoints), -1, np.int32), [], [], [])
    # workloads see only the normal layer: doNotTrack and preDNAT policies are for host
    # endpoints (§C.6), whose flows the reference decides
    in_direction = [p.rules(direction) is not None and not p.do_not_track and not p.pre_dnat for p in policies]
    for eid, endpoint in enumerate(endpoints):
        if endpoint.is_host:
            continue
        profiles = ep_profiles[eid]
        applying = tuple(i for i in by_label[ep_labels[eid]] if in_direction[i])
        key = (applying, profiles)
        sid = sigma_ids.get(key)
        if sid is None:
            sid = sigma_ids[key] = len(found.relative)
            present = [(name, profile) for name, profile in profiles if profile is not None]
            slots = tuple(profile.rules(direction) for _, profile in present)
            relative = (applying, tuple(tuple(rule_ids(rule) for rule in rules) for rules in slots))
            rid = relative_ids.setdefault(relative, len(relative_ids))
            if rid == len(found.relatives):
                found.relatives.append((applying, slots))
            found.relative.append(rid)
            found.names.append(tuple(name for name, _ in present))
        found.of_endpoint[eid] = sid
    return found


@dataclass
class LocalClasses:
    """The local classes of one direction, numbered from 0 by (signature, local-role
    class): per family the local class of each address interval (or
    ``LOCAL_EXTERNAL`` / ``LOCAL_FALLBACK``), and per local class a fine address class
    of it."""

    ids: dict[tuple[int, int], int]
    fine: dict[tuple[int, int], int]
    per_family: dict[int, np.ndarray]

    def by_relative(self, sigs: Signatures) -> dict[int, list[tuple[int, int, int]]]:
        """Per relative signature, its local classes as (local class, local-role class,
        signature)."""
        found: dict[int, list[tuple[int, int, int]]] = {}
        for (sid, rcid), lid in self.ids.items():
            found.setdefault(sigs.relative[sid], []).append((lid, rcid, sid))
        return found


def local_classes(per_family: dict[int, AddressIntervals], ep_sigma: np.ndarray, local_role: np.ndarray) -> LocalClasses:
    """The local classes of every address interval (``local_role``: the direction's
    local-role class of each fine class)."""
    found = LocalClasses({}, {}, {})
    ids, fine = found.ids, found.fine
    for family in (4, 6):
        starts, classes, owners = per_family[family]
        local = np.full(len(starts), LOCAL_EXTERNAL, np.int32)
        for idx, (cid, owner) in enumerate(zip(classes, owners)):
            if owner == -1:
                continue
            if owner < 0 or ep_sigma[owner] < 0:
                local[idx] = LOCAL_FALLBACK
                continue
            pair = (int(ep_sigma[owner]), int(local_role[cid]))
            lid = ids.get(pair)
            if lid is None:
                lid = ids[pair] = len(ids)
                fine[pair] = cid
            local[idx] = lid
        found.per_family[family] = local
    return found


class Entries:
    """The ordered entries of a relative signature, with the positions of its tier and
    profile ends and, per entry, a small number naming it across signatures."""

    __slots__ = ("items", "ends", "idents")

    def __init__(self, items: list[Entry], ends: list[int], idents: list[int]) -> None:
        self.items = items
        self.ends = ends
        self.idents = idents


def entries_of(
    relative: Relative, direction: Direction, policies: tuple[Policy, ...], rule_ids: RuleIds, shared: dict[Any, int]
) -> Entries:
    """The entries (layer, rule, tier, owner, index) of a relative signature, where a
    profile's owner is its slot number; a ("tier-end", None, tier, None, None) entry
    closes each participating tier and a ("profile-end", None, None, slot, None) entry
    each profile. An entry's ident (numbered in ``shared``) is a policy rule's (policy,
    rule index), a profile rule's (slot, rule index, the rule's content), a tier end's
    tier, a profile end's slot."""
    applying, slots = relative
    items: list[Entry] = []
    for n, i in enumerate(applying):
        policy = policies[i]
        for r_index, rule in enumerate(policy.rules(direction) or ()):
            items.append(("policy", rule, policy.tier, i, r_index))
        if n + 1 == len(applying) or policies[applying[n + 1]].tier != policy.tier:
            items.append(("tier-end", None, policy.tier, None, None))
    for slot, profile_rules in enumerate(slots):
        for r_index, rule in enumerate(profile_rules):
            items.append(("profile", rule, None, slot, r_index))
        items.append(("profile-end", None, None, slot, None))
    ends = [pos for pos, entry in enumerate(items) if entry[0] in ("tier-end", "profile-end")]
    idents: list[int] = []
    for layer, rule, tier_name, owner, r_index in items:
        if layer == "policy":
            ident: Any = ("r", owner, r_index)
        elif layer == "profile":
            ident = ("p", owner, r_index, rule_ids(rule))
        elif layer == "tier-end":
            ident = ("T", tier_name)
        else:
            ident = ("P", owner)
        idents.append(shared.setdefault(ident, len(shared)))
    return Entries(items, ends, idents)
