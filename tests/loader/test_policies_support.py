"""Helpers for the policy converter tests: run one converter on one YAML document."""

from __future__ import annotations

from typing import Any

import yaml

from netpolicy.errors import Problem
from netpolicy.loader._fields import Document
from netpolicy.loader.policies import CONVERTERS
from netpolicy.loader.registry import API_GROUPS, Inventory, Meta
from netpolicy.selector import Selector


class Converted:
    """What a converter produced for one document, with its problems and warnings."""

    def __init__(self, objects: list[Any], problems: list[Problem], warnings: list[str]) -> None:
        self.objects = objects
        self.problems = problems
        self.warnings = warnings

    @property
    def one(self) -> Any:
        assert not self.problems, self.problems
        assert len(self.objects) == 1, self.objects
        return self.objects[0]

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(path, message) of every problem."""
        return [(p.path, p.message) for p in self.problems]


def convert(text: str, inventory: Inventory | None = None) -> Converted:
    body = yaml.safe_load(text)
    doc = Document(body)
    metadata = body.get("metadata") or {}
    converter, namespaced = CONVERTERS[(API_GROUPS[body["apiVersion"]], body["kind"])]
    meta = Meta(
        kind=body["kind"],
        api_version=body["apiVersion"],
        name=metadata["name"],
        namespace=(metadata.get("namespace") or "default") if namespaced else None,
    )
    objects = list(converter(doc.root(), meta, inventory or Inventory()))
    return Converted(objects, list(doc.problems), list(doc.warnings))


def errors_of(text: str, inventory: Inventory | None = None) -> list[tuple[str, str]]:
    result = convert(text, inventory)
    assert result.problems, "expected problems"
    return result.errors


def canonical(text: str) -> str:
    """Canonical text of a selector, to compare selectors built in different ways."""
    return str(Selector.parse(text))


def same_selector(selector: Any, expected: str) -> bool:
    return str(selector) == canonical(expected)
