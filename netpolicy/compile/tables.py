"""Tables.

A table gives, per flow key, the outcome of one direction for the peers of one group:
it runs the direction's tiers, policies and profiles (§C.3) on every key interval at
once. Where rules test source ports, an interval's value is ``-3 - t`` instead: table
``t`` then decides by the source key. Tables are built over outcome templates and
interned (the *relative* tables); :class:`~netpolicy.compile.outcomes.Concrete` names
their profile slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Action, Direction, Tier
from .keys import ALL, KEY_LIMIT, Intervals, intersect
from .local import Entries
from .outcomes import Table, Templates
from .sides import SideRows

__all__ = ["Live", "RelativeTables"]

#: a live entry of a local class: (position in the entries, local side value, peer
#: side row, top of the peer row)
Live = tuple[int, int, np.ndarray, int]


class RelativeTables:
    """The relative tables, interned, and a memo from what decides a table to its id."""

    def __init__(self, tiers: dict[str, Tier], sides: SideRows, templates: Templates) -> None:
        self._tiers = tiers
        self._sides = sides
        self._templates = templates
        self._memo: dict[Any, int] = {}
        self._ids: dict[Table, int] = {}
        self.tables: list[Table] = []  #: the relative tables, by id

    def forget(self) -> None:
        """Drops the memo (once every table is made)."""
        self._memo.clear()

    def table(
        self, entries: Entries, merged: list[tuple[int, int]], live: list[Live], values: list[int],
        direction: Direction, egress: bool,
    ) -> int:
        """The table of the peers whose live entries take ``values`` (peer side values);
        ``merged`` lists the live entries and the tier/profile ends in entry order as
        (position, live index or -1)."""
        # The table depends only on the entries that match these peers and the structure
        # around them, up to the first end of a tier that denies by default with no Pass
        # rule matching before it: nothing reaches past it (every key is decided there).
        rules = entries.items
        idents = entries.idents
        parts: list[Any] = []
        kept: list[tuple[int, int, int]] = []
        pass_seen = False
        for pos, n in merged:
            if n >= 0:
                pval = values[n]
                if pval == 0:
                    continue
                lval = live[n][1]
                parts.append((idents[pos], lval, pval))
                kept.append((pos, lval, pval))
                if rules[pos][1].action is Action.PASS:
                    pass_seen = True
                continue
            parts.append(idents[pos])
            entry = rules[pos]
            if entry[0] == "tier-end":
                if self._tiers[entry[2]].default_action is not Action.PASS and not pass_seen:
                    break
                pass_seen = False
        memo_key = (direction, tuple(parts))
        found = self._memo.get(memo_key)
        if found is not None:
            return found
        found = self._memo[memo_key] = self._build(entries, tuple(kept), direction, egress)
        return found

    def _build(self, entries: Entries, column: tuple[tuple[int, int, int], ...], direction: Direction, egress: bool) -> int:
        rules = entries.items
        keysets: list[tuple[int, Intervals]] = []
        sources: dict[int, Intervals] = {}
        for pos, lval, pval in column:
            rule = rules[pos][1]
            src_val, dst_val = (lval, pval) if egress else (pval, lval)
            iv, source = self._sides.rule_keys(rule, src_val, dst_val)
            if iv and source != []:
                keysets.append((pos, iv))
                if source is not None:
                    sources[pos] = source
        if not sources:
            table = self._evaluate(entries, keysets, direction)
        else:
            table = self._two_level(entries, keysets, sources, direction)
        return self._intern(table)

    def _intern(self, table: Table) -> int:
        tid = self._ids.get(table)
        if tid is None:
            tid = self._ids[table] = len(self.tables)
            self.tables.append(table)
        return tid

    def _two_level(
        self, entries: Entries, keysets: list[tuple[int, Intervals]], sources: dict[int, Intervals], direction: Direction
    ) -> Table:
        """A table whose rules also test source ports: per key interval, either an
        outcome or ``-3 - t``, where table ``t`` is looked up with the source key."""
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        ends = points[1:] + [KEY_LIMIT]
        starts: list[int] = []
        values: list[int] = []
        for lo, hi in zip(points, ends):
            here = [(pos, sources.get(pos, ALL)) for pos, iv in keysets if intersect(iv, [(lo, hi)])]
            inner = self._evaluate(entries, here, direction)
            value = inner[1][0] if len(inner[1]) == 1 else -3 - self._intern(inner)
            if not values or values[-1] != value:
                starts.append(lo)
                values.append(value)
        return tuple(starts), tuple(values)

    def _evaluate(self, entries: Entries, keysets: list[tuple[int, Intervals]], direction: Direction) -> Table:
        """Runs §C.3 on every key interval at once (bit i = elementary interval i)."""
        rules = entries.items
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        index = {p: i for i, p in enumerate(points)}
        index[KEY_LIMIT] = len(points)
        member: dict[int, int] = {}
        for pos, iv in keysets:
            mask = 0
            for a, b in iv:
                i, j = index[a], index[b]
                mask |= ((1 << (j - i)) - 1) << i
            member[pos] = mask
        full = (1 << len(points)) - 1
        decided: list[tuple[int, tuple[Any, ...]]] = []
        logs: dict[int, list[tuple[Any, ...]]] = {}

        def log(hit: int, ref: tuple[Any, ...]) -> None:
            while hit:
                low = hit & -hit
                logs.setdefault(low.bit_length() - 1, []).append(ref)
                hit ^= low

        active, passed = full, 0
        for pos in sorted([*member, *entries.ends]):
            layer, rule, tier_name, owner, r_index = rules[pos]
            if layer == "profile-end":
                active |= passed
                passed = 0
                continue
            if layer == "tier-end":
                if self._tiers[tier_name].default_action is Action.PASS:
                    active |= passed
                else:
                    if active:
                        decided.append((active, ("end", tier_name)))
                    active = passed
                passed = 0
                continue
            hit = member[pos] & active
            if not hit:
                continue
            action = rule.action
            if action is Action.LOG:
                log(hit, (tier_name, owner, None, r_index) if layer == "policy" else (None, None, owner, r_index))
            elif action is Action.PASS:  # policy: leave the tier; profile: go to the next profile
                passed |= hit
                active &= ~hit
            else:
                if layer == "policy":
                    decided.append((hit, ("rule", tier_name, owner, r_index, action)))
                else:
                    decided.append((hit, ("profile", owner, r_index, action)))
                active &= ~hit
        if active:
            decided.append((active, ("none",)))
        outcome = self._templates.id_of
        outs = [0] * len(points)
        for mask, decision in decided:
            if not logs:
                oid = outcome(direction, decision, ())
            while mask:
                low = mask & -mask
                i = low.bit_length() - 1
                outs[i] = oid if not logs else outcome(direction, decision, tuple(logs.get(i, ())))
                mask ^= low
        starts: list[int] = []
        values: list[int] = []
        for p, o in zip(points, outs):
            if not values or values[-1] != o:
                starts.append(p)
                values.append(o)
        return tuple(starts), tuple(values)
