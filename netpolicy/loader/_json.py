"""Reading JSON text into :class:`Document` values.

The standard library's parser reads the text; when it finds a duplicate key or nesting
deeper than the limit, the text is scanned again, without recursion, for the place: the
problem then has line, column and field path, as the YAML reader gives them. Fields
reported later are located through the YAML composer, which reads JSON too.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from ..errors import Problem
from ._bounds import MAX_DEPTH, AliasBomb, check_expansion, object_children
from ._documents import Read, documents
from ._fields import Path
from ._yaml import Locator

__all__ = ["read_json", "json_places"]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.DOTALL)
_DEEP = f"nesting is deeper than {MAX_DEPTH} levels"


def read_json(text: str, file: str | None) -> Read | None:
    """The objects of JSON ``text``, or None when it is not JSON (the caller then reads
    it as YAML, which reports errors with places)."""
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        mapping = dict(items)
        if len(mapping) < len(items):
            duplicated = True
        return mapping

    try:
        body = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        return Read([], _deep(text, file))
    except ValueError:
        return None
    problems: list[Problem] = []
    if duplicated:
        problems = [
            _problem(f"duplicate key {path[-1]!r}", file, text, offset, path)
            for kind, offset, path in json_places(text)
            if kind == "duplicate"
        ] or [Problem(message="duplicate key", file=file, document=1)]
    try:
        check_expansion(body, object_children)
    except AliasBomb as error:
        if str(error) == _DEEP:
            return Read([], _deep(text, file))
        return Read([], [Problem(message=str(error), file=file, document=1)])
    result = Read([], problems)
    locator = Locator(text)
    result.documents.extend(documents(body, file=file, index=1, locator=locator, root=None, warnings=result.warnings))
    return result


def _deep(text: str, file: str | None) -> list[Problem]:
    for kind, offset, path in json_places(text):
        if kind == "deep":
            return [_problem(_DEEP, file, text, offset, path)]
    return [Problem(message=_DEEP, file=file, document=1)]


def json_places(text: str) -> Iterator[tuple[str, int, Path]]:
    """Where JSON ``text`` has a duplicate key (``"duplicate"``, the offset of the key
    and its path) and where it first nests deeper than MAX_DEPTH (``"deep"``, the offset
    and path of the first value or key past the limit; the scan stops there). Depth
    counts as :func:`~netpolicy.loader._bounds.check_expansion` does: the top value is at
    depth 1, and a container's keys and values one deeper."""
    # A frame per open container: [keys seen, current key, expecting a key] for an
    # object; [None, index, False] for an array.
    frames: list[list[Any]] = []

    def path() -> Path:
        return tuple(frame[1] for frame in frames)

    for match in _TOKEN.finditer(text):
        token = match.group()
        top = frames[-1] if frames else None
        if token in ("}", "]"):
            if frames:
                frames.pop()
            continue
        if token == ",":
            if top is not None:
                if top[0] is None:
                    top[1] += 1
                else:
                    top[2] = True
            continue
        if token == ":":
            if top is not None:
                top[2] = False
            continue
        is_key = top is not None and top[0] is not None and top[2]
        if is_key:
            try:
                key = json.loads(token)
            except ValueError:
                key = token
            top[1] = key  # type: ignore[index]
        if len(frames) + 1 > MAX_DEPTH:
            yield "deep", match.start(), path()
            return
        if is_key:
            assert top is not None
            if key in top[0]:
                yield "duplicate", match.start(), path()
            top[0].add(key)
        elif token in ("{", "["):
            frames.append([set(), None, True] if token == "{" else [None, 0, False])


def _problem(message: str, file: str | None, text: str, offset: int, path: Path) -> Problem:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Problem(message=message, file=file, document=1, line=line, column=column, path=_short_path(path))


def _short_path(path: Path) -> str:
    """``spec.ingress[0]``; a very deep path keeps its first and last steps."""
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in path]
    if len(parts) > 16:
        parts = parts[:8] + [f"...({len(parts) - 16} more levels)..."] + parts[-8:]
    if parts and parts[0].startswith("."):
        parts[0] = parts[0][1:]
    return "".join(parts)
