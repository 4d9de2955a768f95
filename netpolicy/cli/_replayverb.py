"""``netpolicy replay``: decide recorded flows against one policy set (``-f``), or find
those whose verdict changes between two (``--base`` and ``--head``)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from . import _flowlogs, _replay, _replaydiff, _replaystream
from ._common import EXIT_CHECK_FAILED, echo, filename_option, load_policy_set, strict_option
from ._diff import load_side
from ._formats import output_option
from ._terminal import progress

__all__ = ["replay"]


@click.command()
@filename_option(required=False)
@click.option("--base", multiple=True, metavar="PATH",
              help="With --head, instead of -f: the policies before (what -f takes, or git:REV:PATH). Repeatable.")
@click.option("--head", multiple=True, metavar="PATH",
              help="With --base: the policies after (what -f takes, or git:REV:PATH). Repeatable.")
@click.option(
    "--flows",
    "flows_file",
    required=True,
    type=click.File("rb"),
    help="Recorded flows: CSV or JSON lines with src,dst,protocol,dst_port (Parquet with pyarrow), or a Calico "
    "flow log (--input-format); '-' is stdin.",
)
@click.option(
    "--input-format",
    type=click.Choice(_replay.INPUT_FORMATS + _flowlogs.CALICO_FORMATS),
    default="auto",
    show_default=True,
    help="csv, jsonl, parquet: the columns src,dst,protocol,dst_port; goldmane, whisker, enterprise: Calico's flow "
    "logs, each record also checked against what was logged.",
)
@output_option(_replay.OUTPUTS, None, "Default csv; with --base/--head, table (csv, jsonl, json and yaml list the "
               "changed flows).")
@click.option(
    "--decisions/--no-decisions",
    default=True,
    show_default=True,
    help="Name what decided each flow (slower); --no-decisions gives only the verdicts.",
)
@click.option("--summary", "summary_file", type=click.File("w"), help="Also write the summary as JSON to this file.")
@click.option("--summary-format", type=click.Choice(_flowlogs.SUMMARY_FORMATS), default="table", show_default=True,
              help="The summary on stderr as a table or as JSON.")
@click.option("--on-error", type=click.Choice(_flowlogs.ON_ERROR), default="fail", show_default=True,
              help="A malformed record: fail, writing nothing, or skip it with a warning.")
@click.option("--batch-size", type=click.IntRange(min=1), default=65536, show_default=True,
              help="Records of a Calico log read and decided at a time: memory is bounded by it.")
@click.option("--dask", "dask_address", metavar="SCHEDULER|local[:N]",
              help="Decide a Parquet or CSV file's partitions on a Dask cluster: a scheduler's address, or local:N "
              "for N local worker processes (pip install 'netpolicy[dask]').")
@click.option("--exit-code", is_flag=True, help="Exit 1 when any flow is denied or (Calico's logs) disagrees with the "
              "log; with --base/--head, when any flow's verdict changes.")
@strict_option()
def replay(
    filenames: tuple[str, ...],
    base: tuple[str, ...],
    head: tuple[str, ...],
    flows_file: Any,
    input_format: str,
    output: str | None,
    decisions: bool,
    summary_file: Any,
    summary_format: str,
    on_error: str,
    batch_size: int,
    dask_address: str | None,
    exit_code: bool,
    strict: bool,
) -> None:
    """Decide every recorded flow: per-record verdicts on stdout, a summary on stderr.

    \b
    A Calico flow log (Goldmane's, the Whisker API's, Calico Enterprise's) is read in batches:
    aggregated names resolve to the workload, records the log leaves open (no address,
    labels shared by only some pods) are marked uncertain, and each record is compared with
    what Calico logged on the reporting side.

    \b
    With --base and --head instead of -f: the recorded flows whose verdict changes between
    the two policy sets, each with the deciding tier, policy and rule of both sides before
    and after.

    \b
    Examples:
      netpolicy replay -f examples/staging --flows examples/flows.csv
      netpolicy replay -f manifests/ --flows flows.ndjson --input-format goldmane --summary-format json
      netpolicy replay -f manifests/ --flows flows.parquet --dask local:2
      netpolicy replay --base git:main:deploy/ --head deploy/ --flows flows.csv --exit-code
    """
    name = getattr(flows_file, "name", "-")
    name = "<stdin>" if name in ("-", "<stdin>") else str(name)
    if base or head:
        _compare(base, head, filenames, flows_file, name, input_format, output or "table", summary_format,
                 summary_file, on_error, dask_address, exit_code, strict)
        return
    if not filenames:
        raise click.UsageError("give the manifests with -f PATH (or two sides with --base and --head)")
    output = output or "csv"
    if name == "<stdin>" and "-" in filenames:
        raise click.UsageError("stdin cannot carry both the manifests (-f -) and the flows (--flows -)")
    if dask_address is not None and (name == "<stdin>" or input_format in _flowlogs.CALICO_FORMATS):
        raise click.UsageError("--dask reads a Parquet or CSV file (--flows PATH), not standard input or a Calico log")
    policy_set = load_policy_set(filenames, strict=strict)
    if dask_address is not None:
        _flowlogs.run_dask(policy_set, name, input_format, dask_address, output=output, summary_format=summary_format,
                           summary_file=summary_file, exit_code=exit_code)
        return
    if input_format in _flowlogs.CALICO_FORMATS:
        _flowlogs.run(policy_set, flows_file, name, input_format, output=output, on_error=on_error,
                      summary_format=summary_format, summary_file=summary_file, exit_code=exit_code,
                      batch_size=batch_size)
        return
    stdout = sys.stdout
    # CSV and Parquet batch by batch where that gives the same output; else record by record
    summary = _replaystream.replay_streaming(policy_set, flows_file, name, input_format, output, decisions, stdout)
    if summary is None:
        recorded = _replay.read_flows(flows_file, name, input_format, on_error,
                                      lambda problem: echo(f"warning: {problem} (skipped)", err=True))
        with progress(len(recorded.flows), "replaying") as advance:
            result = _replay.replay(policy_set, recorded, decisions=decisions, progress=advance)
        _replay.write_records(result, stdout, output)
        summary = result.summary()
    stdout.flush()  # the records before the summary, on a terminal too
    echo(json.dumps(summary, indent=2) if summary_format == "json" else _replay.summary_text(summary), err=True)
    if summary_file is not None:
        summary_file.write(json.dumps(summary, indent=2) + "\n")
    if exit_code and summary["denied"]:
        sys.exit(EXIT_CHECK_FAILED)


def _compare(
    base: tuple[str, ...], head: tuple[str, ...], filenames: tuple[str, ...], flows_file: Any, name: str,
    input_format: str, output: str, summary_format: str, summary_file: Any, on_error: str,
    dask_address: str | None, exit_code: bool, strict: bool,
) -> None:
    """``replay --base --head``: the changed flows on stdout; with csv and jsonl the
    summary on stderr."""
    if filenames:
        raise click.UsageError("-f and --base/--head exclude each other: compare two sides with --base and --head")
    if not base or not head:
        raise click.UsageError("give both --base and --head")
    if dask_address is not None or input_format in _flowlogs.CALICO_FORMATS:
        raise click.UsageError("--base/--head replay flows of the columns src,dst,protocol,dst_port (csv, jsonl, "
                               "parquet), not a Calico log or on --dask")
    if name == "<stdin>" and "-" in base + head:
        raise click.UsageError("stdin cannot carry both manifests (-) and the flows (--flows -)")
    before = load_side("base", base, strict)
    after = load_side("head", head, strict)
    recorded = _replay.read_flows(flows_file, name, input_format, on_error,
                                  lambda problem: echo(f"warning: {problem} (skipped)", err=True))
    with progress(2 * len(recorded.flows), "replaying") as advance:
        result = _replaydiff.compare(before, after, recorded, progress=advance)
    _replaydiff.render(result, sys.stdout, output)
    sys.stdout.flush()
    summary = result.summary()
    if output in ("csv", "jsonl"):
        echo(json.dumps(summary, indent=2) if summary_format == "json" else _replaydiff.summary_text(summary), err=True)
    if summary_file is not None:
        summary_file.write(json.dumps(summary, indent=2) + "\n")
    if exit_code and result.changed:
        sys.exit(EXIT_CHECK_FAILED)
