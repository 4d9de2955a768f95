"""Outcomes.

An outcome id names a precomputed (Decision, logged rules) pair. The tables are first
built over outcome *templates*, where profiles stand as slots (see
:mod:`netpolicy.compile.local`); :class:`Concrete` then names the slots of each
signature, giving the concrete tables and outcomes the matchers read.
"""

from __future__ import annotations

from typing import Any

from ..model import Action, Direction, Policy
from ..verdict import Decision, Reason, RuleRef

__all__ = ["Concrete", "Table", "Templates"]

#: a table by key intervals: (starts, values), values outcome ids, ``FALLBACK`` or
#: ``-3 - t`` for secondary table ``t``
Table = tuple[tuple[int, ...], tuple[int, ...]]


class Templates:
    """Outcome templates: (Decision, logged RuleRefs) given as light tuples, decisions
    ("rule", tier, policy index, rule, action), ("end", tier), ("profile", slot, rule,
    action), ("none",); logs as (tier, policy index, None, rule) / (None, None, slot,
    rule)."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}
        self.items: list[Any] = []  #: (direction, decision, logged) per template
        self.slotted: list[bool] = []  #: whether the template names a profile slot

    def id_of(self, direction: Direction, decision: tuple[Any, ...], logged: tuple[tuple[Any, ...], ...]) -> int:
        """The id of an outcome template."""
        key = (direction, decision, logged)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.items)
            self.items.append(key)
            self.slotted.append(decision[0] == "profile" or any(ref[2] is not None for ref in logged))
        return found


class Concrete:
    """Concrete tables and outcomes: each relative table (of ``relative``) with its
    profile slots named, and each distinct outcome built once (into ``outcomes``)."""

    def __init__(
        self, policies: tuple[Policy, ...], templates: Templates, relative: list[Table],
        outcomes: list[tuple[Decision, tuple[RuleRef, ...]]],
    ) -> None:
        self._policies = policies
        self._templates = templates
        self._relative = relative
        self._outcomes = outcomes
        self._outcome_ids: dict[Any, int] = {}
        self._slotted: dict[int, bool] = {}
        self._ids: dict[tuple[int, tuple[str, ...]], int] = {}
        self._tables: dict[Table, int] = {}
        self.tables: list[Table] = []  #: the concrete tables, by id

    def table(self, tid: int, names: tuple[str, ...]) -> int:
        """The concrete table of relative table ``tid`` for profile slots ``names``."""
        slotted = self._table_slotted(tid)
        key = (tid, names if slotted else ())
        found = self._ids.get(key)
        if found is None:
            starts, values = self._relative[tid]
            template_slotted = self._templates.slotted
            made = []
            for v in values:
                if v <= -3:
                    made.append(-3 - self.table(-3 - v, names))
                elif v >= 0:
                    made.append(self._named_outcome(v, names) if template_slotted[v] else self._named_outcome(v, ()))
                else:
                    made.append(v)
            table = (starts, tuple(made))
            found = self._tables.get(table)
            if found is None:
                found = self._tables[table] = len(self.tables)
                self.tables.append(table)
            self._ids[key] = found
        return found

    def _table_slotted(self, tid: int) -> bool:
        """Whether a relative table's outcomes name a profile slot."""
        found = self._slotted.get(tid)
        if found is None:
            template_slotted = self._templates.slotted
            found = self._slotted[tid] = any(
                self._table_slotted(-3 - v) if v <= -3 else v >= 0 and template_slotted[v]
                for v in self._relative[tid][1]
            )
        return found

    def _named_outcome(self, template: int, names: tuple[str, ...]) -> int:
        """The concrete outcome id of a template, its slots named."""
        direction, decision, logged = self._templates.items[template]
        if decision[0] == "profile":
            decision = ("profile", names[decision[1]], *decision[2:])
        logged = tuple((t, p, names[slot] if slot is not None else None, r) for t, p, slot, r in logged)
        key = (direction, decision, logged)
        found = self._outcome_ids.get(key)
        if found is None:
            policies = self._policies
            kind = decision[0]
            if kind == "rule":
                made = Decision(direction, decision[4], Reason.RULE, decision[1], policies[decision[2]].ref, decision[3])
            elif kind == "end":
                made = Decision(direction, Action.DENY, Reason.END_OF_TIER, decision[1])
            elif kind == "profile":
                made = Decision(direction, decision[3], Reason.PROFILE, profile=decision[1], rule=decision[2])
            else:
                made = Decision(direction, Action.DENY, Reason.NO_PROFILE_MATCH)
            refs = tuple(
                RuleRef(direction, tier, policies[pidx].ref if pidx is not None else None, profile, number)
                for tier, pidx, profile, number in logged
            )
            found = self._outcome_ids[key] = len(self._outcomes)
            self._outcomes.append((made, refs))
        return found
