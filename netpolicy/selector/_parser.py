"""Parse selector text into a tree.

The tokenizer (``_tokenizer``) feeds an LALR(1) parser whose tables Lark builds, once, from
``selector.lark``. The parse loop below runs those tables directly on the tokenizer's
tuples, which is several times faster than going through Lark's token objects; reductions
follow Lark's tree-shaping rules (``_``-filtered terminals, inlined ``_`` rules, ``?``
rules passing a single child through) and build ``_ast`` nodes instead of trees.

LALR parsing keeps explicit stacks, so deep nesting costs no Python recursion. No Lark
exception leaves this module: every failure is a SelectorSyntaxError.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Callable, Iterator

import lark
from lark.lexer import Lexer, LexerState, Token
from lark.parsers.lalr_analysis import Shift

from ..errors import SelectorSyntaxError
from . import _ast
from ._tokenizer import Tok, tokenize

__all__ = ["parse_tree", "GRAMMAR"]

GRAMMAR = resources.files(__package__).joinpath("selector.lark").read_text(encoding="utf-8")

_ALL = _ast.All()
_GLOBAL = _ast.Global()


def _negation(c: list[Any]) -> _ast.Node:
    node: _ast.Node = c[-1]
    return _ast.Not(node) if len(c) % 2 == 0 else node  # len(c) - 1 "!"s


# Rule callbacks by rule name or alias (see selector.lark); each gets the kept children.
_BUILD: dict[str, Callable[[list[Any]], Any]] = {
    "start": lambda c: c[0],
    "or_expr": _ast.Or,
    "and_expr": _ast.And,
    "negation": _negation,
    # The tokenizer has already checked labels and values: build leaves unchecked.
    "has": lambda c: _ast.trusted(_ast.Has, label=c[0]),
    "all": lambda c: _ALL,
    "global_": lambda c: _GLOBAL,
    "eq": lambda c: _ast.trusted(_ast.Eq, label=c[0], value=c[1]),
    "ne": lambda c: _ast.trusted(_ast.Ne, label=c[0], value=c[1]),
    "contains": lambda c: _ast.trusted(_ast.Contains, label=c[0], value=c[1]),
    "starts_with": lambda c: _ast.trusted(_ast.StartsWith, label=c[0], value=c[1]),
    "ends_with": lambda c: _ast.trusted(_ast.EndsWith, label=c[0], value=c[1]),
    "in_": lambda c: _ast.trusted(_ast.In, label=c[0], values=_ast.as_set(c[1])),
    "not_in": lambda c: _ast.trusted(_ast.NotIn, label=c[0], values=_ast.as_set(c[1])),
    "set": lambda c: c,
}


class _NoLexer(Lexer):
    """Lark needs a lexer to build the parser; the tokens come from _tokenizer instead."""

    __future_interface__ = 2

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        raise NotImplementedError


_LARK = lark.Lark(GRAMMAR, parser="lalr", lexer=_NoLexer)
try:
    _TABLE = _LARK.parser.parser.parser.parse_table
except AttributeError as e:  # pragma: no cover - guards against a Lark reorganisation
    raise ImportError(f"unsupported Lark {lark.__version__}: no LALR parse table ({e})") from e
_STATES: dict[int, dict[str, tuple[Any, Any]]] = _TABLE.states
_START: int = _TABLE.start_states["start"]
_END: int = _TABLE.end_states["start"]

_DROP, _KEEP, _SPLICE = 0, 1, 2
# A reduction: (size, goto symbol, function of the popped values giving the new value).
_Reduction = tuple[int, str, Callable[[list[Any]], Any]]


def _reduction(rule: Any) -> _Reduction:
    """Lark's tree shaping for one rule, as a small generated function: terminals named
    ``_X`` are dropped, children from ``_``-named (helper) rules are spliced in, a helper
    rule returns its child list, a ``?`` rule with one child returns that child, and any
    other rule calls its builder from _BUILD with the kept children."""
    plan = []
    for sym in rule.expansion:
        if sym.is_term:
            plan.append(_DROP if sym.filter_out else _KEEP)
        else:
            plan.append(_SPLICE if sym.name.startswith("_") else _KEEP)
    name = rule.alias or rule.origin.name
    fn = _BUILD.get(name)
    body = []
    if plan and plan[0] == _SPLICE:  # left-recursive helper: extend its list in place
        body.append("c = p[0]")
        rest = list(enumerate(plan))[1:]
    else:
        body.append("c = []")
        rest = list(enumerate(plan))
    for j, step in rest:
        if step == _KEEP:
            body.append(f"c.append(p[{j}])")
        elif step == _SPLICE:
            body.append(f"c.extend(p[{j}])")
    single = plan.count(_KEEP) == 1 and _SPLICE not in plan
    if name.startswith("_"):
        body.append("return c")
    elif rule.options.expand1 and not rule.alias and single:
        body.append("return c[0]")
    elif fn is None:
        raise ImportError(f"selector.lark rule {str(name)!r} has no builder")
    elif rule.options.expand1 and not rule.alias:
        body.append("return c[0] if len(c) == 1 else fn(c)")
    else:
        body.append("return fn(c)")
    namespace: dict[str, Any] = {"fn": fn}
    exec("def reduce(p):\n    " + "\n    ".join(body), namespace)  # noqa: S102
    return (len(plan), str.__str__(rule.origin.name), namespace["reduce"])


def _compile_table() -> dict[int, dict[str, tuple[bool, Any]]]:
    reductions: dict[Any, _Reduction] = {}
    table: dict[int, dict[str, tuple[bool, Any]]] = {}
    for state, row in _STATES.items():
        out: dict[str, tuple[bool, Any]] = {}
        for symbol, (action, arg) in row.items():
            symbol = str.__str__(symbol)  # Lark names are Token objects: slow dict keys
            if action is Shift:
                out[symbol] = (True, arg)
            else:
                if arg not in reductions:
                    reductions[arg] = _reduction(arg)
                out[symbol] = (False, reductions[arg])
        table[state] = out
    return table


_PARSE_TABLE = _compile_table()

_NAMES = {
    "LABEL": "label",
    "STRING": "string",
    "HAS": "has()",
    "ALL": "all()",
    "GLOBAL": "global()",
    "NOT": "'!'",
    "_EQ": "'=='",
    "_NE": "'!='",
    "_CONTAINS": "'contains'",
    "_STARTSWITH": "'starts with'",
    "_ENDSWITH": "'ends with'",
    "_IN": "'in'",
    "_NOTIN": "'not in'",
    "_AND": "'&&'",
    "_OR": "'||'",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_LBRACE": "'{'",
    "_RBRACE": "'}'",
    "_COMMA": "','",
    "$END": "end of selector",
}
_OPERATORS = frozenset(["_EQ", "_NE", "_CONTAINS", "_STARTSWITH", "_ENDSWITH", "_IN", "_NOTIN"])
_EXPRESSION = frozenset(["LABEL", "HAS", "ALL", "GLOBAL", "NOT", "_LPAR"])


def _describe(kind: str, value: str) -> str:
    name = _NAMES.get(kind, kind)
    if kind in ("LABEL", "STRING"):
        return f"{name} {value!r}"
    return name


def _reason(expected: set[str], kind: str, value: str, open_groups: int) -> str:
    if expected <= _OPERATORS:
        want = "operator after label"
    elif expected == {"STRING"}:
        want = "string literal after operator"
    elif expected == {"_LBRACE"}:
        want = "set literal '{...}' after 'in'"
    elif expected <= {"STRING", "_RBRACE"}:
        want = "string or '}' in set"
    elif expected <= {"_COMMA", "_RBRACE"}:
        want = "',' or '}' in set"
    elif expected & _EXPRESSION:
        want = "expression"
    elif "_RPAR" in expected or "$END" in expected:
        # LALR merges the states after an expression inside and outside parentheses.
        want = "'&&', '||' or ')'" if open_groups else "'&&', '||' or end of selector"
    else:  # pragma: no cover - every state of the grammar is covered above
        want = " or ".join(sorted(_NAMES.get(e, e) for e in expected))
    return f"expected {want}, found {_describe(kind, value)}"


def _syntax_error(text: str, toks: list[Tok], i: int, state: int) -> SelectorSyntaxError:
    kind, value, pos = toks[i]
    expected = {s for s in _STATES[state] if s.isupper()}
    depth = 0
    for k, _v, _p in toks[:i]:
        depth += (k == "_LPAR") - (k == "_RPAR")
    return SelectorSyntaxError(_reason(expected, kind, value, depth), text, pos)


def parse_tree(text: str) -> _ast.Node:
    """The tree of ``text``; raises SelectorSyntaxError."""
    toks: list[Tok] = tokenize(text)
    if not toks:
        return _ALL
    toks.append(("$END", "", len(text)))
    table = _PARSE_TABLE
    states = [_START]
    values: list[Any] = []
    try:
        for i, (kind, value, _pos) in enumerate(toks):
            while True:
                action = table[states[-1]].get(kind)
                if action is None:
                    raise _syntax_error(text, toks, i, states[-1])
                shift, arg = action
                if shift:
                    states.append(arg)
                    values.append(value)
                    break
                size, goto, reduce = arg
                if size:
                    result = reduce(values[-size:])
                    del values[-size:]
                    del states[-size:]
                else:  # pragma: no cover - the grammar has no empty rules
                    result = reduce([])
                states.append(table[states[-1]][goto][1])
                values.append(result)
                if kind == "$END" and states[-1] == _END:
                    node: _ast.Node = values[-1]
                    return node
    except (ValueError, TypeError) as e:  # a node refused its fields
        if isinstance(e, SelectorSyntaxError):
            raise
        raise SelectorSyntaxError(f"invalid selector: {e}", text, 0) from None
    raise SelectorSyntaxError("unexpected end of selector", text, len(text))  # pragma: no cover
