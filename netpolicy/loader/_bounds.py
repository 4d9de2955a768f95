"""Bounds on what a document may make the reader do: how deep it nests and how far its
YAML aliases expand ("billion laughs"). Both are checked before anything walks the data
recursively."""

from __future__ import annotations

import re
from typing import Any, Callable

import yaml

__all__ = [
    "MAX_DEPTH",
    "ALIAS_BUDGET_BASE",
    "ALIAS_BUDGET_RATIO",
    "AliasBomb",
    "check_expansion",
    "node_children",
    "object_children",
    "may_be_deep",
    "has_anchor",
]

#: Deepest nesting accepted in a document.
MAX_DEPTH = 200
#: Expanded size allowed for documents that use aliases: base + ratio × distinct nodes.
ALIAS_BUDGET_BASE = 100_000
ALIAS_BUDGET_RATIO = 10


# -- nesting depth ---------------------------------------------------------------------

_BREAK = "\n\r\x85\u2028\u2029"
_DEEP_LINE = re.compile(f"[{_BREAK}][ \t?:-]{{{MAX_DEPTH // 2}}}")
#: The same, one pattern per line break: a literal first character is searched for fast.
_DEEP_LINES = tuple((brk, re.compile(re.escape(brk) + f"[ \t?:-]{{{MAX_DEPTH // 2}}}")) for brk in _BREAK)
_BRACKETS = re.compile(r"[\[\]{}]")


def may_be_deep(text: str) -> bool:
    """Cheap test: False guarantees the nesting is at most about ``2 × MAX_DEPTH``.

    Block nesting needs indentation or compact ``- ``/``? `` runs at the start of a line;
    flow nesting needs brackets (their rise is bounded by scanning just the brackets).
    """
    if any(brk in text and deep.search(text) for brk, deep in _DEEP_LINES):
        return True
    if _DEEP_LINE.match("\n" + text[: MAX_DEPTH // 2]):
        return True
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = low = rise = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        low = min(low, depth)
        rise = max(rise, depth - low)
        if rise > MAX_DEPTH:
            return True
    return False


# -- aliases ---------------------------------------------------------------------------

_ANCHOR = re.compile(r"&(?=[^\s&,\[\]{}])")


def has_anchor(text: str) -> bool:
    """Whether ``text`` may define a YAML anchor (``&name`` after a separator); a false
    positive only costs the alias check."""
    for match in _ANCHOR.finditer(text):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "&"):
            return True
    return False


class AliasBomb(Exception):
    """A document expands beyond the budget, refers to itself or nests too deeply."""


def check_expansion(root: Any, children: Callable[[Any], Any]) -> None:
    """Raise :class:`AliasBomb` when the tree under ``root``, with shared subtrees
    counted every time they are referenced, exceeds the budget, is cyclic or too deep.
    ``children(x)`` lists the children of ``x``. Iterative, linear in distinct nodes."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, Any, int]] = [(root, None, 1)]
    total = 0
    while stack:
        item, pending, depth = stack.pop()
        key = id(item)
        if pending is None:
            if key in sizes:
                continue
            if key in active:
                raise AliasBomb("an alias refers to a node that contains it (recursive structure)")
            if depth > MAX_DEPTH:
                raise AliasBomb(f"nesting is deeper than {MAX_DEPTH} levels")
            kids = children(item)
            distinct += 1
            if not kids:
                sizes[key] = 1
                continue
            active.add(key)
            stack.append((item, kids, depth))
            for kid in kids:
                if id(kid) not in sizes:
                    stack.append((kid, None, depth + 1))
        else:
            active.discard(key)
            total = 1 + sum(sizes[id(kid)] for kid in pending)
            sizes[key] = total
            budget = ALIAS_BUDGET_BASE + ALIAS_BUDGET_RATIO * distinct
            if total > budget:
                raise AliasBomb(
                    f"aliases expand the document beyond {budget} nodes (alias expansion bomb); "
                    "refused before reading it"
                )


def node_children(node: Any) -> Any:
    """The children of a composed YAML node (keys and values of a mapping)."""
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return ()


def object_children(value: Any) -> Any:
    """The children of a parsed value (keys and values of a dict)."""
    if isinstance(value, dict):
        return [part for pair in value.items() for part in pair]
    if isinstance(value, (list, tuple)):
        return value
    return ()
