"""Label restrictions: per-label lower bounds a selector puts on a label map.

An optimisation aid for indexes (Calico's ``LabelRestrictions``); it never decides a
match. ``one_of`` is None when no value bound is known and an empty frozenset when the
selector can match no value at all (``a == 'x' && a == 'y'``).
"""

from __future__ import annotations

from typing import Mapping, Optional

import attrs

from . import _ast

__all__ = ["LabelRestriction", "label_restrictions"]


@attrs.frozen
class LabelRestriction:
    """What a selector needs of one label for a match to be possible."""

    must_be_present: bool = False
    must_be_absent: bool = False
    one_of: Optional[frozenset[str]] = None


_Map = dict[str, LabelRestriction]
_PRESENT = LabelRestriction(must_be_present=True)
_NOTHING = LabelRestriction()


def _leaf(node: _ast.Node) -> _Map:
    if isinstance(node, _ast.Eq):
        return {node.label: LabelRestriction(True, False, frozenset([node.value]))}
    if isinstance(node, _ast.In):
        # Calico keeps no value list for an empty set literal (a nil slice).
        return {node.label: LabelRestriction(True, False, frozenset(node.values) or None)}
    if isinstance(node, (_ast.Has, _ast.Contains, _ast.StartsWith, _ast.EndsWith)):
        return {node.label: _PRESENT}
    return {}  # !=, not in, all(), global()


def _and(parts: list[_Map]) -> _Map:
    out: _Map = {}
    for part in parts:
        for name, r in part.items():
            base = out.get(name, _NOTHING)
            values = base.one_of
            if values is None:
                values = r.one_of
            elif r.one_of is not None:
                values = values & r.one_of
            out[name] = LabelRestriction(
                base.must_be_present or r.must_be_present, base.must_be_absent or r.must_be_absent, values
            )
    return out


def _or(parts: list[_Map]) -> _Map:
    out = dict(parts[0])
    for part in parts[1:]:
        for name, r in list(out.items()):
            other = part.get(name, _NOTHING)
            present = r.must_be_present and other.must_be_present
            absent = r.must_be_absent and other.must_be_absent
            values: Optional[frozenset[str]] = None
            if present and r.one_of is not None and other.one_of is not None:
                values = r.one_of | other.one_of
            if present or absent:
                out[name] = LabelRestriction(present, absent, values)
            else:
                del out[name]
    return out


def label_restrictions(root: _ast.Node) -> Mapping[str, LabelRestriction]:
    """Calico's label restrictions of the tree (computed without recursion)."""
    done: list[_Map] = []
    stack: list[tuple[_ast.Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if isinstance(node, _ast.Leaf):
            done.append(_leaf(node))
        elif isinstance(node, _ast.Not):
            # Only !has(x) says something: x must be absent. Other negations say nothing.
            if isinstance(node.operand, _ast.Has):
                done.append({node.operand.label: LabelRestriction(must_be_absent=True)})
            else:
                done.append({})
        elif not expanded:
            assert isinstance(node, (_ast.And, _ast.Or))
            stack.append((node, True))
            stack.extend((op, False) for op in reversed(node.operands))
        else:
            assert isinstance(node, (_ast.And, _ast.Or))
            n = len(node.operands)
            parts = done[-n:]
            del done[-n:]
            done.append(_and(parts) if isinstance(node, _ast.And) else _or(parts))
    (result,) = done
    return result
