"""Findings as SARIF 2.1.0 (the Static Analysis Results Interchange Format), which code
scanning tools read to show each finding on the file and line it points at."""

from __future__ import annotations

import os
import pathlib
from typing import Any

from .._version import __version__
from ..analysis.lint import CHECKS, Finding, Findings

__all__ = ["sarif", "SCHEMA_URI"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(file: str) -> str:
    """A path relative to the current directory when inside it, else a file URI."""
    path = pathlib.Path(file).resolve()
    try:
        return path.relative_to(pathlib.Path(os.getcwd()).resolve()).as_posix()
    except ValueError:
        return path.as_uri()


def _location(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {}
    o = finding.origin
    if o is not None and o.file is not None and o.file != "-":
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(o.file)}}
        if o.line is not None and o.line >= 1:
            region: dict[str, Any] = {"startLine": o.line}
            if o.column is not None and o.column >= 1:
                region["startColumn"] = o.column
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
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.check, "ruleIndex": ids.index(finding.check), "level": finding.level,
            "message": {"text": f"{finding.about}: {finding.message}" if finding.about else finding.message},
        }
        location = _location(finding)
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
