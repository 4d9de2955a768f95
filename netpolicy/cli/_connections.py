"""``netpolicy connections``: which ports are open between whom, and its renderings
(list, table, JSON, YAML, CSV, Markdown, Graphviz dot)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

import click

from ..analysis import Connection, Connections, Grant, Party, connections as find_connections
from ..analysis.keyspace import range_text
from ..errors import PolicyError
from ._common import (
    InvalidInput,
    all_namespaces_option,
    dump,
    echo,
    filename_option,
    load_policy_set,
    namespace_option,
    strict_option,
    style,
)
from ._formats import columns
from ._sides import qualify
from ._verdict import decision_data, decision_text, protocol_text

__all__ = ["FORMATS", "connections", "render", "record", "grant_rows"]

FORMATS = ("list", "table", "json", "yaml", "csv", "markdown", "dot")


@click.command(short_help="Which protocols and ports are open between whom.")
@filename_option()
@namespace_option("Only connections of endpoints in this namespace (repeatable); with --focus, the focus's namespace.")
@all_namespaces_option()
@click.option(
    "--focus",
    metavar="KIND/NAME",
    help="One workload or pod: who reaches it and whom it reaches, each with the rules that allow it "
    "(deploy/web, sts/db, pod/x, NAMESPACE/POD; in -n).",
)
@click.option("-o", "--output", type=click.Choice(FORMATS), default="list", show_default=True)
@click.option("--external/--no-external", default=True, show_default=True, help="Include external addresses (CIDR blocks).")
@click.option(
    "--workloads/--pods",
    default=True,
    show_default=True,
    help="One row per workload (its pods decided alike), or one per pod.",
)
@strict_option()
def connections(
    filenames: tuple[str, ...],
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    focus: str | None,
    output: str,
    external: bool,
    workloads: bool,
    strict: bool,
) -> None:
    """Which protocols and ports are open between whom: for every pair of endpoints (and
    external CIDR blocks) the exact set of allowed protocols, port ranges and ICMP types.

    Computed on the compiled tables, never by trying ports. A line reads
    'SOURCE => DESTINATION : TCP 443,8080-8090; UDP 53'; pairs with nothing allowed are
    left out. The pods of a workload decided alike are one row ('ns/name[Deployment]').

    \b
    Examples:
      netpolicy connections -f examples/staging
      netpolicy connections -f examples/staging -n staging --focus pod/database
    """
    if all_namespaces and namespaces:
        raise click.UsageError("-A/--all-namespaces and -n/--namespace exclude each other")
    if focus is not None and len(namespaces) > 1:
        raise click.UsageError("--focus takes at most one -n/--namespace")
    policy_set = load_policy_set(filenames, strict=strict)
    try:
        if focus is not None:
            name = _focus_name(focus, namespaces)
            result = find_connections(policy_set, focus=name, external=external, workloads=workloads)
        else:
            result = find_connections(policy_set, namespaces or None, external=external, workloads=workloads)
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc
    text = render(result, output)
    echo(text, nl=not text.endswith("\n"))


def _focus_name(focus: str, namespaces: Sequence[str]) -> str:
    """``KIND/NAME`` and a bare pod name in the namespace of ``-n``, as kubectl reads them."""
    if "/" not in focus and namespaces:
        return f"{namespaces[0]}/{focus}"
    return qualify(focus, namespaces)


# -- renderings -----------------------------------------------------------------------------


def render(result: Connections, output: str) -> str:
    """``result`` in one of :data:`FORMATS`."""
    if output == "list":
        return render_list(result)
    if output == "table":
        return render_table(result)
    if output in ("json", "yaml"):
        return dump([record(c) for c in result], output)
    if output == "csv":
        return render_csv(result)
    if output == "markdown":
        return render_markdown(result)
    return render_dot(result)


def _rules(row: dict[str, Any]) -> str:
    return f"egress {decision_text(row['egress'])}; ingress {decision_text(row['ingress'])}"


def _row_text(row: dict[str, Any]) -> str:
    """``TCP 443,8080``, ``proto 2-5,7``, with ``(source ports ...)``."""
    if row["protocol"] == "other":
        text = "proto " + ",".join(row["protocol_numbers"])
    else:
        ports = row["ports"]
        text = row["protocol"] + " " + ",".join(ports)
    if row["source_ports"] is not None:
        text += f" (source ports {','.join(row['source_ports'])})"
    return text


def render_list(result: Connections) -> str:
    """One line per connection; with a focus, its ingress then its egress, each line
    followed by the rules that allow each part."""
    if not result.focus:
        if not len(result):
            return "no connections"
        return "\n".join(_line(c) for c in result)
    lines: list[str] = []
    names = ", ".join(p.name for p in result.focus)
    for title, items in ((f"ingress to {names}", result.ingress), (f"egress from {names}", result.egress)):
        lines.append(style(title + ":", bold=True))
        if not items:
            lines.append("  nothing")
        for c in items:
            lines.append("  " + _line(c))
            for row in grant_rows(c.grants):
                lines.append(f"    {_row_text(row)}: {_rules(row)}")
    return "\n".join(lines)


def _line(c: Connection) -> str:
    return f"{c.src} => {c.dst} : {style(c.text, fg='green')}"


def _rows(result: Connections) -> list[list[str]]:
    if result.focus:
        return [
            [direction, c.src.name, c.dst.name, _row_text(row), decision_text(row["egress"]), decision_text(row["ingress"])]
            for direction, items in (("in", result.ingress), ("out", result.egress))
            for c in items
            for row in grant_rows(c.grants)
        ]
    return [[c.src.name, c.dst.name, c.text] for c in result]


def _headers(result: Connections) -> list[str]:
    if result.focus:
        return ["DIRECTION", "SOURCE", "DESTINATION", "ALLOWED", "EGRESS", "INGRESS"]
    return ["SOURCE", "DESTINATION", "ALLOWED"]


def render_table(result: Connections) -> str:
    """Aligned columns: source, destination, what is allowed (with a focus, a row per
    part with the deciding rules of each side)."""
    rows = _rows(result)
    if not rows:
        return "no connections"
    return columns(_headers(result), rows)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(result: Connections) -> str:
    """A Markdown table (GitHub flavour)."""
    rows = _rows(result)
    headers = [h.capitalize() for h in _headers(result)]
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(_md(v) for v in r) + " |" for r in rows)
    return "\n".join(out) + "\n"


def _party_data(party: Party) -> dict[str, Any]:
    return {
        "name": party.name,
        "kind": party.kind,
        "namespace": party.namespace,
        "endpoints": list(party.endpoints),
        "networks": [str(n) for n in party.networks],
    }


_NAMED = (6, 17, 132, 136, 1, 58)


def _runs(numbers: Sequence[int]) -> list[str]:
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return [range_text(0, a, b) for a, b in runs]


def grant_rows(grants: Sequence[Grant]) -> list[dict[str, Any]]:
    """The grants as rows: one per named protocol (TCP, UDP, SCTP, UDPLite, ICMP,
    ICMPv6) and deciding pair; the other protocols with the same decisions in one row
    (``protocol`` ``other``, their numbers in ``protocol_numbers``)."""
    rows: list[dict[str, Any]] = []
    others: dict[tuple[Any, ...], list[int]] = {}
    for grant in grants:
        p = grant.ports
        if p.protocol in _NAMED:
            rows.append({
                "protocol": protocol_text(p.protocol),
                "protocol_numbers": [str(p.protocol)],
                "ports": [range_text(p.protocol, a, b) for a, b in p.ranges],
                "source_ports": None if p.source_ports is None else [range_text(6, a, b) for a, b in p.source_ports],
                "egress": grant.egress,
                "ingress": grant.ingress,
            })
        else:
            others.setdefault((p.source_ports, grant.egress, grant.ingress), []).append(p.protocol)
    for (source, egress, ingress), numbers in others.items():
        rows.append({
            "protocol": "other", "protocol_numbers": _runs(numbers), "ports": None,
            "source_ports": None if source is None else [range_text(6, a, b) for a, b in source],
            "egress": egress, "ingress": ingress,
        })
    return rows


def _grant_data(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "egress": decision_data(row["egress"]), "ingress": decision_data(row["ingress"])}


def record(c: Connection) -> dict[str, Any]:
    """One connection as JSON-ready data."""
    return {
        "src": _party_data(c.src), "dst": _party_data(c.dst), "allowed": c.text,
        "grants": [_grant_data(row) for row in grant_rows(c.grants)],
    }


def render_csv(result: Connections) -> str:
    """One row per protocol and deciding pair: src, dst, protocol, ports, source ports,
    and each side's deciding rule."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["src", "src_kind", "dst", "dst_kind", "protocol", "ports", "source_ports", "egress", "ingress"])
    for c in result:
        for row in grant_rows(c.grants):
            protocol = row["protocol"] if row["protocol"] != "other" else "proto " + ",".join(row["protocol_numbers"])
            writer.writerow([
                c.src.name, c.src.kind, c.dst.name, c.dst.kind, protocol, " ".join(row["ports"] or ()),
                " ".join(row["source_ports"] or ()), decision_text(row["egress"]), decision_text(row["ingress"]),
            ])
    return out.getvalue()


def render_dot(result: Connections) -> str:
    """A Graphviz digraph: a node per party (external blocks as boxes), an edge per
    connection labelled with what it allows."""
    nodes: dict[str, Party] = {}
    for c in result:
        nodes.setdefault(c.src.name, c.src)
        nodes.setdefault(c.dst.name, c.dst)
    lines = ["digraph connections {", "  rankdir=LR;", '  node [fontname="sans-serif", fontsize=10];',
             '  edge [fontname="sans-serif", fontsize=9];']
    for name, party in nodes.items():
        shape = "box" if party.kind == "external" else "ellipse"
        style_ = ', style="dashed"' if party.kind == "external" else ""
        lines.append(f"  {json.dumps(name)} [shape={shape}{style_}];")
    for c in result:
        lines.append(f"  {json.dumps(c.src.name)} -> {json.dumps(c.dst.name)} [label={json.dumps(c.text)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
