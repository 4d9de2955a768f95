"""``netpolicy replay`` of Calico's flow logs (and of any log on a Dask cluster): results
per record on stdout, written only once every record was read (a temporary file holds
them meanwhile), the summary on stderr, a progress bar there when it is a terminal."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterator

import click

from ..errors import PolicyError
from ..flowlogs import RecordError, RecordErrors, Summary, replay
from ..policyset import PolicySet
from ._common import EXIT_CHECK_FAILED, InvalidInput, echo

__all__ = ["CALICO_FORMATS", "ON_ERROR", "SUMMARY_FORMATS", "run"]

CALICO_FORMATS = ("goldmane", "whisker", "enterprise")
ON_ERROR = ("fail", "skip")
SUMMARY_FORMATS = ("table", "json")
#: Results are kept in memory up to this size, then in a temporary file.
SPOOL_BYTES = 32 << 20


def _size(stream: Any) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size or None
    except (AttributeError, OSError, ValueError):
        return None


@contextmanager
def _progress(stream: Any, label: str) -> Iterator[Callable[[int], None] | None]:
    """A bar over the input's bytes, on stderr when it is a terminal."""
    total = _size(stream)
    if total is None or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        done = [0]

        def advance(_records: int) -> None:
            try:
                position = stream.tell()
            except (OSError, ValueError):
                return
            bar.update(max(0, position - done[0]))
            done[0] = max(done[0], position)

        yield advance


def _skipped(error: RecordError) -> None:
    echo(f"warning: {error} (skipped)", err=True)


def show_summary(summary: Summary, summary_format: str, summary_file: IO[str] | None) -> None:
    echo(summary.json() if summary_format == "json" else summary.table(), err=True)
    if summary_file is not None:
        summary_file.write(summary.json() + "\n")


def run(
    policy_set: PolicySet, flows: Any, name: str, input_format: str, *, output: str, on_error: str,
    summary_format: str, summary_file: IO[str] | None, exit_code: bool, batch_size: int,
) -> None:
    """Replays a Calico flow log read from ``flows`` (binary) and exits as the verb does."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline="") as spool:
        with _progress(flows, "replaying") as progress:
            try:
                summary = replay(policy_set, flows, input_format, name=name, out=spool, output_format=output,
                                 batch_size=batch_size, on_error=on_error, skipped=_skipped, progress=progress)
            except RecordErrors as exc:
                raise InvalidInput([str(error) for error in exc.errors] +
                                   ([f"and {exc.more} more malformed records"] if exc.more else [])) from None
            except PolicyError as exc:
                raise InvalidInput.from_error(exc) from exc
        spool.seek(0)
        shutil.copyfileobj(spool, sys.stdout)
    sys.stdout.flush()
    show_summary(summary, summary_format, summary_file)
    if exit_code and (summary.disagree or summary.verdicts.get("Deny")):
        sys.exit(EXIT_CHECK_FAILED)
