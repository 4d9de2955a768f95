"""Progress on stderr, shown only when stderr is a terminal and the job is large."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

import click

__all__ = ["PROGRESS_MIN", "stderr_is_terminal", "progress"]

#: Jobs smaller than this (flows) show no progress bar.
PROGRESS_MIN = 2000


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when stderr is a terminal (and the job is large)."""
    if total < PROGRESS_MIN or not stderr_is_terminal():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
