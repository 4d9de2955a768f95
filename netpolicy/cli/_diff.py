"""``netpolicy diff``: what a change to the policies allows or blocks, and its renderings
(table, JSON, YAML, CSV, Markdown for a pull-request comment, and the HTML heatmap of
:mod:`._htmldiff`).

A side is what ``-f`` takes (files, directories, ``-``), or ``git:REV:PATH``: PATH (a file
or a directory, relative to the current directory) as it is in revision REV of the
repository here, read with ``git`` and no network.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from typing import Any, Sequence

import click

from ..analysis import Change, Diff, diff as find_diff, staged_enforced
from ..errors import PolicyError
from ..policyset import PolicySet
from ._common import EXIT_CHECK_FAILED, InvalidInput, dump, echo, load_policy_set, strict_option
from ..analysis.keyspace import protocol_text
from . import _htmldiff
from ._verdict import decision_data, decision_text

__all__ = ["FORMATS", "diff", "render", "record", "git_side", "load_side"]

FORMATS = ("table", "json", "yaml", "csv", "markdown", "html")


def git_side(spec: str, into: str) -> str:
    """Write ``PATH`` of ``git:REV:PATH`` as it is in REV under the directory ``into``;
    return where. A revision or path that is not there is invalid input."""
    _, _, rest = spec.partition(":")
    rev, sep, path = rest.partition(":")
    if not rev or not sep:
        raise click.UsageError(f"{spec!r}: a git side reads git:REV:PATH (PATH may be empty for the whole tree)")
    path = path.strip("/") or "."

    def git(*args: str, binary: bool = False) -> subprocess.CompletedProcess[Any]:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=not binary, check=False)
        except OSError as exc:
            raise InvalidInput(f"{spec}: git cannot be run: {exc}") from exc

    if git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise InvalidInput(f"{spec}: no revision {rev!r} in the git repository here")
    obj = f"{rev}:./{path}" if path != "." else f"{rev}:./"
    kind = git("cat-file", "-t", obj)
    if kind.returncode != 0:
        raise InvalidInput(f"{spec}: no {path!r} in revision {rev!r}")
    if kind.stdout.strip() == "blob":
        shown = git("show", obj, binary=True)
        target = os.path.join(into, os.path.basename(path))
        with open(target, "wb") as handle:
            handle.write(shown.stdout)
        return target
    archive = git("archive", "--format=tar", obj, binary=True)
    if archive.returncode != 0:
        raise InvalidInput(f"{spec}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def load_side(label: str, specs: Sequence[str], strict: bool) -> PolicySet:
    """One side, its loader errors labelled with the side."""
    with tempfile.TemporaryDirectory(prefix=f"netpolicy-{label}-") as tmp:
        try:
            paths = []
            for n, spec in enumerate(specs):
                if spec.startswith("git:"):
                    into = os.path.join(tmp, str(n))
                    os.makedirs(into)
                    paths.append(git_side(spec, into))
                elif spec != "-" and not os.path.exists(spec):
                    raise InvalidInput(f"{spec}: no such file or directory")
                else:
                    paths.append(spec)
            return load_policy_set(paths, strict=strict)
        except InvalidInput as exc:
            raise InvalidInput([f"{label}: {line}" for line in exc.lines]) from exc


@click.command(short_help="What a change to the policies allows or blocks.")
@click.option("--base", "base", multiple=True, metavar="PATH", help="The policies before: what -f takes, or git:REV:PATH. Repeatable.")
@click.option("--head", "head", multiple=True, metavar="PATH", help="The policies after: what -f takes, or git:REV:PATH. Repeatable.")
@click.option("--staged", is_flag=True, help="Compare the enforced verdicts of -f with those if every staged policy were enforced.")
@click.option("-f", "--filename", "filenames", multiple=True, metavar="PATH", help="With --staged: the manifests. Repeatable.")
@click.option("-o", "--output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--external/--no-external", default=True, show_default=True, help="Include external addresses (CIDR blocks).")
@click.option("--workloads/--pods", default=True, show_default=True, help="One row per workload (its pods changed alike), or per pod.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything changed.")
@click.option("--fail-on", type=click.Choice(("added", "removed", "any")), help="Exit 1 when something is newly allowed (added), no longer allowed (removed), or either.")
@strict_option()
def diff(
    base: tuple[str, ...], head: tuple[str, ...], staged: bool, filenames: tuple[str, ...], output: str,
    external: bool, workloads: bool, exit_code: bool, fail_on: str | None, strict: bool,
) -> None:
    """What a change to the policies allows or blocks that was not so before.

    Endpoints are matched across the sides by kind, namespace and name. Exact over every
    pair of endpoints, protocol, port range, ICMP type and code, and the external CIDR
    blocks where either side's answer changes, never sampled. Each row names the
    deciding egress and ingress rules before and after.

    \b
    Examples:
      netpolicy diff --base examples/staging --head examples/staging-change
      netpolicy diff --base git:main:deploy/ --head deploy/ -o markdown --fail-on added
      netpolicy diff --staged -f deploy/
    """
    if staged:
        if base or head or not filenames:
            raise click.UsageError("--staged takes -f PATH... and neither --base nor --head")
        before = load_side("manifests", filenames, strict)
        after = staged_enforced(before)
    else:
        if filenames:
            raise click.UsageError("-f goes with --staged; compare two sides with --base and --head")
        if not base or not head:
            raise click.UsageError("give both --base and --head (or --staged -f PATH)")
        before = load_side("base", base, strict)
        after = load_side("head", head, strict)
    try:
        result = find_diff(before, after, external=external, workloads=workloads)
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc
    text = _htmldiff.render(result, before, after) if output == "html" else render(result, output)
    echo(text, nl=not text.endswith("\n"))
    failed = (exit_code and bool(result)) or (fail_on == "added" and bool(result.added)) or (
        fail_on == "removed" and bool(result.removed)) or (fail_on == "any" and bool(result))
    if failed:
        sys.exit(EXIT_CHECK_FAILED)


# -- renderings -----------------------------------------------------------------------------


def _why(state: Any) -> str:
    if state.verdict == "absent":
        return "endpoint absent"
    parts = [f"{side} {decision_text(d)}" for side, d in (("egress", state.egress), ("ingress", state.ingress)) if d is not None]
    return "; ".join(parts) or ("not policed" if state.verdict == "allow" else "")


def record(change: Change) -> dict[str, Any]:
    """One change as plain data."""
    def side(state: Any) -> dict[str, Any]:
        return {"verdict": state.verdict, "egress": decision_data(state.egress), "ingress": decision_data(state.ingress)}

    def party(p: Any) -> dict[str, Any]:
        return {"name": p.name, "kind": p.kind, "namespace": p.namespace, "endpoints": list(p.endpoints),
                "networks": [str(n) for n in p.networks]}

    return {
        "change": change.kind, "source": party(change.src), "destination": party(change.dst),
        "packets": change.ports_text,
        "ports": [{"protocol": protocol_text(p.protocol), "ranges": [list(r) for r in p.ranges],
                   "source_ports": None if p.source_ports is None else [list(r) for r in p.source_ports]}
                  for p in change.packets],
        "before": side(change.before), "after": side(change.after),
    }


def _rows(result: Diff) -> list[list[str]]:
    return [[c.kind, c.src.name, c.dst.name, c.ports_text, f"{c.before.verdict} -> {c.after.verdict}",
             _why(c.before), _why(c.after)] for c in result]


_HEAD = ["change", "source", "destination", "packets", "verdict", "before: decided by", "after: decided by"]


def render(result: Diff, output: str) -> str:
    """``result`` in one of :data:`FORMATS` but ``html``, which needs both sides
    (:func:`._htmldiff.render`)."""
    if output in ("json", "yaml"):
        data = {"changes": [record(c) for c in result], "added_endpoints": list(result.added_endpoints),
                "removed_endpoints": list(result.removed_endpoints)}
        return dump(data, output)
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_HEAD)
        writer.writerows(_rows(result))
        return buffer.getvalue()
    if output == "markdown":
        return _markdown(result)
    return _table(result)


def _summary(result: Diff) -> str:
    if not result:
        return "No change: every flow is decided as before."
    parts = [f"{len(result.added)} newly allowed", f"{len(result.removed)} no longer allowed"]
    if result.added_endpoints:
        parts.append(f"endpoints added: {', '.join(result.added_endpoints)}")
    if result.removed_endpoints:
        parts.append(f"endpoints removed: {', '.join(result.removed_endpoints)}")
    return "; ".join(parts) + "."


def _table(result: Diff) -> str:
    rows = [r[:5] for r in _rows(result)]
    lines = [_summary(result)]
    if rows:
        widths = [max(len(str(x)) for x in col) for col in zip(_HEAD[:5], *rows)]
        for row in ([*_HEAD[:5]], *rows):
            lines.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
        lines.append("")
        for n, c in enumerate(result, 1):
            lines.append(f"{n}. {c.src.name} => {c.dst.name} {c.ports_text}")
            lines.append(f"   before: {c.before.verdict}: {_why(c.before)}")
            lines.append(f"   after:  {c.after.verdict}: {_why(c.after)}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(result: Diff) -> str:
    lines = ["### Network policy change", "", _summary(result)]
    if len(result):
        lines += ["", "| | source | destination | packets | before | after |", "|---|---|---|---|---|---|"]
        mark = {"added": "➕ allowed", "removed": "➖ blocked"}
        for c in result:
            before = f"{c.before.verdict}: {_why(c.before)}" if c.before.verdict != "absent" else "absent"
            after = f"{c.after.verdict}: {_why(c.after)}" if c.after.verdict != "absent" else "absent"
            lines.append("| " + " | ".join(_cell(x) for x in (
                mark[c.kind], f"`{c.src.name}`", f"`{c.dst.name}`", c.ports_text, before, after)) + " |")
    return "\n".join(lines) + "\n"
