"""``netpolicy replay`` of Calico's flow logs (and of any log on a Dask cluster): results
per record on stdout, written only once every record was read (a temporary file holds
them meanwhile), the summary on stderr, a progress bar there when it is a terminal."""

from __future__ import annotations

import json
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
from ._formats import write_records

__all__ = ["CALICO_FORMATS", "ON_ERROR", "SUMMARY_FORMATS", "run", "run_dask"]

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
                summary = replay(policy_set, flows, input_format, name=name, out=spool, output_format=_streamed(output),
                                 batch_size=batch_size, on_error=on_error, skipped=_skipped, progress=progress)
            except RecordErrors as exc:
                raise InvalidInput([str(error) for error in exc.errors] +
                                   ([f"and {exc.more} more malformed records"] if exc.more else [])) from None
            except PolicyError as exc:
                raise InvalidInput.from_error(exc) from exc
        _emit(spool, output, json.loads(summary.json()))
    sys.stdout.flush()
    show_summary(summary, summary_format, summary_file)
    if exit_code and (summary.disagree or summary.verdicts.get("Deny")):
        sys.exit(EXIT_CHECK_FAILED)


def _streamed(output: str) -> str:
    """The format the records are spooled in: csv or jsonl as asked, else jsonl."""
    return output if output in ("csv", "jsonl") else "jsonl"


def _emit(spool: IO[str], output: str, summary: dict[str, Any]) -> None:
    """The spooled records to stdout: as they are (csv, jsonl), or read back from JSON
    lines as a table, or one JSON or YAML document ``{"records": [...], "summary": ...}``."""
    spool.seek(0)
    if output in ("csv", "jsonl"):
        shutil.copyfileobj(spool, sys.stdout)
        return
    first = spool.readline()
    head = list(json.loads(first)) if first.strip() else []

    def records() -> Iterator[dict[str, Any]]:
        spool.seek(0)
        return (json.loads(line) for line in spool if line.strip())

    write_records(records, sys.stdout, output, head, extra={"summary": summary} if output != "table" else None)


def _dask_frame(path: str, input_format: str) -> Any:
    import dask.dataframe as dd

    fmt = input_format
    if fmt == "auto":
        fmt = "parquet" if path.lower().endswith((".parquet", ".pq")) or os.path.isdir(path) else "csv"
    if fmt == "parquet":
        return dd.read_parquet(path)
    if fmt == "csv":
        return dd.read_csv(path, dtype={"src": "object", "dst": "object", "protocol": "object"})
    raise click.UsageError("--dask reads Parquet or CSV files of the columns src,dst,protocol,dst_port")


def run_dask(
    policy_set: PolicySet, path: str, input_format: str, address: str, *, output: str, summary_format: str,
    summary_file: IO[str] | None, exit_code: bool,
) -> None:
    """Replays a Parquet or CSV file on a Dask cluster (``local[:N]`` or a scheduler's
    address): partitions decided in parallel, written in order once all are."""
    try:
        from .. import dask as on_dask

        client = on_dask.client_for(address)
    except ImportError as exc:
        raise click.UsageError(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise click.UsageError(f"--dask {address}: {exc}") from None
    counts: dict[str, Any] = {"records": 0, "verdicts": {}, "by_decision": {}, "uncertain": 0, "not_decided": 0}
    try:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline="") as spool:
            verdicts = on_dask.replay(_dask_frame(path, input_format), policy_set, client=client)
            futures = client.compute(verdicts.to_delayed())
            for k, future in enumerate(futures):
                frame = future.result()
                future.release()
                if _streamed(output) == "jsonl":
                    spool.write(frame.to_json(orient="records", lines=True))
                    if len(frame):
                        spool.write("\n")
                else:
                    spool.write(frame.to_csv(index=False, header=k == 0, lineterminator="\n"))
                _count(counts, frame)
            _emit(spool, output, counts)
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc
    except RecordErrors as exc:
        raise InvalidInput([str(error) for error in exc.errors]) from None
    finally:
        client.close()
    sys.stdout.flush()
    text = json.dumps(counts, indent=2)
    echo(text if summary_format == "json" else _counts_table(counts), err=True)
    if summary_file is not None:
        summary_file.write(text + "\n")
    if exit_code and counts["verdicts"].get("Deny"):
        sys.exit(EXIT_CHECK_FAILED)


def _count(counts: dict[str, Any], frame: Any) -> None:
    counts["records"] += len(frame)
    for (verdict, label), n in frame.groupby(["verdict", "decided_by"], dropna=False).size().items():
        verdict = verdict if isinstance(verdict, str) else "not decided"
        counts["verdicts"][verdict] = counts["verdicts"].get(verdict, 0) + int(n)
        mine = counts["by_decision"].setdefault(verdict, {})
        mine[str(label)] = mine.get(str(label), 0) + int(n)
    counts["uncertain"] += int((frame["certainty"] == "uncertain").sum())
    counts["not_decided"] += int((frame["certainty"] == "unknown").sum())


def _counts_table(counts: dict[str, Any]) -> str:
    lines = [f"{counts['records']} flows: " + ", ".join(f"{n} {v.lower()}" for v, n in sorted(counts["verdicts"].items())),
             f"uncertain: {counts['uncertain']}, not decided: {counts['not_decided']}"]
    for verdict, labels in sorted(counts["by_decision"].items()):
        lines.append(f"{verdict}:")
        lines.extend(f"  {n:>10}  {label}" for label, n in sorted(labels.items(), key=lambda item: -item[1]))
    return "\n".join(lines)
