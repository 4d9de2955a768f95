"""Findings as SARIF 2.1.0 (the Static Analysis Results Interchange Format), which code
scanning tools read to show each finding on the file and line it points at: the rule's
line where the finding names a rule whose place in the manifest is known (its YAML read
again, once per file), else the policy's."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import yaml

from .._version import __version__
from ..analysis.lint import CHECKS, Finding, Findings
from ..loader._documents import child_node

__all__ = ["sarif", "SCHEMA_URI"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(file: str) -> str:
    """A path relative to the current directory when inside it, else a file URI."""
    path = pathlib.Path(file).resolve()
    try:
        return path.relative_to(pathlib.Path(os.getcwd()).resolve()).as_posix()
    except ValueError:
        return path.as_uri()


class _Lines:
    """Where rules are written: each file's YAML composed once, on first use."""

    def __init__(self) -> None:
        self._files: dict[str, list[Any] | None] = {}

    def rule(self, finding: Finding) -> tuple[int, int] | None:
        """(line, column) of the rule of ``finding`` in its file, when its policy is a
        document of its own there (not an item of a List) and the path leads to it."""
        o = finding.origin
        if o is None or o.file is None or o.document is None or finding.path is None:
            return None
        roots = self._files.get(o.file, [])
        if roots == []:
            try:
                with open(o.file, encoding="utf-8") as handle:
                    roots = list(yaml.compose_all(handle, Loader=yaml.SafeLoader))
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                roots = None
            self._files[o.file] = roots
        at = o.document - 1  # 1-based
        if roots is None or not 0 <= at < len(roots) or roots[at] is None:
            return None
        node = roots[at]
        if node.start_mark.line + 1 != o.line:
            return None  # an item of a List: its path starts elsewhere
        for part in finding.path:
            node = child_node(node, part)
            if node is None:
                return None
        return node.start_mark.line + 1, node.start_mark.column + 1


def _location(finding: Finding, lines: _Lines) -> dict[str, Any]:
    location: dict[str, Any] = {}
    o = finding.origin
    if o is not None and o.file is not None and o.file != "-":
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(o.file)}}
        at = lines.rule(finding) or (o.line, o.column)
        if at[0] is not None and at[0] >= 1:
            region: dict[str, Any] = {"startLine": at[0]}
            if at[1] is not None and at[1] >= 1:
                region["startColumn"] = at[1]
            physical["region"] = region
        location["physicalLocation"] = physical
    if finding.about:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.about, "kind": "object"}]
    return location


def sarif(findings: Findings) -> dict[str, Any]:
    """The SARIF log of ``findings``: one run, every check a rule of the tool."""
    ids = list(CHECKS)
    rules = [
        {
            "id": c.id, "name": "".join(part.capitalize() for part in c.id.split("-")),
            "shortDescription": {"text": c.title}, "fullDescription": {"text": c.help},
            "defaultConfiguration": {"level": c.level},
        }
        for c in CHECKS.values()
    ]
    results = []
    lines = _Lines()
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.check, "ruleIndex": ids.index(finding.check), "level": finding.level,
            "message": {"text": f"{finding.about}: {finding.message}" if finding.about else finding.message},
        }
        location = _location(finding, lines)
        if location:
            result["locations"] = [location]
        if finding.evidence:
            result["properties"] = {"evidence": list(finding.evidence)}
        results.append(result)
    return {
        "$schema": SCHEMA_URI, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "netpolicy", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
