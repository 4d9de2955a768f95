"""Reading JSON text into :class:`Document` values. Fields reported later are located
through the YAML composer, which reads JSON too."""

from __future__ import annotations

import json
from typing import Any

from ._bounds import MAX_DEPTH, AliasBomb, check_expansion, object_children
from ._documents import Read, documents, problem_at
from ._yaml import Locator

__all__ = ["read_json"]


def read_json(text: str, file: str | None) -> Read | None:
    """The objects of JSON ``text``, or None when it is not JSON (the caller then reads
    it as YAML, which reports errors with places)."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) < len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
        return mapping

    try:
        body = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        return Read([], [problem_at(f"nesting is deeper than {MAX_DEPTH} levels", file, 1)])
    except ValueError:
        return None
    locator = Locator(text)
    problems = [problem_at(f"duplicate key {key!r}", file, 1) for key in duplicates]
    try:
        check_expansion(body, object_children)
    except AliasBomb as error:
        return Read([], [problem_at(str(error), file, 1)])
    result = Read([], problems)
    result.documents.extend(documents(body, file=file, index=1, locator=locator, root=None, warnings=result.warnings))
    return result
