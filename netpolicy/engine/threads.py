"""A batch across threads: how many workers were asked for (the ``workers`` argument,
else the environment variable ``NETPOLICY_THREADS``, else 1) and the run of one loop
over contiguous spans of flows, one span per thread. The matcher's loops release the
GIL, so the spans are decided at once on as many cores; each flow is decided by the
same code whatever the span it falls in, so the results do not depend on the count."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import numpy as np

__all__ = ["ENV", "MIN_SPAN", "Workers", "spans", "run_spans", "workers_from"]

#: the environment variable giving the default number of workers
ENV = "NETPOLICY_THREADS"

#: the fewest flows worth a thread of their own (fewer cost more to hand over than to decide)
MIN_SPAN = 1 << 16

#: what ``workers=`` takes: a number of threads, "auto" (one per core) or None (the default)
Workers = int | str | None

_T = TypeVar("_T")
_RULE = "a whole number of threads, 1 or more, or 'auto' (one per core)"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_from(workers: Workers = None) -> int:
    """The number of threads ``workers`` asks for; None: ``NETPOLICY_THREADS``, else 1.
    TypeError or ValueError, naming what was given, for anything else."""
    if workers is None:
        raw = os.environ.get(ENV, "")
        if not raw.strip():
            return 1
        text = raw.strip()
        if text.lower() == "auto":
            return _cores()
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"environment variable {ENV}={raw!r} is not {_RULE}") from None
        if value < 1:
            raise ValueError(f"environment variable {ENV}={raw!r} is not {_RULE}")
        return value
    if isinstance(workers, str):
        if workers.strip().lower() == "auto":
            return _cores()
        raise ValueError(f"workers={workers!r} is not {_RULE}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)):
        raise TypeError(f"workers must be {_RULE}, not {type(workers).__name__} {workers!r}")
    if workers < 1:
        raise ValueError(f"workers={int(workers)} is not {_RULE}")
    return int(workers)


def spans(n: int, workers: int) -> list[tuple[int, int]]:
    """``[0, n)`` cut into at most ``workers`` contiguous spans of about equal length,
    none shorter than :data:`MIN_SPAN` unless there is only one."""
    parts = max(1, min(workers, n // max(1, MIN_SPAN)))
    bounds = [n * k // parts for k in range(parts + 1)]
    return list(zip(bounds, bounds[1:]))


def run_spans(n: int, workers: int, loop: Callable[[int, int], _T]) -> list[_T]:
    """``loop(start, stop)`` over each span of :func:`spans`, the first on the calling
    thread and the others on threads of their own; the results in span order. An
    exception in any span is raised here once every span has finished."""
    cut = spans(n, workers)
    if len(cut) == 1:
        return [loop(*cut[0])]
    with ThreadPoolExecutor(max_workers=len(cut) - 1, thread_name_prefix="netpolicy") as pool:
        futures = [pool.submit(loop, start, stop) for start, stop in cut[1:]]
        try:
            first = loop(*cut[0])
        finally:
            rest = [future.exception() for future in futures]  # waits for each
    for error in rest:
        if error is not None:
            raise error
    return [first] + [future.result() for future in futures]
