"""Calico selectors: trees with their text and an oracle, selector text, parsed selectors,
and selector text over a vocabulary."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ..selector import Selector
from ._vocabulary import Vocabulary, _check_bool, _check_size

__all__ = ["SelectorExpr", "selector_exprs", "selector_texts", "selectors"]


_COMPARISONS = ("==", "!=", "contains", "starts with", "ends with")
_SET_OPS = ("in", "not in")
_LEAF_OPS = _COMPARISONS + _SET_OPS + ("has",)


@attrs.frozen
class SelectorExpr:
    """A selector as a tree, with the text it was written as.

    ``op`` is one of ``==``, ``!=``, ``contains``, ``starts with``, ``ends with``, ``in``,
    ``not in``, ``has``, ``all``, ``global``, ``!``, ``&&``, ``||``. ``text`` is one way of
    writing it (quotes and blanks vary); :meth:`matches` is an independent statement of
    the semantics of Calico's selector operators, handy as a test oracle.
    """

    op: str
    key: str = ""
    values: tuple[str, ...] = ()
    children: tuple["SelectorExpr", ...] = ()
    text: str = attrs.field(default="", eq=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        op, key = self.op, self.key
        if op in ("all", "global"):
            return True
        if op == "!":
            return not self.children[0].matches(labels)
        if op == "&&":
            return all(child.matches(labels) for child in self.children)
        if op == "||":
            return any(child.matches(labels) for child in self.children)
        present = key in labels
        if op == "has":
            return present
        if op == "!=":
            return not present or labels[key] != self.values[0]
        if op == "not in":
            return not present or labels[key] not in self.values
        if not present:
            return False
        value = labels[key]
        if op == "==":
            return value == self.values[0]
        if op == "in":
            return value in self.values
        if op == "contains":
            return self.values[0] in value
        if op == "starts with":
            return value.startswith(self.values[0])
        if op == "ends with":
            return value.endswith(self.values[0])
        raise AssertionError(op)

    def plain_text(self) -> str:
        """The tree written with one blank around operators and double quotes."""
        return _render(None, self, False)

    def canonical_text(self) -> str:
        """Calico's canonical text for the tree: the form ``str(Selector)`` prints."""
        op = self.op
        if op in ("all", "global"):
            return f"{op}()"
        if op == "has":
            return f"has({self.key})"
        if op in _COMPARISONS:
            return f"{self.key} {op} {_canonical_quote(self.values[0])}"
        if op in _SET_OPS:
            items = ", ".join(_canonical_quote(v) for v in sorted(set(self.values), key=lambda v: v.encode()))
            return f"{self.key} {op} {{{items}}}"
        if op == "!":
            inner, negated = self.children[0], True
            while inner.op == "!":
                inner, negated = inner.children[0], not negated
            return ("!" if negated else "") + inner.canonical_text()
        return "(" + f" {op} ".join(child.canonical_text() for child in self.children) + ")"

    def __str__(self) -> str:
        return self.text


