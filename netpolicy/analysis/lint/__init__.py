"""Policy analysis: rules that never act or change nothing, selectors that select
nothing, what no policy covers, what is open to everyone, and conflicting rules.

:func:`analyze` runs the checks of ``netpolicy.CHECKS`` on a policy set and
returns :class:`~.findings.Findings`. Shadowing, redundancy, log-only drops and
exposure are read exactly off the compiled tables (:mod:`.cells`, :mod:`.shadow`,
:mod:`.exposure`); the others look at selectors and which policies apply
(:mod:`.selectors`, :mod:`.coverage`, :mod:`.conflicts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..reach import Reach
from .cells import reached
from .conflicts import conflicts
from .coverage import log_only_drops, no_default_deny, unprotected
from .exposure import exposed_external, exposed_namespaces
from .findings import CHECKS, LEVELS, Check, Finding, Findings, level_rank
from .selectors import applied, empty_policy_selectors, empty_rule_selectors
from .shadow import redundant, shadowed

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["analyze", "Finding", "Findings", "Check", "CHECKS", "LEVELS"]


def analyze(ps: Snapshot, disable: Iterable[str] = ()) -> Findings:
    """The findings of every check of ``netpolicy.CHECKS`` on ``ps`` but those named in
    ``disable``, most severe first (then by policy and rule). An unknown check id is a
    ``ValueError``."""
    off = set(disable)
    unknown = sorted(off - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check {', '.join(unknown)}; the checks are {', '.join(CHECKS)}")
    on = [c for c in CHECKS if c not in off]
    found: list[Finding] = []
    applies = applied(ps)

    def want(*ids: str) -> bool:
        return any(i in on for i in ids)

    if want("shadowed-rule", "redundant-rule", "log-only-drop", "exposed-external", "exposed-all-namespaces",
            "order-conflict"):
        cells, marks = reached(ps)
        reach = Reach(marks.snapshot)  # decides every flow as ps does, on the tables just read
        if want("shadowed-rule", "redundant-rule", "log-only-drop"):
            if want("shadowed-rule"):
                found += shadowed(ps, cells, reach, applies)
            if want("redundant-rule"):
                found += redundant(ps, cells, marks)[0]
            if want("log-only-drop"):
                found += log_only_drops(ps, cells)
        if want("exposed-external"):
            found += exposed_external(ps, reach)
        if want("exposed-all-namespaces"):
            found += exposed_namespaces(ps, reach)
    if want("empty-policy-selector"):
        found += empty_policy_selectors(ps, applies)
    if want("empty-rule-selector"):
        found += empty_rule_selectors(ps)
    if want("unprotected-ingress", "unprotected-egress"):
        found += [f for f in unprotected(ps, applies) if f.check in on]
    if want("no-default-deny"):
        found += no_default_deny(ps, applies)
    if want("order-conflict"):
        found += conflicts(ps, applies, reach)
    found.sort(key=lambda f: (level_rank(f.level), f.check, f.about, f.where))
    return Findings(tuple(found), tuple(on))
