"""The ``netpolicy`` command: kubectl-style verbs over policy manifests.

Exit codes: 0 success, 1 a check failed (``--exit-code``), 2 usage, 3 invalid input.
Machine formats go to stdout alone; diagnostics and progress go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import click

from ..errors import PolicyError
from ..flow import Flow
from ..model import Action
from ..policyset import PolicySet
from ..verdict import Verdict
from . import _flowlogs, _html, _matrix, _replay
from ._about import COMPLETE_VAR, completion, version, version_option
from ._connections import connections
from ._diff import diff
from ._common import (
    EXIT_CHECK_FAILED,
    InvalidInput,
    all_namespaces_option,
    build_flow,
    check_protocol_port,
    dump,
    echo,
    filename_option,
    flow_options,
    load_policy_set,
    namespace_option,
    protocol_option,
    single_namespace,
    strict_option,
    style,
)
from ._environment import matcher_warning
from ._sides import decide, qualify, result_data, result_explain, result_table
from ._verdict import action_text, verdict_data, verdict_table

__all__ = ["cli", "main"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@version_option()
def cli() -> None:
    """Decide whether network flows are allowed by Kubernetes and Calico policies.

    Give manifests with -f (files, directories or '-' for stdin): policies, tiers, network
    sets, and the namespaces and pods they act on.

    \b
    Exit codes: 0 success, 1 a check failed (--exit-code), 2 usage, 3 invalid input.
    """


cli.add_command(version)
cli.add_command(completion)
cli.add_command(connections)
cli.add_command(diff)


#: Jobs smaller than this (flows) show no progress bar.
PROGRESS_MIN = 2000


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when stderr is a terminal (and the job is large)."""
    if total < PROGRESS_MIN or not _stderr_is_terminal():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _evaluating(policy_set: PolicySet, flow: Flow) -> Verdict:
    try:
        return policy_set.evaluate(flow)
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc


# -- validate -------------------------------------------------------------------------------


@cli.command()
@filename_option()
@strict_option()
def validate(filenames: tuple[str, ...], strict: bool) -> None:
    """Check that every document is valid.

    Exit 0 when it is; otherwise exit 3 with one 'file:line:col: message' line per problem
    on stderr.
    """
    policy_set = load_policy_set(filenames, strict=strict)
    counts = [
        (len(policy_set.tiers), "tier", "tiers"),
        (len(policy_set.policies), "policy", "policies"),
        (len(policy_set.staged_policies), "staged policy", "staged policies"),
        (len(policy_set.endpoints), "endpoint", "endpoints"),
        (len(policy_set.network_sets), "network set", "network sets"),
    ]
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts]
    echo(f"{style('valid', fg='green')}: {', '.join(parts)}")


# -- evaluate / explain ---------------------------------------------------------------------


@cli.command()
@filename_option()
@namespace_option("Namespace of pods given by bare name (default: 'default') and of KIND/NAME sides.")
@flow_options
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the flow is denied (to a Service: unless every backend allows).")
@strict_option()
def evaluate(
    filenames: tuple[str, ...],
    namespaces: tuple[str, ...],
    output: str,
    exit_code: bool,
    strict: bool,
    **flow: Any,
) -> None:
    """The verdict on one flow: Allow or Deny, each side's decision, the Log rules that fired.

    \b
    Example:
      netpolicy evaluate -f examples/staging -n staging --src front-end --dst back-end --port 443
      netpolicy evaluate -f examples/shop -n shop --src deploy/frontend --dst sts/db --port 5432

    A Service (--dst svc/NAME) is the flow after DNAT to each backend, at its target port;
    the answer lists each and sums up (allowed to all, some or none; --exit-code fails
    unless all).
    """
    flow_value = build_flow(namespace=single_namespace(namespaces), **_named(flow, namespaces))
    policy_set = load_policy_set(filenames, strict=strict)
    result = decide(policy_set, flow_value)
    if output == "table":
        echo(result_table(result))
    else:
        echo(dump(result_data(result), output))
    if exit_code and not result.allowed:
        sys.exit(EXIT_CHECK_FAILED)


def _named(flow: dict[str, Any], namespaces: tuple[str, ...]) -> dict[str, Any]:
    """The flow options with KIND/NAME sides put in the -n namespace."""
    return {**flow, "src": qualify(flow["src"], namespaces), "dst": qualify(flow["dst"], namespaces)}


@cli.command()
@filename_option()
@namespace_option("Namespace of pods given by bare name (default: 'default') and of KIND/NAME sides.")
@flow_options
@click.option("--exit-code", is_flag=True, help="Exit 1 when the flow is denied (to a Service: unless every backend allows).")
@strict_option()
def explain(filenames: tuple[str, ...], namespaces: tuple[str, ...], exit_code: bool, strict: bool, **flow: Any) -> None:
    """The readable trace of one flow: every tier, policy and rule that decided.

    \b
    Example:
      netpolicy explain -f examples/staging -n staging --src front-end --dst database --port 27017
      netpolicy explain -f examples/shop -n shop --src deploy/frontend --dst svc/db --port 5432
    """
    flow_value = build_flow(namespace=single_namespace(namespaces), **_named(flow, namespaces))
    policy_set = load_policy_set(filenames, strict=strict)
    result = decide(policy_set, flow_value)
    echo(result_explain(result))
    if exit_code and not result.allowed:
        sys.exit(EXIT_CHECK_FAILED)


# -- matrix ---------------------------------------------------------------------------------


