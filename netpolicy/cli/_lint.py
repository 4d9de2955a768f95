"""``netpolicy lint``: rules that never act or change nothing, selectors that select
nothing, what no policy covers, what is open to everyone, conflicting rules; as a table,
JSON, YAML or SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
import sys

import click

from ..analysis.lint import CHECKS, LEVELS, Findings, analyze
from ..errors import PolicyError
from ._common import EXIT_CHECK_FAILED, InvalidInput, dump, echo, filename_option, load_policy_set, strict_option
from ._formats import columns
from ._sarif import sarif

__all__ = ["FORMATS", "lint", "render"]

FORMATS = ("table", "json", "yaml", "sarif")


def render(findings: Findings, output: str) -> str:
    """``findings`` in one of :data:`FORMATS`."""
    if output == "sarif":
        return json.dumps(sarif(findings), indent=2)
    if output in ("json", "yaml"):
        return dump({"findings": [f.record() for f in findings], "checks": list(findings.checks)}, output)
    if not len(findings):
        return "no findings"
    rows = []
    for f in findings:
        rows.append((f.level, f.check, f.where or "-", f.about or "-", f.message))
        rows.extend(("", "", "", "", f"  {line}") for line in f.evidence[:4])
    counts = {level: len([f for f in findings if f.level == level]) for level in LEVELS}
    summary = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level, n in counts.items() if n)
    return columns(("level", "check", "where", "about", "message"), rows) + f"\n\n{summary}"


@click.command(short_help="Dead rules, empty selectors, unprotected and exposed workloads.")
@filename_option()
@click.option("-o", "--output", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there is any finding.")
@click.option("--fail-on", type=click.Choice(LEVELS), help="Exit 1 when there is a finding of this level or a more severe one.")
@click.option("--disable", "disabled", multiple=True, type=click.Choice(list(CHECKS)), metavar="ID",
              help="Turn a check off (repeatable): " + ", ".join(CHECKS) + ".")
@click.option("--check", "only", multiple=True, type=click.Choice(list(CHECKS)), metavar="ID",
              help="Run only this check (repeatable).")
@strict_option()
def lint(filenames: tuple[str, ...], output: str, exit_code: bool, fail_on: str | None, disabled: tuple[str, ...],
         only: tuple[str, ...], strict: bool) -> None:
    """Analyse the policies: shadowed and redundant rules (exact, on the compiled
    tables), selectors that select nothing, workloads no policy covers, namespaces
    without a default deny, tiers whose default drops what only Log rules matched,
    endpoints open to every external address or every namespace, and conflicting
    rules of equal-order policies. Each finding points at the file, line and column of
    its policy.

    \b
    Examples:
      netpolicy lint -f deploy/
      netpolicy lint -f deploy/ -o sarif > netpolicy.sarif
      netpolicy lint -f deploy/ --fail-on warning --disable unprotected-egress
    """
    ps = load_policy_set(filenames, strict=strict)
    try:
        off = set(disabled) | ({c for c in CHECKS if c not in only} if only else set())
        findings = analyze(ps, disable=sorted(off))
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc
    text = render(findings, output)
    echo(text, nl=not text.endswith("\n"))
    if (exit_code and len(findings)) or (fail_on is not None and findings.at_least(fail_on)):
        sys.exit(EXIT_CHECK_FAILED)
