"""Turn a selector tree into a fast ``labels -> bool`` function.

Shallow trees (nearly all) become one Python expression compiled once, such as
``lambda L: L.get('app') == 'web' and 'tier' in L``. Absent labels fall out of
``dict.get`` returning None: ``None == v`` is false, ``None != v`` true, ``None in S``
false, ``None not in S`` true, as Calico wants. Very deep or very large trees are
run by a small stack machine instead, so matching never recurses.
"""

from __future__ import annotations

from typing import Callable, Mapping, Union

from . import _ast, _walk

__all__ = ["compile_matcher", "Matcher"]

Matcher = Callable[[Mapping[str, str]], bool]

# Past these, Python's own compiler may refuse the expression (nesting) or take long.
_MAX_SOURCE_DEPTH = 40
_MAX_SOURCE_NODES = 2000


def _leaf_source(node: _ast.Leaf) -> str:
    if isinstance(node, (_ast.All, _ast.Global)):
        return "True"
    assert isinstance(node, _ast.LabelLeaf)
    k = repr(node.label)
    if isinstance(node, _ast.Has):
        return f"({k} in L)"
    if isinstance(node, _ast.SetLeaf):
        if not node.values:
            return "False" if isinstance(node, _ast.In) else "True"
        items = "{" + ", ".join(map(repr, node.values)) + "}"  # folded to a frozenset constant
        op = "in" if isinstance(node, _ast.In) else "not in"
        return f"(L.get({k}) {op} {items})"
    assert isinstance(node, _ast.ValueLeaf)
    v = repr(node.value)
    if isinstance(node, _ast.Eq):
        return f"(L.get({k}) == {v})"
    if isinstance(node, _ast.Ne):
        return f"(L.get({k}) != {v})"
    if node.value == "":  # contains/starts/ends with "": true whenever present
        return f"({k} in L)"
    # An absent label reads as "", which cannot contain a non-empty value.
    if isinstance(node, _ast.Contains):
        return f"({v} in (L.get({k}) or ''))"
    if isinstance(node, _ast.StartsWith):
        return f"(L.get({k}) or '').startswith({v})"
    if isinstance(node, _ast.EndsWith):
        return f"(L.get({k}) or '').endswith({v})"
    raise TypeError(f"unknown selector node {type(node).__name__}")


def _source(root: _ast.Node) -> str:
    out: list[str] = []
    stack: list[Union[str, _ast.Node]] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, _ast.Leaf):
            out.append(_leaf_source(item))
        elif isinstance(item, _ast.Not):
            out.append("(not ")
            stack.append(")")
            stack.append(item.operand)
        else:
            assert isinstance(item, (_ast.And, _ast.Or))
            sep = " and " if isinstance(item, _ast.And) else " or "
            out.append("(")
            stack.append(")")
            ops = item.operands
            for i in range(len(ops) - 1, 0, -1):
                stack.append(ops[i])
                stack.append(sep)
            stack.append(ops[0])
    return "".join(out)


def _leaf_function(node: _ast.Leaf) -> Matcher:
    fn: Matcher = eval("lambda L: " + _leaf_source(node), {"__builtins__": {}})  # noqa: S307
    return fn


_LEAF, _NOT, _AND, _OR = 0, 1, 2, 3


def _stack_machine(root: _ast.Node) -> Matcher:
    """Post-order program run without recursion (for pathological trees)."""
    program: list[tuple[int, object]] = []
    stack: list[tuple[_ast.Node, bool]] = [(root, False)]
    while stack:
        item, expanded = stack.pop()
        if isinstance(item, _ast.Leaf):
            program.append((_LEAF, _leaf_function(item)))
        elif expanded:
            if isinstance(item, _ast.Not):
                program.append((_NOT, None))
            else:
                assert isinstance(item, (_ast.And, _ast.Or))
                op = _AND if isinstance(item, _ast.And) else _OR
                program.append((op, len(item.operands)))
        else:
            stack.append((item, True))
            if isinstance(item, _ast.Not):
                stack.append((item.operand, False))
            else:
                assert isinstance(item, (_ast.And, _ast.Or))
                stack.extend((op, False) for op in reversed(item.operands))
    code = tuple(program)

    def run(labels: Mapping[str, str]) -> bool:
        values: list[bool] = []
        for op, arg in code:
            if op == _LEAF:
                values.append(arg(labels))  # type: ignore[operator]
            elif op == _NOT:
                values[-1] = not values[-1]
            else:
                n: int = arg  # type: ignore[assignment]
                args = values[-n:]
                del values[-n:]
                values.append(all(args) if op == _AND else any(args))
        return values[0]

    return run


def compile_matcher(root: _ast.Node) -> Matcher:
    """A function telling whether a label map matches the tree."""
    nodes = 0
    for _ in _walk.walk(root):
        nodes += 1
        if nodes > _MAX_SOURCE_NODES:
            return _stack_machine(root)
    if _walk.depth(root) > _MAX_SOURCE_DEPTH:
        return _stack_machine(root)
    fn: Matcher = eval("lambda L: " + _source(root), {"__builtins__": {}})  # noqa: S307
    return fn
