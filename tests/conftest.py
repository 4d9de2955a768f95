"""Shared test configuration: Hypothesis profiles, and a counter of the work a call does.

HYPOTHESIS_PROFILE=ci  derandomized, no example database, enough examples to matter (CI).
HYPOTHESIS_PROFILE=dev fast, for local runs (the default).

No test asserts on wall-clock time, which depends on the machine and its load. A bound on
work is asserted by counting: ``count_operations(fn)`` runs ``fn`` and counts the lines of
Python it executes (and the calls it makes), stopping it with :class:`OverBudget` once it
passes ``budget``, so a runaway case fails instead of hanging.
"""

from __future__ import annotations

import os
import sys
from types import FrameType
from typing import Any, Callable, Optional

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Neither profile has a deadline or the too_slow health check: both judge by the clock.
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


class OverBudget(BaseException):
    """Raised inside the counted call once it executed more operations than allowed (a
    BaseException, so the code under test cannot swallow it as an ordinary error)."""


Tracer = Callable[[FrameType, str, Any], Optional["Tracer"]]


def _count_operations(fn: Callable[[], Any], budget: int | None = None) -> tuple[Any, int]:
    """``(fn(), operations)``: the result and the number of Python lines executed plus
    calls made while running ``fn``."""
    count = 0
    limit = budget if budget is not None else sys.maxsize

    def on_line(frame: FrameType, event: str, arg: Any) -> Tracer:
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                raise OverBudget(f"more than {limit} operations")
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Tracer:
        nonlocal count
        count += 1
        return on_line

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        result = fn()
    finally:
        sys.settrace(previous)
    return result, count


@pytest.fixture
def count_operations() -> Callable[..., tuple[Any, int]]:
    """``count_operations(fn, budget=None) -> (result, operations)``."""
    return _count_operations
