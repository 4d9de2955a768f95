"""What :func:`netpolicy.analyze` reports: findings, each from a check
with an id and a level, pointing at a policy (and a rule) and where it was written."""

from __future__ import annotations

import re
from typing import Any, Iterator, Sequence

import attrs

from ...model import Direction, Origin, Policy, PolicyRef

__all__ = ["LEVELS", "Check", "CHECKS", "Finding", "Findings", "level_rank", "rule_path"]

_CALICO = ("NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy")
_WRITTEN = re.compile(r"^(\w+)\[(\d+)\]$")


def rule_path(policy: Policy, direction: Direction, index: int) -> tuple[str | int, ...] | None:
    """The field path of a policy's rule in its manifest: Calico's rules are written one
    for one; a rule converted from a Kubernetes kind that records the rule it came from
    (``from_rule``) points at that one; None for the others."""
    rules = policy.rules(direction) or ()
    if not 0 <= index < len(rules):
        return None
    written = rules[index].from_rule
    if written is not None:
        found = _WRITTEN.match(written)
        return ("spec", found.group(1), int(found.group(2))) if found else None
    if policy.ref.kind in _CALICO:
        return ("spec", "ingress" if direction is Direction.INGRESS else "egress", index)
    return None

#: the levels, most severe first
LEVELS = ("error", "warning", "note")


def level_rank(level: str) -> int:
    """0 for ``error``, 1 for ``warning``, 2 for ``note``."""
    return LEVELS.index(level)


@attrs.frozen
class Check:
    """One check: its ``id`` (what ``--disable`` takes), its ``level`` and what it
    finds, in a line (``title``) and in a paragraph (``help``)."""

    id: str
    level: str
    title: str
    help: str


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("shadowed-rule", "warning", "A rule no flow reaches",
          "Every flow the rule matches is decided before it (by an earlier rule, policy or tier, honouring "
          "order, the name tie-break and Pass), or it matches no flow of the input: it never acts."),
    Check("redundant-rule", "note", "A rule whose removal changes no verdict",
          "Removing the rule (together with every other rule reported redundant) changes no verdict: it is "
          "shadowed, or what decides in its place agrees with it."),
    Check("empty-policy-selector", "warning", "A policy that applies to no endpoint",
          "The policy's selector (with its namespace) selects no endpoint of the input: likely a typo."),
    Check("empty-rule-selector", "warning", "A rule selector that matches nothing",
          "A rule's selector, namespaceSelector or serviceAccountSelector matches no endpoint or network set "
          "of the input: the rule can only match by address, or not at all."),
    Check("unprotected-ingress", "note", "A workload no policy polices on ingress",
          "No enforced policy applies to the workload's ingress: every flow to it is allowed (or decided by its "
          "profiles only)."),
    Check("unprotected-egress", "note", "A workload no policy polices on egress",
          "No enforced policy applies to the workload's egress."),
    Check("no-default-deny", "note", "A namespace without a default deny",
          "No policy selects every endpoint of the namespace with an ingress (or egress) direction and no rule "
          "that allows: endpoints added later are open until a policy names them."),
    Check("log-only-drop", "warning", "A tier's default drops traffic only Log rules touched",
          "The only policies of a tier that apply to an endpoint have Log rules alone (or only Log rules match): "
          "the tier's default Deny drops the traffic they log. Add a Pass rule or an Allow."),
    Check("exposed-external", "warning", "An endpoint open to every external address",
          "Every address outside the input's endpoints may open connections to the endpoint on these ports."),
    Check("exposed-all-namespaces", "note", "An endpoint open to every other namespace",
          "Some endpoint of every other namespace of the input may open connections to the endpoint on these "
          "ports."),
    Check("order-conflict", "warning", "Rules of equal-order policies that overlap with different actions",
          "Two policies of one tier have the same order (Calico breaks the tie by name; AdminNetworkPolicy leaves "
          "it undefined) and rules with different actions that match common flows."),
)}


@attrs.frozen
class Finding:
    """One finding: the ``check`` (an id of ``netpolicy.CHECKS``) and its ``level``, a
    ``message``, the ``policy`` and ``rule`` it is about (``direction`` and index among
    that direction's rules) or the ``subject`` (an endpoint, workload, namespace or
    tier) when no policy is at fault, where it was written (``origin``: the policy's
    document; ``path``: the rule's field path in it, when known), and the
    ``evidence``: related rules, a witness flow, the ports."""

    check: str
    level: str
    message: str
    policy: PolicyRef | None = None
    direction: Direction | None = None
    rule: int | None = None
    subject: str | None = None
    origin: Origin | None = None
    evidence: tuple[str, ...] = ()
    #: where the rule is written in its policy's manifest, as a field path
    #: (``("spec", "ingress", 2)``), when it is known
    path: tuple[str | int, ...] | None = attrs.field(default=None, eq=False)

    @property
    def where(self) -> str:
        """``file:line:column`` of the origin, as far as known ("" for none)."""
        o = self.origin
        if o is None or o.file is None:
            return ""
        return ":".join(str(v) for v in (o.file, o.line, o.column) if v is not None)

    @property
    def about(self) -> str:
        """The policy and rule (``NetworkPolicy ns/name ingress rule 2``), or the subject."""
        if self.policy is None:
            return self.subject or ""
        text = str(self.policy)
        if self.direction is not None and self.rule is not None:
            text += f" {self.direction} rule {self.rule}"
        return text

    def record(self) -> dict[str, Any]:
        """The finding as plain data (for JSON and YAML)."""
        o = self.origin
        return {
            "check": self.check, "level": self.level, "message": self.message,
            "policy": None if self.policy is None else {
                "kind": self.policy.kind, "namespace": self.policy.namespace, "name": self.policy.name},
            "direction": None if self.direction is None else str(self.direction),
            "rule": self.rule, "subject": self.subject,
            "origin": None if o is None else {"file": o.file, "document": o.document, "line": o.line, "column": o.column},
            "evidence": list(self.evidence),
        }


@attrs.frozen
class Findings(Sequence[Finding]):
    """The findings of :func:`netpolicy.analyze`, most severe first, and
    the checks that ran (``checks``)."""

    findings: tuple[Finding, ...]
    checks: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __getitem__(self, index: Any) -> Any:
        return self.findings[index]

    def of(self, check: str) -> list[Finding]:
        """The findings of one check."""
        return [f for f in self.findings if f.check == check]

    def at_least(self, level: str) -> list[Finding]:
        """The findings of ``level`` or more severe."""
        rank = level_rank(level)
        return [f for f in self.findings if level_rank(f.level) <= rank]
