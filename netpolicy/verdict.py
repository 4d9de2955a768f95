"""What an evaluation returns: the verdict, each side's decision, the Log rules that
fired and a readable trace."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional, Sequence

import attrs

from .flow import Flow
from .model import Action, Direction, PolicyRef

__all__ = ["Reason", "Layer", "RuleRef", "Decision", "Step", "Verdict", "Verdicts", "explain_with"]

#: How a verdict's trace is recomputed from its source policy set: set by the reference
#: evaluator when it is imported (it builds on this module, so it cannot be imported here).
_explain: Callable[[Any, Flow], Sequence["Step"]] | None = None


def explain_with(explain: Callable[[Any, Flow], Sequence["Step"]]) -> None:
    """Make ``explain(source, flow)`` the way verdicts recompute their trace."""
    global _explain
    _explain = explain


class Reason:
    """Why a side decided as it did (the values of :attr:`Decision.reason`)."""

    RULE = "rule"  #: a policy rule allowed or denied
    END_OF_TIER = "end-of-tier"  #: a participating tier ended with no verdict: its default action
    PROFILE = "profile"  #: no policy decided; a profile rule did
    NO_PROFILE_MATCH = "no-profile-match"  #: no policy or profile rule decided: deny
    FAILSAFE = "failsafe"  #: a host endpoint failsafe port allowed
    FORWARD_DEFAULT = "forward-default"  #: forwarded host traffic with no forward policy: allow
    ALL = (RULE, END_OF_TIER, PROFILE, NO_PROFILE_MATCH, FAILSAFE, FORWARD_DEFAULT)


class Layer:
    """The host-endpoint policy layer that decided (the values of :attr:`Decision.layer`);
    workload endpoints have a single layer and leave it ``None``."""

    UNTRACKED = "untracked"  #: doNotTrack policies, before connection tracking
    PRE_DNAT = "preDNAT"  #: preDNAT policies, ingress only, before DNAT
    NORMAL = "normal"  #: the other policies, then the host endpoint's profiles
    ALL = (UNTRACKED, PRE_DNAT, NORMAL)


@attrs.frozen
class RuleRef:
    """One rule: in a policy (``policy`` set) or in a profile (``profile`` set)."""

    direction: Direction
    tier: str | None
    policy: PolicyRef | None
    profile: str | None
    rule: int

    def __str__(self) -> str:
        owner = str(self.policy) if self.policy else f"Profile {self.profile}"
        tier = f"tier {self.tier}, " if self.tier else ""
        return f"{self.direction} {tier}{owner} rule {self.rule}"


@attrs.frozen
class Decision:
    """One side's decision (egress for the source, ingress for the destination).

    ``reason`` is one of :class:`Reason`; ``tier``/``policy``/``rule`` name the deciding
    rule (``RULE``) or the tier that ended (``END_OF_TIER``); ``profile``/``rule`` the
    profile rule (``PROFILE``). ``endpoint`` names the policed endpoint; ``layer`` is the
    host-endpoint layer that decided (one of :class:`Layer`, ``None`` for workloads).
    """

    direction: Direction
    action: Action
    reason: str
    tier: str | None = None
    policy: PolicyRef | None = None
    rule: int | None = None
    profile: str | None = None
    endpoint: str | None = None
    layer: str | None = None

    @property
    def why(self) -> str:
        """What decided, in words: ``tier default, KubernetesNetworkPolicy x/a rule 0``."""
        if self.reason == Reason.RULE:
            why = f"tier {self.tier}, {self.policy} rule {self.rule}"
        elif self.reason == Reason.END_OF_TIER:
            why = f"end of tier {self.tier}"
        elif self.reason == Reason.PROFILE:
            why = f"profile {self.profile} rule {self.rule}"
        elif self.reason == Reason.NO_PROFILE_MATCH:
            why = "no policy or profile rule matched"
        else:
            why = self.reason
        if self.layer is not None and self.layer != Layer.NORMAL:
            why += f" ({self.layer} layer)"
        return why

    def __str__(self) -> str:
        return f"{self.direction} {self.action}: {self.why}"


@attrs.frozen
class Step:
    """One line of the trace: an event (``flow``, ``endpoint``, ``direction``, ``tier``,
    ``policy``, ``rule``, ``pass``, ``default``, ``profile``, ``layer``, ``failsafe``,
    ``decision``, ``verdict``, ``logged``, ``pending``, ...) with its details."""

    event: str
    text: str
    depth: int = 0


@attrs.frozen
class Verdict:
    """The verdict on a flow. ``action`` is always ALLOW or DENY.

    ``pending`` is the verdict Calico would report with staged policies evaluated in
    place (None when no staged policy applied to either side).

    Two verdicts are equal when their flow, action, decisions, Log rules and pending
    verdict are equal; the trace is not compared. A verdict may carry its trace
    (``trace``) or, to stay cheap, a way to recompute it on demand: :meth:`explain`
    and :meth:`steps` then re-run the reference evaluation of ``flow``.
    """

    flow: Flow
    action: Action
    egress: Decision | None
    ingress: Decision | None
    logged: tuple[RuleRef, ...] = ()
    pending: Optional["Verdict"] = None
    trace: tuple[Step, ...] = attrs.field(default=(), eq=False, repr=False)
    _replay: Optional[Callable[[], tuple[Step, ...]]] = attrs.field(default=None, eq=False, repr=False)
    _source: Any = attrs.field(default=None, eq=False, repr=False)  # a policy set: explain() re-runs its reference

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW

    @property
    def depends_on_synthetic_address(self) -> bool:
        """True when a test decided by a synthetic address led to this verdict: a
        ``nets``/``notNets`` (ipBlock, networks) test, or a selector matched through a
        network set, on the address an endpoint without one in the manifests was given
        (see ``PolicySet.address_pool``). With the address the pod has in a cluster the
        verdict may differ; :meth:`explain` names the tests. Computed from the trace."""
        return any(step.event == "synthetic" for step in self.steps())

    def steps(self) -> tuple[Step, ...]:
        """The trace: what :meth:`explain` prints, one :class:`Step` per line."""
        if self.trace:
            return self.trace
        if self._source is not None and _explain is not None:
            return tuple(_explain(self._source, self.flow))
        if self._replay is not None:
            return self._replay()
        return self.trace

    def explain(self) -> str:
        """Every tier, policy and rule that decided, as text for a person."""
        steps = self.steps()
        lines = [f"{'  ' * step.depth}{step.text}" for step in steps]
        if not any(step.event == "verdict" for step in steps):  # a trace that does not conclude
            lines.append(f"verdict: {self.action}")
            lines.extend(f"logged: {ref}" for ref in self.logged)
            if self.pending is not None:
                lines.append(f"pending verdict: {self.pending.action}")
        return "\n".join(lines)


@attrs.frozen
class Verdicts:
    """The verdicts on a flow whose sides stand for several endpoints: a workload's Pods,
    or a Service's backends (the flow after DNAT to each, at its target port).

    ``src`` and ``dst`` name the sides as output does; ``verdicts`` holds one
    :class:`Verdict` per pair of endpoints; ``notes`` says what was left out (a backend
    without the target port, a selected workload that runs no pod). ``summary`` is
    ``"all"``, ``"some"`` or ``"none"`` of the flows allowed; ``allowed`` is True only
    when there is at least one flow and every one is allowed.
    """

    flow: Flow
    src: str
    dst: str
    verdicts: tuple[Verdict, ...]
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Verdict]:
        return iter(self.verdicts)

    def __len__(self) -> int:
        return len(self.verdicts)

    @property
    def allowed(self) -> bool:
        return bool(self.verdicts) and all(verdict.allowed for verdict in self.verdicts)

    @property
    def summary(self) -> str:
        count = sum(verdict.allowed for verdict in self.verdicts)
        return "all" if count and count == len(self.verdicts) else "some" if count else "none"

    @property
    def depends_on_synthetic_address(self) -> bool:
        """Whether any of the verdicts does (see :attr:`Verdict.depends_on_synthetic_address`)."""
        return any(verdict.depends_on_synthetic_address for verdict in self.verdicts)

    def describe(self) -> str:
        """One line: how many of the flows are allowed."""
        count, total = sum(verdict.allowed for verdict in self.verdicts), len(self.verdicts)
        flows = f"{total} flow{'s' if total != 1 else ''}"
        return f"{self.summary}: {count} of {flows} from {self.src} to {self.dst} allowed"

    def explain(self) -> str:
        """Each flow's trace under a header, then the summary."""
        parts = []
        for index, verdict in enumerate(self.verdicts, 1):
            parts.append(f"--- flow {index} of {len(self.verdicts)} ---\n{verdict.explain()}")
        parts.extend(f"note: {note}" for note in self.notes)
        parts.append(self.describe())
        return "\n".join(parts)


class _Unfrozen(Verdict):
    """A Verdict under construction: the same layout without the frozen ``__setattr__``
    (attrs' frozen ``__init__`` sets each slot through ``object.__setattr__``, which
    costs more than deciding the flow). :func:`_quick_verdict` fills one and turns it
    into a plain :class:`Verdict`; none ever escapes."""

    __slots__ = ()
    __setattr__ = object.__setattr__
    __delattr__ = object.__delattr__  # shares the type slot: both plain keep stores fast


_new = object.__new__


def _quick_verdict(
    flow: Flow, action: Action, egress: Decision | None, ingress: Decision | None,
    logged: tuple[RuleRef, ...], source: Any,
) -> Verdict:
    """``Verdict(flow, action, egress, ingress, logged, source=source)``, built faster:
    equal, hashing, pickling and explaining the same (no pending verdict, no stored trace)."""
    v: Any = _new(_Unfrozen)
    v.flow = flow
    v.action = action
    v.egress = egress
    v.ingress = ingress
    v.logged = logged
    v.pending = None
    v.trace = ()
    v._replay = None
    v._source = source
    v.__class__ = Verdict
    return v  # type: ignore[no-any-return]