def _canonical_quote(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


_BLANK = st.sampled_from(("", " ", "  ", "\t"))
_SPACE = st.sampled_from((" ", "  ", "\t"))


def _quoted(draw: Any, value: str, variants: bool) -> str:
    if '"' in value:
        return f"'{value}'"
    if "'" in value or not variants:
        return f'"{value}"'
    quote = draw(st.sampled_from(('"', "'")))
    return f"{quote}{value}{quote}"


def _blank(draw: Any, variants: bool) -> str:
    return draw(_BLANK) if variants else ""


def _render(draw: Any, expr: SelectorExpr, variants: bool) -> str:
    """Text for ``expr``; with ``variants``, quotes, blanks and spellings vary."""

    def b() -> str:
        return _blank(draw, variants)

    op = expr.op
    if op in ("all", "global"):
        return f"{op}({b()})"
    if op == "has":
        return f"has({b()}{expr.key}{b()})"
    if op in ("==", "!="):
        return f"{expr.key}{b()}{op}{b()}{_quoted(draw, expr.values[0], variants)}"
    if op in ("contains", "starts with", "ends with"):
        word = op
        if variants and op != "contains":
            first, second = op.split(" ")
            word = first + draw(st.sampled_from((" ", "", "  ", "\t"))) + second
        space = draw(_SPACE) if variants else " "
        return f"{expr.key}{space}{word}{draw(_SPACE) if variants else ' '}{_quoted(draw, expr.values[0], variants)}"
    if op in _SET_OPS:
        word = op
        if variants and op == "not in":
            word = "not" + draw(st.sampled_from((" ", "", "\t"))) + "in"
        items = [_quoted(draw, v, variants) for v in expr.values]
        sep = f"{b()},{b()}" if variants else ", "
        body = sep.join(items)
        if variants and items and draw(st.booleans()):
            body += ","
        space = draw(_SPACE) if variants else " "
        return f"{expr.key}{space}{word}{b() if variants else ' '}{{{b()}{body}{b()}}}"
    if op == "!":
        child = expr.children[0]
        inner = _render(draw, child, variants)
        if child.op in ("&&", "||"):
            inner = f"({b()}{inner}{b()})"
        return f"!{b()}{inner}"
    # && and ||
    parts = []
    for child in expr.children:
        text = _render(draw, child, variants)
        # Nested n-ary nodes keep their parentheses (the parser would otherwise merge
        # them into one node); with variants, other operands sometimes get redundant ones.
        if child.op in ("&&", "||") or (variants and draw(st.integers(0, 4)) == 0):
            text = f"({b()}{text}{b()})"
        parts.append(text)
    sep = f"{b()}{op}{b()}" if variants else f" {op} "
    return sep.join(parts)


def _leaves(keys: Sequence[str], values: Sequence[str], allow_global: bool, allow_all: bool) -> st.SearchStrategy[SelectorExpr]:
    key = st.sampled_from(keys)
    value = st.sampled_from(values)
    options: list[st.SearchStrategy[SelectorExpr]] = [
        st.builds(lambda k, v: SelectorExpr("==", k, (v,)), key, value),
        st.builds(lambda k: SelectorExpr("has", k), key),
        st.builds(lambda o, k, v: SelectorExpr(o, k, (v,)), st.sampled_from(_COMPARISONS[1:]), key, value),
        st.builds(lambda o, k, vs: SelectorExpr(o, k, tuple(vs)), st.sampled_from(_SET_OPS), key, st.lists(value, max_size=3)),
    ]
    if allow_all:
        options.append(st.just(SelectorExpr("all")))
    if allow_global:
        options.append(st.just(SelectorExpr("global")))
    return st.one_of(options)


def _trees(keys: Sequence[str], values: Sequence[str], max_leaves: int, allow_global: bool, allow_all: bool = True) -> st.SearchStrategy[SelectorExpr]:
    def extend(children: st.SearchStrategy[SelectorExpr]) -> st.SearchStrategy[SelectorExpr]:
        return st.one_of(
            children.map(lambda c: SelectorExpr("!", children=(c,))),
            st.builds(lambda o, cs: SelectorExpr(o, children=tuple(cs)), st.sampled_from(("&&", "||")), st.lists(children, min_size=2, max_size=3)),
        )

    return st.recursive(_leaves(keys, values, allow_global, allow_all), extend, max_leaves=max_leaves)


_SELECTOR_KEYS = ("app", "role", "a", "example.com/team", "x.y/z-1", "in", "has", "all")
_SELECTOR_VALUES = ("web", "db", "", "a", "we", "b", "it's", 'say "hi"', "x y", "\\", "{}")


@st.composite
def _expr_with_text(draw: st.DrawFn, trees: st.SearchStrategy[SelectorExpr], variants: bool) -> SelectorExpr:
    expr = draw(trees)
    return attrs.evolve(expr, text=_render(draw, expr, variants))


def selector_exprs(
    *,
    keys: Sequence[str] | None = None,
    values: Sequence[str] | None = None,
    max_leaves: int = 6,
    allow_global: bool = True,
    variants: bool = True,
) -> st.SearchStrategy[SelectorExpr]:
    """Selector trees with a text rendering (``expr.text``) and an oracle (``expr.matches``).

    Every operator appears; with ``variants`` the text uses both quote styles, optional
    blanks and tabs, ``startswith``/``notin`` spellings, redundant parentheses and trailing
    commas in sets. ``keys``/``values`` replace the default words.
    """
    keys = tuple(keys) if keys is not None else _SELECTOR_KEYS
    values = tuple(values) if values is not None else _SELECTOR_VALUES
    if not keys:
        raise InvalidArgument("keys must not be empty")
    if not values:
        raise InvalidArgument("values must not be empty")
    for key in keys:
        if not key or len(key) > 512 or any(not (c.isascii() and (c.isalnum() or c in "_./-")) for c in key):
            raise InvalidArgument(f"{key!r} is not a selector label name ([A-Za-z0-9_./-], 1-512 bytes)")
    for value in values:
        if "'" in value and '"' in value:
            raise InvalidArgument(f"{value!r} cannot be quoted: it holds both quote characters")
    _check_size("max_leaves", max_leaves, 1, 100)
    _check_bool("allow_global", allow_global)
    _check_bool("variants", variants)
    return _expr_with_text(_trees(keys, values, max_leaves, allow_global), variants)


def selector_texts(**kwargs: Any) -> st.SearchStrategy[str]:
    """Valid selector text (same keyword arguments as :func:`selector_exprs`)."""
    return selector_exprs(**kwargs).map(lambda e: e.text)


def selectors(**kwargs: Any) -> st.SearchStrategy[Selector]:
    """:class:`netpolicy.Selector` values (same keyword arguments as
    :func:`selector_exprs`); ``Selector.parse(str(s)) == s`` for every one."""
    return selector_texts(**kwargs).map(Selector.parse)


def _vocab_selector(draw: st.DrawFn, vocab: Vocabulary, max_leaves: int = 3, keys: Sequence[str] | None = None, values: Sequence[str] | None = None, allow_all: bool = True) -> str:
    if keys is None and vocab.pairs and draw(st.booleans()):
        # A label some endpoint has: such selectors match often.
        key, value = draw(st.sampled_from(vocab.pairs))
        return draw(st.sampled_from((f"{key} == '{value}'", f"has({key})", f"{key} in {{'{value}', 'zz'}}", f"!has({key})")))
    trees = _trees(tuple(keys or vocab.label_keys), tuple(values or vocab.selector_values), max_leaves, allow_global=False, allow_all=allow_all)
    expr = draw(trees)
    return _render(draw, expr, variants=draw(st.booleans()))