@cli.command()
@filename_option()
@namespace_option("Only pods in this namespace (repeatable; default: every namespace).")
@all_namespaces_option()
@protocol_option()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Destination port. Without it, each cell says on which ports (ICMP types and codes) the pair may connect.",
)
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml", "csv", "html"]), default="table", show_default=True)
@click.option(
    "--html-budget",
    type=click.FloatRange(min=0),
    default=_html.DEFAULT_BUDGET_MB,
    show_default=True,
    metavar="MB",
    help="Largest HTML page in MB: above it rows and columns are workloads, then namespaces, instead of pods; 0 for no limit.",
)
@strict_option()
def matrix(
    filenames: tuple[str, ...],
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    protocol: int,
    port: int | None,
    output: str,
    html_budget: float,
    strict: bool,
) -> None:
    """Which pods reach which, for one protocol and port (or on which ports).

    JSON (and YAML) is a list of {"src", "dst", "protocol", "port", "allowed"} records, with
    "ports" (the allowed ranges) when no --port is given; CSV the same columns; HTML one
    self-contained page with a heatmap (hover a cell for the deciding policy and rule of each
    side), one row per pod unless that page would exceed
    --html-budget: then one row per workload, or per namespace, as the page and stderr say.

    \b
    Example:
      netpolicy matrix -f examples/staging -n staging --port 443 -o html > matrix.html
    """
    if all_namespaces and namespaces:
        raise click.UsageError("-A/--all-namespaces and -n/--namespace exclude each other")
    check_protocol_port(protocol, port)
    policy_set = load_policy_set(filenames, strict=strict)
    pods = _matrix.select_endpoints(policy_set, namespaces)
    if not pods:
        echo("warning: no pods" + (f" in namespace {', '.join(namespaces)}" if namespaces else ""), err=True)
    with _progress(len(pods) ** 2, "evaluating") as progress:
        try:
            if output == "html":
                page = _html.page(policy_set, pods, protocol, port, budget=int(html_budget * 1e6), progress=progress)
            else:
                result = _matrix.compute(policy_set, pods, protocol, port, progress=progress)
        except PolicyError as exc:
            raise InvalidInput.from_error(exc) from exc
    if output == "html":
        if page.note is not None:
            echo(f"warning: {page.note}", err=True)
        echo(page.text, nl=False)
        return
    if output == "table":
        echo(_matrix.render_table(result))
    elif output == "json":
        echo(_matrix.render_json(result))
    elif output == "yaml":
        echo(dump(list(result.records()), "yaml"))
    else:
        echo(_matrix.render_csv(result), nl=False)


# -- replay ---------------------------------------------------------------------------------


@cli.command()
@filename_option()
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
@click.option("-o", "--output", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
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
@click.option("--exit-code", is_flag=True, help="Exit 1 when any flow is denied or (Calico's logs) disagrees with the log.")
@strict_option()
def replay(
    filenames: tuple[str, ...],
    flows_file: Any,
    input_format: str,
    output: str,
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
    Examples:
      netpolicy replay -f examples/staging --flows examples/flows.csv
      netpolicy replay -f manifests/ --flows flows.ndjson --input-format goldmane --summary-format json
      netpolicy replay -f manifests/ --flows flows.parquet --dask local:2
    """
    name = getattr(flows_file, "name", "-")
    name = "<stdin>" if name in ("-", "<stdin>") else str(name)
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
    recorded = _replay.read_flows(flows_file, name, input_format, on_error,
                                  lambda problem: echo(f"warning: {problem} (skipped)", err=True))
    with _progress(len(recorded.flows), "replaying") as progress:
        result = _replay.replay(policy_set, recorded, decisions=decisions, progress=progress)
    stdout = sys.stdout
    _replay.write_records(result, stdout, output)
    stdout.flush()  # the records before the summary, on a terminal too
    summary = result.summary()
    echo(json.dumps(summary, indent=2) if summary_format == "json" else _replay.summary_text(summary), err=True)
    if summary_file is not None:
        summary_file.write(json.dumps(summary, indent=2) + "\n")
    if exit_code and summary["denied"]:
        sys.exit(EXIT_CHECK_FAILED)


# -- selector -------------------------------------------------------------------------------


def _labels(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    labels: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, label = item.partition("=")
            if not sep or not key.strip():
                raise click.BadParameter(f"{item!r} is not key=value", param_hint="'--labels'")
            labels[key.strip()] = label.strip()
    return labels


@cli.command()
@click.argument("expression")
@click.option("--labels", "label_args", multiple=True, metavar="K=V,...", help="Labels to match the selector against.")
@click.option("-o", "--output", type=click.Choice(["text", "json", "yaml"]), default="text", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the labels do not match.")
def selector(expression: str, label_args: tuple[str, ...], output: str, exit_code: bool) -> None:
    """A Calico selector's canonical form, and whether it matches --labels.

    \b
    Example:
      netpolicy selector "app == 'web' && tier in {'b', 'a'}" --labels app=web,tier=a
    """
    from ..selector import Selector

    labels = _labels(label_args)
    try:
        parsed = Selector.parse(expression)
    except PolicyError as exc:
        raise InvalidInput(str(exc).splitlines()) from exc
    matched = parsed.matches(labels) if labels is not None else None
    if output != "text":
        data: dict[str, Any] = {"selector": str(parsed)}
        if labels is not None:
            data["labels"] = labels
            data["matches"] = matched
        echo(dump(data, output))
    else:
        echo(str(parsed))
        if matched is not None:
            echo(style("matches", fg="green") if matched else style("does not match", fg="red"))
    if exit_code and matched is False:
        sys.exit(EXIT_CHECK_FAILED)


def main() -> None:
    """Console entry point (``netpolicy``, ``python -m netpolicy``)."""
    warning = matcher_warning() if COMPLETE_VAR not in os.environ else None
    if warning is not None:
        echo(f"warning: {warning}", err=True)
    cli(prog_name="netpolicy")
