"""Walks over selector trees, none of them recursive (trees can be thousands of levels
deep): every node, the label names read, the height, and a copy with labels renamed."""

from __future__ import annotations

from typing import Callable, Iterator

import attrs

from ._ast import And, LabelLeaf, Leaf, Node, Not, Or

__all__ = ["walk", "label_keys", "depth", "map_labels"]


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, pre-order, left to right (no recursion)."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, Not):
            stack.append(item.operand)
        elif isinstance(item, (And, Or)):
            stack.extend(reversed(item.operands))


def label_keys(node: Node) -> frozenset[str]:
    """The label names the tree reads."""
    return frozenset(n.label for n in walk(node) if isinstance(n, LabelLeaf))


def depth(node: Node) -> int:
    """Height of the tree (a leaf has depth 1)."""
    best = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        item, d = stack.pop()
        if d > best:
            best = d
        if isinstance(item, Not):
            stack.append((item.operand, d + 1))
        elif isinstance(item, (And, Or)):
            stack.extend((op, d + 1) for op in item.operands)
    return best


def map_labels(node: Node, fn: Callable[[str], str]) -> Node:
    """A copy of the tree with every leaf label name replaced by ``fn(name)``."""
    done: list[Node] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, expanded = stack.pop()
        if isinstance(item, LabelLeaf):
            done.append(attrs.evolve(item, label=fn(item.label)))  # type: ignore[misc]
        elif isinstance(item, Leaf):
            done.append(item)
        elif isinstance(item, Not):
            if expanded:
                done.append(Not(done.pop()))
            else:
                stack.append((item, True))
                stack.append((item.operand, False))
        elif isinstance(item, (And, Or)):
            if expanded:
                n = len(item.operands)
                ops = done[-n:]
                del done[-n:]
                done.append(type(item)(ops))
            else:
                stack.append((item, True))
                stack.extend((op, False) for op in reversed(item.operands))
        else:
            raise TypeError(f"unknown selector node {type(item).__name__}")
    (result,) = done
    return result
