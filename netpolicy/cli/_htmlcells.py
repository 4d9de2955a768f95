"""Every pod pair's answer for the HTML matrix, worked out once per pair of endpoint
classes.

Pods the compiled tables decide alike (equal signatures, see
:mod:`netpolicy.analysis.places`) get the same answer from every other pod, so one
representative flow per pair of classes gives the verdict and the deciding rules of
every pod pair between them (two pods of one class: a flow between two of its members;
a pod to itself: allowed without evaluation). Each class pair also gets its open ports
over every protocol, as ``connections`` reads them. Without a port, a class pair is
allowed when some port of the protocol is, and names the rules of each allowed range.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..analysis.connections import grants_of, summary_text
from ..analysis.keyspace import ICMP, PORTED, ports_text, protocol_text
from ..analysis.reach import Reach
from ..flow import Flow
from ..model import Endpoint
from ..policyset import PolicySet
from ._batch import decide_many
from ._verdict import decision_text

__all__ = ["SAME", "Cells", "cells"]

SAME = "same endpoint: allowed without evaluation"
_NO_PAIR = "no two pods of this kind"


class Cells:
    """The answers of every pod pair: ``cls[p]`` is pod ``p``'s class; per pair of classes
    ``allowed[c, d]`` and ``why[c, d]`` = indexes into ``texts`` of (egress, ingress,
    open ports). Without a port, the egress text lists each allowed range with both
    sides' rules and the ingress text is empty."""

    def __init__(self, pods: Sequence[Endpoint], cls: list[int], allowed: np.ndarray, why: np.ndarray, texts: list[str]) -> None:
        self.pods = list(pods)
        self.cls = cls
        self.allowed = allowed
        self.why = why
        self.texts = texts

    def pod_allowed(self) -> np.ndarray:
        """``[i, j]``: whether pod ``i`` reaches pod ``j``."""
        index = np.asarray(self.cls, np.int64)
        found: np.ndarray = self.allowed[index][:, index].copy()
        np.fill_diagonal(found, True)
        return found

    def pair(self, i: int, j: int) -> tuple[bool, int, int, int]:
        """Pod ``i`` to pod ``j``: (allowed, egress, ingress, open ports) text indexes."""
        if i == j:
            same = self.texts.index(SAME)
            return True, same, same, self.texts.index(_ALL)
        c, d = self.cls[i], self.cls[j]
        e, g, p = (int(x) for x in self.why[c, d])
        return bool(self.allowed[c, d]), e, g, p


_ALL = "open: all traffic"


def cells(
    policy_set: PolicySet, pods: Sequence[Endpoint], protocol: int, port: int | None,
    progress: Callable[[int], None] | None = None,
) -> Cells:
    """The answers of every pair of ``pods`` for ``protocol`` and ``port`` (None: any)."""
    reach = Reach(policy_set)
    classes: dict[object, int] = {}
    cls = [classes.setdefault(reach.place(pod).signature, len(classes)) for pod in pods]
    members: list[list[int]] = [[] for _ in classes]
    for p, c in enumerate(cls):
        members[c].append(p)
    k = len(members)
    texts: list[str] = [SAME, _ALL, _NO_PAIR]
    index = {text: n for n, text in enumerate(texts)}

    def text(value: str) -> int:
        found = index.get(value)
        if found is None:
            found = index[value] = len(texts)
            texts.append(value)
        return found

    pairs: list[tuple[int, int, Endpoint, Endpoint]] = []
    for c in range(k):
        for d in range(k):
            if c == d and len(members[c]) < 2:
                continue  # the pod of a class of one reaches only itself there
            a = pods[members[c][0]]
            b = pods[members[d][1] if c == d else members[d][0]]
            pairs.append((c, d, a, b))
    allowed = np.zeros((k, k), np.bool_)
    why = np.full((k, k, 3), text(_NO_PAIR), np.int32)
    opened: dict[int, tuple[object, int]] = {}
    for c, d, a, b in pairs:
        grants = reach.between(a, b)
        known = opened.get(id(grants))
        if known is None:
            families = (reach.place(a).families or frozenset({4, 6})) & (reach.place(b).families or frozenset({4, 6}))
            known = opened[id(grants)] = (grants, text("open: " + summary_text((g.ports for g in grants_of(grants)), families)))
        why[c, d, 2] = known[1]
    if port is None:
        for c, d, a, b in pairs:
            found = [g for g in grants_of(reach.between(a, b)) if g.ports.protocol == protocol]
            allowed[c, d] = bool(found)
            lines = [f"{ports_text(g.ports)}: egress {decision_text(g.egress)}; ingress {decision_text(g.ingress)}" for g in found]
            nothing = f"no {protocol_text(protocol)} {'type' if protocol in ICMP else 'port' if protocol in PORTED else 'packet'} is allowed"
            why[c, d, 0] = text("\n".join(lines) if lines else nothing)
            why[c, d, 1] = text("")
    else:
        flows = [Flow(src=a.key, dst=b.key, protocol=protocol, dst_port=port) for _, _, a, b in pairs]
        for (c, d, _, _), outcome in zip(pairs, decide_many(policy_set, flows)):
            allowed[c, d] = outcome.allowed
            why[c, d, 0] = text(decision_text(outcome.egress))
            why[c, d, 1] = text(decision_text(outcome.ingress))
    if progress is not None:
        progress(len(pods) ** 2)
    return Cells(pods, cls, allowed, why, texts)
