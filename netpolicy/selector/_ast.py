"""The selector syntax tree: small frozen nodes, their canonical text and their flat
post-order form (the walks over trees are in :mod:`._walk`).

Trees can be thousands of levels deep (``!(!(!(...)))``), so nothing here recurses in
Python: rendering, equality, hashing, ``repr`` and rebuilding use explicit stacks.
Two nodes are equal when their canonical texts are (the canonical form is injective on
trees: every group is parenthesised and every leaf spelled one way).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, TypeVar, Union

import attrs

__all__ = [
    "Node",
    "Leaf",
    "LabelLeaf",
    "ValueLeaf",
    "SetLeaf",
    "Eq",
    "Ne",
    "Contains",
    "StartsWith",
    "EndsWith",
    "In",
    "NotIn",
    "Has",
    "All",
    "Global",
    "Not",
    "And",
    "Or",
    "render",
    "quote",
    "to_postfix",
    "trusted",
    "as_set",
    "from_postfix",
]

_LABEL_RE = re.compile(r"[A-Za-z0-9_./-]+")


def _check_label(_inst: object, _attr: object, value: str) -> None:
    if type(value) is not str or _LABEL_RE.fullmatch(value) is None:
        raise ValueError(f"invalid label name {value!r}: need 1+ characters of [A-Za-z0-9_./-]")


def _check_value(_inst: object, _attr: object, value: str) -> None:
    if type(value) is not str:
        raise TypeError(f"selector value must be str, not {type(value).__name__}")
    if '"' in value and "'" in value:
        raise ValueError(f"selector value {value!r} holds both quote characters")


def _check_values(inst: object, attr: object, values: tuple[str, ...]) -> None:
    for v in values:
        _check_value(inst, attr, v)


def as_set(values: Iterable[str]) -> tuple[str, ...]:
    """Set items as Calico keeps them: sorted, de-duplicated."""
    # Calico sorts bytewise; code-point order is UTF-8 byte order.
    if isinstance(values, str):
        raise TypeError("set values must be an iterable of str, not a str")
    return tuple(sorted(set(values)))


def _as_operands(operands: Iterable[Node]) -> tuple[Node, ...]:
    ops = tuple(operands)
    if len(ops) < 2:
        raise ValueError("And/Or need at least two operands")
    for op in ops:
        if not isinstance(op, Node):
            raise TypeError(f"operand must be a Node, not {type(op).__name__}")
    return ops


def _check_node(_inst: object, _attr: object, value: Node) -> None:
    if not isinstance(value, Node):
        raise TypeError(f"operand must be a Node, not {type(value).__name__}")


class Node:
    """Base of every selector tree node."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self is other or (type(self) is type(other) and render(self) == render(other))

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((type(self).__name__, render(self)))

    def __repr__(self) -> str:
        return _repr(self)

    def __str__(self) -> str:
        return render(self, faithful=True)

    def __reduce__(self) -> tuple[Any, tuple[tuple[tuple[Any, ...], ...]]]:
        # Flat post-order form: pickling a deep tree must not recurse.
        return (from_postfix, (to_postfix(self),))


class Leaf(Node):
    """A node without children."""

    __slots__ = ()


class LabelLeaf(Leaf):
    """A leaf that reads one label."""

    __slots__ = ()
    label: str


class ValueLeaf(LabelLeaf):
    """``label <op> "value"``."""

    __slots__ = ()
    value: str
    OP: str = ""


class SetLeaf(LabelLeaf):
    """``label <op> {values}`` with sorted, de-duplicated values."""

    __slots__ = ()
    values: tuple[str, ...]
    OP: str = ""


@attrs.frozen(eq=False, repr=False)
class Eq(ValueLeaf):
    """``label == "value"``: present with exactly that value."""

    label: str = attrs.field(validator=_check_label)
    value: str = attrs.field(validator=_check_value)
    OP = " == "


@attrs.frozen(eq=False, repr=False)
class Ne(ValueLeaf):
    """``label != "value"``: absent, or present with another value."""

    label: str = attrs.field(validator=_check_label)
    value: str = attrs.field(validator=_check_value)
    OP = " != "


@attrs.frozen(eq=False, repr=False)
class Contains(ValueLeaf):
    """``label contains "value"``: present and holding the substring."""

    label: str = attrs.field(validator=_check_label)
    value: str = attrs.field(validator=_check_value)
    OP = " contains "


@attrs.frozen(eq=False, repr=False)
class StartsWith(ValueLeaf):
    """``label starts with "value"``: present with that prefix."""

    label: str = attrs.field(validator=_check_label)
    value: str = attrs.field(validator=_check_value)
    OP = " starts with "


@attrs.frozen(eq=False, repr=False)
class EndsWith(ValueLeaf):
    """``label ends with "value"``: present with that suffix."""

    label: str = attrs.field(validator=_check_label)
    value: str = attrs.field(validator=_check_value)
    OP = " ends with "


@attrs.frozen(eq=False, repr=False)
class In(SetLeaf):
    """``label in {...}``: present with one of the values."""

    label: str = attrs.field(validator=_check_label)
    values: tuple[str, ...] = attrs.field(converter=as_set, validator=_check_values)
    OP = " in "


@attrs.frozen(eq=False, repr=False)
class NotIn(SetLeaf):
    """``label not in {...}``: absent, or present with none of the values."""

    label: str = attrs.field(validator=_check_label)
    values: tuple[str, ...] = attrs.field(converter=as_set, validator=_check_values)
    OP = " not in "


@attrs.frozen(eq=False, repr=False)
class Has(LabelLeaf):
    """``has(label)``: the label is present (any value, even empty)."""

    label: str = attrs.field(validator=_check_label)


