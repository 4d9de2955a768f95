"""What a replay found, counted: records and connections by verdict and by what decided
them, uncertain and undecided records (with their reasons), and the comparison with
the log: agreements and every disagreement (the first :data:`MAX_EXAMPLES` distinct
ones with both traces)."""

from __future__ import annotations

import collections
import json
from typing import Any, Callable

import attrs

from .check import Check
from .decide import UNCERTAIN, UNKNOWN, Outcome

__all__ = ["Summary", "MAX_EXAMPLES"]

#: Distinct disagreements described in full (both traces); the rest are counted.
MAX_EXAMPLES = 50


@attrs.define
class Summary:
    """Counts over every record replayed (see the module docstring)."""

    records: int = 0
    connections: int = 0
    skipped: int = 0
    verdicts: collections.Counter[str] = attrs.field(factory=collections.Counter)
    by_decision: dict[str, collections.Counter[str]] = attrs.field(factory=dict)
    uncertain: int = 0
    unknown: int = 0
    reasons: collections.Counter[str] = attrs.field(factory=collections.Counter)
    checked: int = 0
    agree: int = 0
    disagree: int = 0
    disagree_uncertain: int = 0
    hits_checked: int = 0
    hits_agree: int = 0
    pending_checked: int = 0
    pending_agree: int = 0
    _examples: dict[Any, dict[str, Any]] = attrs.field(factory=dict)

    @property
    def examples(self) -> list[dict[str, Any]]:
        """The disagreements described in full, in the order first met."""
        return list(self._examples.values())

    def add(self, outcome: Outcome, check: Check | None, records: int, connections: int, first_place: str,
            key: Any = None, traces: Callable[[], tuple[str, str]] | None = None) -> None:
        """Counts ``records`` records (``connections`` connections) of one outcome and
        check; ``key`` names the distinct case, ``traces`` gives its logged and netpolicy
        traces when it is a disagreement described in full."""
        self.records += records
        self.connections += connections
        verdict = outcome.action or "not decided"
        self.verdicts[verdict] += records
        self.by_decision.setdefault(verdict, collections.Counter())[outcome.label] += records
        if outcome.certainty == UNCERTAIN:
            self.uncertain += records
        elif outcome.certainty == UNKNOWN:
            self.unknown += records
        for reason in outcome.reasons:
            self.reasons[reason] += records
        if check is None:
            return
        if check.agrees is not None:
            self.checked += records
            self.agree += records if check.agrees else 0
        if check.hits_agree is not None:
            self.hits_checked += records
            self.hits_agree += records if check.hits_agree else 0
        if check.pending_agrees is not None:
            self.pending_checked += records
            self.pending_agree += records if check.pending_agrees else 0
        if not check.disagrees:
            return
        if outcome.certainty == UNCERTAIN:
            self.disagree_uncertain += records
        else:
            self.disagree += records
        example = self._examples.get(key)
        if example is None and len(self._examples) < MAX_EXAMPLES:
            logged, ours = traces() if traces is not None else ("", "")
            example = self._examples[key] = _example(outcome, check, first_place, logged, ours)
        if example is not None:
            example["records"] += records

    def data(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        data: dict[str, Any] = {
            "records": self.records, "connections": self.connections, "skipped": self.skipped,
            "verdicts": dict(self.verdicts),
            "by_decision": {verdict: [{"decided_by": label, "records": n} for label, n in counter.most_common()]
                            for verdict, counter in sorted(self.by_decision.items())},
            "uncertain": self.uncertain, "not_decided": self.unknown,
            "reasons": [{"reason": reason, "records": n} for reason, n in self.reasons.most_common()],
        }
        if self.checked or self.hits_checked or self.pending_checked:
            data["check"] = {
                "records_compared": self.checked, "agree": self.agree, "disagree": self.disagree,
                "disagree_uncertain": self.disagree_uncertain,
                "policy_hits_compared": self.hits_checked, "policy_hits_agree": self.hits_agree,
                "pending_compared": self.pending_checked, "pending_agree": self.pending_agree,
                "disagreements": self.examples,
            }
        return data

    def json(self) -> str:
        return json.dumps(self.data(), indent=2)

    def table(self) -> str:
        """The summary as text for a person."""
        lines = [f"{self.records} records ({self.connections} connections): "
                 + ", ".join(f"{n} {verdict.lower()}" for verdict, n in sorted(self.verdicts.items()))]
        if self.skipped:
            lines.append(f"{self.skipped} malformed records skipped")
        lines.append(f"uncertain: {self.uncertain}, not decided: {self.unknown}")
        for verdict, counter in sorted(self.by_decision.items()):
            lines.append(f"{verdict}:")
            width = max(len(str(n)) for n in counter.values())
            lines.extend(f"  {n:>{width}}  {label}" for label, n in counter.most_common(20))
        if self.reasons:
            lines.append("why uncertain or not decided:")
            lines.extend(f"  {n:>8}  {reason}" for reason, n in self.reasons.most_common(10))
        if self.checked or self.hits_checked:
            lines.append(f"log check: {self.agree} of {self.checked} verdicts agree, "
                         f"{self.hits_agree} of {self.hits_checked} deciding policy hits agree, "
                         f"{self.pending_agree} of {self.pending_checked} pending hits agree")
            lines.append(f"disagreements: {self.disagree} records (and {self.disagree_uncertain} uncertain)")
            for example in self.examples[:10]:
                lines.append(f"  {example['place']}: {example['src']} -> {example['dst']} {example['protocol']}"
                             f"/{example['dst_port']} ({example['records']} records, reported by {example['reporter']})")
                lines.append(f"    logged:    {example['logged']['action']} {example['logged']['hit']}")
                lines.append(f"    netpolicy: {example['netpolicy']['action']} {example['netpolicy']['hit']}")
        return "\n".join(lines)


def _example(outcome: Outcome, check: Check, place: str, logged: str, ours: str) -> dict[str, Any]:
    flow = outcome.flow
    return {
        "place": place, "records": 0, "src": outcome.src.note, "dst": outcome.dst.note,
        "protocol": flow.protocol if flow is not None else None, "dst_port": flow.dst_port if flow is not None else None,
        "reporter": check.reporter, "certainty": outcome.certainty, "reasons": list(outcome.reasons),
        "logged": {"action": check.logged, "hit": check.logged_hit, "pending": check.logged_pending, "trace": logged},
        "netpolicy": {"action": check.expected, "hit": check.netpolicy_hit, "pending": check.pending_expected,
                      "trace": ours},
    }
