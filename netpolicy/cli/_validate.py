"""``netpolicy validate``: whether every document is valid, and what the input holds."""

from __future__ import annotations

from typing import Any

import click

from ..errors import Problem
from ..policyset import PolicySet
from ._common import InvalidInput, dump, echo, filename_option, load_policy_set, strict_option, style
from ._formats import columns, output_option

__all__ = ["validate", "counts", "problem_data"]

_KINDS = (
    ("tiers", "tier", "tiers"),
    ("policies", "policy", "policies"),
    ("staged_policies", "staged policy", "staged policies"),
    ("endpoints", "endpoint", "endpoints"),
    ("network_sets", "network set", "network sets"),
)


def counts(policy_set: PolicySet) -> dict[str, int]:
    """How many of each kind the policy set holds, by the attribute's name."""
    return {key: len(getattr(policy_set, key)) for key, _, _ in _KINDS}


def problem_data(problem: Problem) -> dict[str, Any]:
    """One problem as plain data: where (file, line, column, document, field path, the
    document's kind and name) and what."""
    return {"file": problem.file, "line": problem.line, "column": problem.column, "document": problem.document,
            "path": problem.path or None, "kind": problem.kind, "name": problem.name, "message": problem.message}


@click.command()
@filename_option()
@output_option(("text", "table", "json", "yaml"), "text")
@strict_option()
def validate(filenames: tuple[str, ...], output: str, strict: bool) -> None:
    """Check that every document is valid.

    Exit 0 when it is; otherwise exit 3 with one 'file:line:col: message' line per problem
    on stderr (with -o json or yaml, also the problems as a document on stdout).
    """
    try:
        policy_set = load_policy_set(filenames, strict=strict)
    except InvalidInput as exc:
        if output in ("json", "yaml"):
            problems = [problem_data(p) for p in exc.problems] or [
                {**dict.fromkeys(("file", "line", "column", "document", "path", "kind", "name")), "message": line}
                for line in exc.lines
            ]
            echo(dump({"valid": False, "problems": problems}, output))
        raise
    found = counts(policy_set)
    if output == "text":
        parts = [f"{found[key]} {one if found[key] == 1 else many}" for key, one, many in _KINDS]
        echo(f"{style('valid', fg='green')}: {', '.join(parts)}")
    elif output == "table":
        echo(columns(["kind", "count"], [(many, found[key]) for key, _, many in _KINDS]))
    else:
        echo(dump({"valid": True, "counts": found, "warnings": [str(w) for w in policy_set.warnings]}, output))
