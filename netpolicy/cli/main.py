"""The ``netpolicy`` command: kubectl-style verbs over policy manifests.

Exit codes: 0 success, 1 a check failed (``--exit-code``), 2 usage, 3 invalid input.
Machine formats go to stdout alone; diagnostics and progress go to stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..errors import PolicyError
from . import _html, _matrix, _terminal as terminal
from ._about import COMPLETE_VAR, completion, version, version_option
from ._connections import connections
from ._diff import diff
from ._lint import lint
from ._replayverb import replay
from ._validate import validate
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
from ._formats import cell, key_values, output_option
from ._sides import decide, explain_data, explain_table, qualify, result_data, result_explain, result_table

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
cli.add_command(lint)
cli.add_command(replay)
cli.add_command(validate)


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
@output_option(("text", "table", "json", "yaml"), "text")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the flow is denied (to a Service: unless every backend allows).")
@strict_option()
def explain(
    filenames: tuple[str, ...], namespaces: tuple[str, ...], output: str, exit_code: bool, strict: bool, **flow: Any
) -> None:
    """The readable trace of one flow: every tier, policy and rule that decided.

    -o table lists the trace's steps (EVENT, TRACE); json and yaml are what evaluate -o json
    gives, each verdict with its "trace": [{"event", "depth", "text"}...].

    \b
    Example:
      netpolicy explain -f examples/staging -n staging --src front-end --dst database --port 27017
      netpolicy explain -f examples/shop -n shop --src deploy/frontend --dst svc/db --port 5432
    """
    flow_value = build_flow(namespace=single_namespace(namespaces), **_named(flow, namespaces))
    policy_set = load_policy_set(filenames, strict=strict)
    result = decide(policy_set, flow_value)
    echo(result_explain(result) if output == "text" else explain_table(result) if output == "table"
         else dump(explain_data(result), output))
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
    with terminal.progress(len(pods) ** 2, "evaluating") as progress:
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
@output_option(("text", "table", "json", "yaml"), "text")
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
    data: dict[str, Any] = {"selector": str(parsed)}
    if labels is not None:
        data["labels"] = labels
        data["matches"] = matched
    if output == "table":
        echo(key_values([(key.upper(), cell(value)) for key, value in data.items()]))
    elif output != "text":
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
