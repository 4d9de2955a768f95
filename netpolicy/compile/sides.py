"""Rule sides over role classes.

A rule side (its nets, selectors, named ports, service) is evaluated once per class of
the role it is tested in: the *side row* gives, per role class, 0 (no match), 1 (match)
or ``2 + k`` (match, with the named or service ports resolved at that address being
port set ``k``). Sides that test the same thing share one row. From the side values a
rule takes at both ends, :meth:`SideRows.rule_keys` gives the flow keys it accepts.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ..model import EntityMatch, NamedPort, PortRange, Rule
from .addresses import EGRESS_LOCAL, EGRESS_PEER, INGRESS_LOCAL, INGRESS_PEER, Atoms, Roles, cidr
from .keys import ALL, Intervals, complement, intersect, named_iv, pairs_iv, port_ranges_iv, rule_base_iv, union

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["RuleInfo", "SideRows"]

#: (IPv4 ok, IPv6 ok, local side row, peer side row, top of the peer row)
RuleInfo = tuple[bool, bool, np.ndarray, np.ndarray, int]

_NO_PORTS: tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]], None] = (frozenset(), frozenset(), None)


class SideRows:
    """Side rows and what follows from them, cached per rule or side object (the
    objects are kept alive so that their ids stay theirs)."""

    def __init__(self, ps: Snapshot, atoms: Atoms, roles: Roles) -> None:
        self._services = ps.services
        self._atoms = atoms
        self._roles = roles
        self._side_rows: dict[int, np.ndarray] = {}
        self._rows_by_content: dict[tuple[int, str, bytes], np.ndarray] = {}  # by a digest of the content
        self._row_top: dict[int, int] = {}
        self._port_sets: dict[Any, int] = {}
        self._port_set_list: list[Any] = []
        self._rule_base: dict[int, Intervals] = {}
        self._families: dict[int, tuple[bool, bool]] = {}
        self._keys_cache: dict[tuple[int, int, int], tuple[Intervals, Intervals | None]] = {}
        #: :meth:`rule_info` by (id of the rule, egress), read directly where it is hot
        self.live_info: dict[tuple[int, bool], RuleInfo] = {}
        self._keep: list[Any] = []

    def _port_set_id(self, value: Any) -> int:
        found = self._port_sets.get(value)
        if found is None:
            found = self._port_sets[value] = len(self._port_set_list)
            self._port_set_list.append(value)
        return found

    def side_row(self, side: EntityMatch, role: int) -> np.ndarray:
        """Per class of ``role``: 0 no match, 1 match, 2+k match with port-set k (named
        ports or service ports resolved at that address)."""
        key = id(side) * 4 + role
        row = self._side_rows.get(key)
        if row is not None:
            return row
        self._keep.append(side)
        destination = role in (EGRESS_PEER, INGRESS_LOCAL)
        atom_ids = self._atoms.ids
        classes_of = self._roles.atom_classes[role]
        class_atoms = self._roles.atoms[role]
        n = len(class_atoms)
        ok = np.ones(n, np.bool_)

        def any_atom(keys: Iterable[Any]) -> np.ndarray:
            hit = np.zeros(n, np.bool_)
            for k in keys:
                atom = atom_ids.get(k)
                if atom is not None and atom in classes_of:
                    hit[classes_of[atom]] = True
            return hit

        if side.nets:
            ok &= any_atom(("net", cidr(net)) for net in side.nets)
        if side.not_nets:
            ok &= ~any_atom(("net", cidr(net)) for net in side.not_nets)
        if side.selector is not None:
            ok &= any_atom([("sel", side.selector)])
        if side.not_selector is not None:
            ok &= ~any_atom([("sel", side.not_selector)])
        svc_pairs: frozenset[tuple[int, int]] | None = None
        if side.services is not None:
            svc_key = (side.services.namespace, side.services.name)
            ok &= any_atom([("svc", svc_key)])
            if destination:
                found = [s for s in self._services if (s.namespace, s.name) == svc_key]
                svc_pairs = frozenset(found[0].ports) if found else frozenset()
        named = [p.name for p in side.ports if isinstance(p, NamedPort)]
        not_named = [p.name for p in side.not_ports if isinstance(p, NamedPort)]
        row = ok.astype(np.int32)
        if named or not_named or svc_pairs is not None:
            wanted = set(named) | set(not_named)
            np_atoms = {
                aid: (k[1], k[3], k[4])
                for k, aid in atom_ids.items()
                if k[0] == "np" and k[1] in wanted and k[2] == side.selector
            }
            for cid in np.flatnonzero(ok):
                have = [np_atoms[a] for a in class_atoms[cid] if a in np_atoms]
                value = (
                    frozenset((pr, po) for nm, pr, po in have if nm in named),
                    frozenset((pr, po) for nm, pr, po in have if nm in not_named),
                    svc_pairs,
                )
                row[cid] = 2 + self._port_set_id(value)
        top = int(row.max()) if len(row) else 0
        if top < 127:
            row = row.astype(np.int8)
        # sides that test the same thing share one row (and so one feature)
        digest = hashlib.blake2b(row.tobytes(), digest_size=16).digest()
        row = self._rows_by_content.setdefault((role, row.dtype.str, digest), row)
        self._side_rows[key] = row
        self._row_top[id(row)] = top
        return row

    def family_ok(self, rule: Rule) -> tuple[bool, bool]:
        """Whether the rule can match IPv4 flows, IPv6 flows (cached)."""
        found = self._families.get(id(rule))
        if found is not None:
            return found
        self._keep.append(rule)
        out = []
        for family in (4, 6):
            ok = rule.ip_version in (None, family)
            for nets in (rule.source.nets, rule.source.not_nets, rule.destination.nets, rule.destination.not_nets):
                if nets and not any(cidr(n)[0] == family for n in nets):
                    ok = False
            out.append(ok)
        found = self._families[id(rule)] = (out[0], out[1])
        return found

    def rule_info(self, rule: Rule, egress: bool) -> RuleInfo:
        """(IPv4 ok, IPv6 ok, local side row, peer side row, top of the peer row) of a
        rule in a direction (cached)."""
        found = self.live_info.get((id(rule), egress))
        if found is not None:
            return found
        local_role, peer_role = (EGRESS_LOCAL, EGRESS_PEER) if egress else (INGRESS_LOCAL, INGRESS_PEER)
        fam4, fam6 = self.family_ok(rule)
        lrow = self.side_row(rule.source if egress else rule.destination, local_role)
        prow = self.side_row(rule.destination if egress else rule.source, peer_role)
        info = self.live_info[(id(rule), egress)] = (fam4, fam6, lrow, prow, self._row_top[id(prow)])
        return info

    def rule_keys(self, rule: Rule, src_val: int, dst_val: int) -> tuple[Intervals, Intervals | None]:
        """The keys the rule matches given its side values, and the source keys (see
        :func:`~netpolicy.compile.keys.source_key`) when the rule has source ports
        (else None)."""
        cache_key = (id(rule), src_val, dst_val)
        cached = self._keys_cache.get(cache_key)
        if cached is not None:
            return cached
        source: Intervals | None = None
        src = rule.source
        if src.ports or src.not_ports:
            named_src = self._port_set_list[src_val - 2] if src_val >= 2 else _NO_PORTS
            source = ALL
            if src.ports:
                numeric = [p for p in src.ports if isinstance(p, PortRange)]
                source = intersect(source, union(port_ranges_iv(numeric) + named_iv(named_src[0], rule.protocol)))
            if src.not_ports:
                numeric = [p for p in src.not_ports if isinstance(p, PortRange)]
                source = intersect(source, complement(union(port_ranges_iv(numeric) + named_iv(named_src[1], rule.protocol))))
        base = self._rule_base.get(id(rule))
        if base is None:
            base = self._rule_base[id(rule)] = rule_base_iv(rule)
            self._keep.append(rule)
        iv = base
        dst = rule.destination
        named = self._port_set_list[dst_val - 2] if dst_val >= 2 else _NO_PORTS
        if dst.ports:
            numeric = [p for p in dst.ports if isinstance(p, PortRange)]
            iv = intersect(iv, union(port_ranges_iv(numeric) + named_iv(named[0], rule.protocol)))
        if dst.not_ports:
            numeric = [p for p in dst.not_ports if isinstance(p, PortRange)]
            iv = intersect(iv, complement(union(port_ranges_iv(numeric) + named_iv(named[1], rule.protocol))))
        if named[2] is not None:
            iv = intersect(iv, pairs_iv(named[2]))
        result = self._keys_cache[cache_key] = (iv, source)
        return result