@attrs.frozen(eq=False, repr=False)
class All(Leaf):
    """``all()``: matches every label map."""


@attrs.frozen(eq=False, repr=False)
class Global(Leaf):
    """``global()``: matches every label map (special only in namespace-selector rewriting)."""


@attrs.frozen(eq=False, repr=False)
class Not(Node):
    """``!operand``."""

    operand: Node = attrs.field(validator=_check_node)


@attrs.frozen(eq=False, repr=False)
class And(Node):
    """``(op1 && op2 ...)``, two or more operands."""

    operands: tuple[Node, ...] = attrs.field(converter=_as_operands)


@attrs.frozen(eq=False, repr=False)
class Or(Node):
    """``(op1 || op2 ...)``, two or more operands."""

    operands: tuple[Node, ...] = attrs.field(converter=_as_operands)


_N = TypeVar("_N", bound=Node)


def trusted(cls: type[_N], **fields: Any) -> _N:
    """A leaf built without validation, for fields the tokenizer has already checked."""
    node = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(node, name, value)
    return node


def quote(value: str) -> str:
    """Calico's quoting: double quotes unless the value holds a double quote."""
    q = "'" if '"' in value else '"'
    return q + value + q


def _leaf_text(node: Leaf) -> str:
    if isinstance(node, ValueLeaf):
        return node.label + node.OP + quote(node.value)
    if isinstance(node, SetLeaf):
        return node.label + node.OP + "{" + ", ".join(map(quote, node.values)) + "}"
    if isinstance(node, Has):
        return "has(" + node.label + ")"
    if isinstance(node, All):
        return "all()"
    if isinstance(node, Global):
        return "global()"
    raise TypeError(f"unknown selector node {type(node).__name__}")


_Item = Union[str, Node]


def render(node: Node, faithful: bool = False) -> str:
    """Calico's canonical text of ``node``.

    With ``faithful`` (what ``str()`` prints), a ``!`` directly applied to another ``!`` gets parentheses
    (``!(!x)``) so that the text parses back to this exact tree; Calico's canonical text
    ``!!x`` would reparse as ``x``.
    """
    if isinstance(node, Leaf):
        return _leaf_text(node)
    out: list[str] = []
    stack: list[_Item] = [node]
    pop, push, emit = stack.pop, stack.append, out.append
    while stack:
        item = pop()
        if isinstance(item, str):
            emit(item)
        elif isinstance(item, Leaf):
            emit(_leaf_text(item))
        elif isinstance(item, Not):
            emit("!")
            if faithful and isinstance(item.operand, Not):
                push(")")
                push(item.operand)
                emit("(")
            else:
                push(item.operand)
        elif isinstance(item, (And, Or)):
            sep = " && " if isinstance(item, And) else " || "
            push(")")
            ops = item.operands
            for i in range(len(ops) - 1, 0, -1):
                push(ops[i])
                push(sep)
            push(ops[0])
            emit("(")
        else:
            raise TypeError(f"unknown selector node {type(item).__name__}")
    return "".join(out)


def _repr(node: Node) -> str:
    out: list[str] = []
    stack: list[_Item] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, ValueLeaf):
            out.append(f"{type(item).__name__}({item.label!r}, {item.value!r})")
        elif isinstance(item, SetLeaf):
            out.append(f"{type(item).__name__}({item.label!r}, {item.values!r})")
        elif isinstance(item, Has):
            out.append(f"Has({item.label!r})")
        elif isinstance(item, Leaf):
            out.append(f"{type(item).__name__}()")
        elif isinstance(item, Not):
            out.append("Not(")
            stack.append(")")
            stack.append(item.operand)
        elif isinstance(item, (And, Or)):
            out.append(f"{type(item).__name__}((")
            stack.append("))")
            ops = item.operands
            for i in range(len(ops) - 1, 0, -1):
                stack.append(ops[i])
                stack.append(", ")
            stack.append(ops[0])
    return "".join(out)


_KINDS: dict[str, type[Node]] = {}


def to_postfix(node: Node) -> tuple[tuple[Any, ...], ...]:
    """The tree as a flat post-order tuple of ``(kind, *fields)`` entries."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        item, expanded = stack.pop()
        kind = type(item).__name__
        if isinstance(item, ValueLeaf):
            out.append((kind, item.label, item.value))
        elif isinstance(item, SetLeaf):
            out.append((kind, item.label, item.values))
        elif isinstance(item, Has):
            out.append((kind, item.label))
        elif isinstance(item, Leaf):
            out.append((kind,))
        elif expanded:
            out.append((kind, len(item.operands)) if isinstance(item, (And, Or)) else (kind,))
        else:
            stack.append((item, True))
            if isinstance(item, Not):
                stack.append((item.operand, False))
            elif isinstance(item, (And, Or)):
                stack.extend((op, False) for op in reversed(item.operands))
    return tuple(out)


def from_postfix(entries: Iterable[tuple[Any, ...]]) -> Node:
    """Rebuild a tree from :func:`to_postfix` output."""
    if not _KINDS:
        kinds: tuple[type[Node], ...] = (
            Eq, Ne, Contains, StartsWith, EndsWith, In, NotIn, Has, All, Global, Not, And, Or
        )
        _KINDS.update((k.__name__, k) for k in kinds)
    done: list[Node] = []
    for kind, *fields in entries:
        cls = _KINDS[kind]
        if cls is Not:
            done.append(Not(done.pop()))
        elif cls is And or cls is Or:
            n = fields[0]
            if not 2 <= n <= len(done):
                raise ValueError("malformed selector tree")
            ops = done[-n:]
            del done[-n:]
            done.append(cls(ops))
        else:
            done.append(cls(*fields))
    if len(done) != 1:
        raise ValueError("malformed selector tree")
    return done[0]
