"""What a reader produces: the objects of a parsed text as :class:`Document` values (a
sequence or a ``List`` wrapper gives one per item), where each starts, and the
:class:`Read` record of one source."""

from __future__ import annotations

from typing import Any, Iterator, Protocol

import attrs
import yaml

from ..errors import Problem
from ..model import Origin
from ._fields import Document, Path

__all__ = ["Read", "Locating", "Mark", "problem_at", "child_node", "path_to_node", "is_list", "documents"]


class Locating(Protocol):
    """Finds line and column of a field path in document ``index`` of a text."""

    def locate(self, index: int, path: Path) -> tuple[int, int] | None: ...


@attrs.define
class Read:
    """What reading a source produced: its objects, the problems that stopped reading
    (or were found while reading) and warnings.

    YAML text is read lazily, one document at a time, as :meth:`each` is iterated (so a
    caller can convert each object and let go of its parsed body before the next one is
    read); ``documents``, ``problems`` and ``warnings`` are complete once it has been
    iterated to the end."""

    documents: list[Document]
    problems: list[Problem]
    warnings: list[str] = attrs.field(factory=list)
    pending: Iterator[Document] | None = None

    def each(self) -> Iterator[Document]:
        """Every document, in order: those already read, then the rest as they are read
        (each is added to ``documents``)."""
        yield from list(self.documents)
        pending, self.pending = self.pending, None
        if pending is not None:
            for doc in pending:
                self.documents.append(doc)
                yield doc


class Mark:
    """A 0-based line and column, as the YAML library's marks have them."""

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


def problem_at(message: str, file: str | None, index: int | None = None, mark: Any = None, path: str = "") -> Problem:
    """A Problem at ``mark`` (anything with 0-based ``line`` and ``column``, or None)."""
    line = column = None
    if mark is not None and getattr(mark, "line", None) is not None:
        line, column = mark.line + 1, mark.column + 1
    return Problem(message=message, file=file, document=index, line=line, column=column, path=path)


def child_node(node: Any, part: Any) -> Any:
    """The composed YAML node at ``part`` (a key or an index) under ``node``, or None."""
    if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
        return node.value[part] if 0 <= part < len(node.value) else None
    if isinstance(part, str) and isinstance(node, yaml.MappingNode):
        found = None
        for key, value in node.value:  # the last one wins, as in the parsed mapping
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                found = value
        return found
    return None


def path_to_node(root: Any, target: Any) -> Path | None:
    """The field path from the composed node ``root`` to the node ``target`` (a mapping
    key's node gives the path of that key), or None. Iterative: only called for a
    problem, on a document whose depth is already bounded."""
    stack: list[tuple[Any, Path]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, path + (index,)) for index, child in reversed(list(enumerate(node.value))))
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                part = key.value if isinstance(key, yaml.ScalarNode) else "?"
                if key is target:
                    return path + (part,)
                stack.append((value, path + (part,)))
    return None


_LIST_FIELDS = ("apiVersion", "kind", "metadata", "items")


def is_list(body: Any) -> bool:
    """Whether ``body`` is a ``List`` wrapper (``kind: ...List`` with ``items``)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("kind"), str)
        and body["kind"].endswith("List")
        and "items" in body
    )


def _unwrap(body: Any, prefix: Path, level: int = 0) -> Iterator[tuple[Path, Any, str | None]]:
    """The objects of a document: itself, the items of a sequence or of a List wrapper.
    Yields (path prefix, object, problem message or None)."""
    if isinstance(body, list) and level < 2:
        for index, item in enumerate(body):
            yield from _unwrap(item, prefix + (index,), level + 1)
    elif is_list(body) and level < 2:
        items = body["items"]
        if items is None:
            return
        if not isinstance(items, list):
            yield prefix + ("items",), items, f"{body['kind']} items must be a list"
            return
        kind = body["kind"][: -len("List")]
        api_version = body.get("apiVersion")
        for index, item in enumerate(items):
            if kind and isinstance(item, dict) and ("kind" not in item or "apiVersion" not in item):
                # A typed list from the API server (PodList) leaves its items' kind out.
                item = {"apiVersion": api_version, "kind": kind, **item}  # a copy: inputs stay as given
            yield from _unwrap(item, prefix + ("items", index), level + 2)
    else:
        yield prefix, body, None


def documents(
    body: Any, *, file: str | None, index: int, locator: Locating | None, root: Any, warnings: list[str]
) -> Iterator[Document]:
    """The Documents of one parsed document ``body``; ``root`` is its composed YAML node
    (None for JSON and parsed objects), which gives each object's line and column."""
    locate = None
    if locator is not None:
        locate = lambda path, _i=index: locator.locate(_i, path)  # noqa: E731
    if type(body) is dict and not is_list(body):  # the usual case: one object
        doc = Document(body, file=file, index=index, locate=locate)
        if root is not None:
            mark = root.start_mark
            doc.origin = Origin(file=file, document=index, line=mark.line + 1, column=mark.column + 1)
        else:
            doc.origin = Origin(file=file, document=index)
        yield doc
        return
    if is_list(body):
        wrapper = Document(body, file=file, index=index, locate=locate)
        for key in body:
            if key not in _LIST_FIELDS:
                wrapper.warn((key,), f"unknown field {key!r} ignored")
        warnings.extend(wrapper.warnings)
    for prefix, obj, message in _unwrap(body, ()):
        doc = Document(obj, file=file, index=index, locate=locate, prefix=prefix)
        if message is not None:
            doc.problem((), message)
        elif isinstance(obj, list) or is_list(obj):
            doc.problem((), "lists nested this deep are not supported")
        if root is not None:
            doc.origin = _origin(file, index, root, prefix)
        else:
            doc.origin = Origin(file=file, document=index)
        yield doc


def _origin(file: str | None, index: int, root: Any, prefix: Path) -> Origin:
    node = root
    for part in prefix:
        child = child_node(node, part)
        if child is None:
            break
        node = child
    mark = node.start_mark
    return Origin(file=file, document=index, line=mark.line + 1, column=mark.column + 1)
