"""Deciding flows on the compiled tables: one at a time or many at once.

:class:`Engine` (``core``) holds one PolicySet's tables and matcher; ``columns`` turns
flows in any shape into the matcher's arrays; ``single`` resolves one flow's sides and
builds its Verdict; ``results`` holds what a batch returns, :class:`BatchResult`.
Whatever the tables cannot decide exactly (see the compile stage) is decided by
the reference evaluator, flow by flow.

Here: one engine per PolicySet (:func:`engine_for`), and :func:`evaluate`, which
compiles the tables only once they pay off.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from ..flow import Flow
from ..reference import evaluate as _reference_evaluate
from ..verdict import Verdict
from .columns import COLUMNS
from .columns import _columns as _columns
from .core import Engine
from .results import ACTION_ALLOW, ACTION_DENY, BatchResult

if TYPE_CHECKING:
    from ..resolve import Snapshot as PolicySet

__all__ = ["BatchResult", "Engine", "engine_for", "evaluate", "ACTION_DENY", "ACTION_ALLOW", "COLUMNS"]

_LOCK = threading.Lock()


def engine_for(ps: PolicySet) -> Engine:
    """The PolicySet's engine, compiled on first use and kept on the PolicySet
    (thread-safe); the reference evaluator decides what its tables do not express."""
    engine: Engine | None = ps._engine
    if engine is None:
        with _LOCK:
            engine = ps._engine
            if engine is None:
                engine = Engine(ps, _reference)
                object.__setattr__(ps, "_engine", engine)  # a cache, not a change: ps stays immutable
    return engine


#: ``evaluate`` compiles a PolicySet's tables once it has decided this many flows with
#: the reference evaluator (compiling pays off only over many flows). The environment
#: variable NETPOLICY_COMPILE_AFTER overrides it (1: always use the tables; tests).
COMPILE_AFTER = max(1, int(os.environ.get("NETPOLICY_COMPILE_AFTER", "64") or 64))
_CALLS: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()


def _reference(ps: PolicySet, flow: Flow) -> Verdict:
    return _reference_evaluate(ps, flow)


def evaluate(ps: PolicySet, flow: Flow) -> Verdict:
    """``PolicySet.evaluate``: the tables decide once compiled (by ``evaluate_many``,
    ``matrix`` or after :data:`COMPILE_AFTER` flows); until then, and for whatever the
    tables do not express, the reference evaluator. Both give equal verdicts."""
    engine: Engine | None = ps._engine
    if engine is None:
        calls = _CALLS.get(ps, 0) + 1
        if calls < COMPILE_AFTER:
            _CALLS[ps] = calls
            return _reference_evaluate(ps, flow)
        engine = engine_for(ps)
    return engine.evaluate(flow)
