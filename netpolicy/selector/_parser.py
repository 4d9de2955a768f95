"""Parse selector text into a tree: the tokenizer feeds Lark's LALR parser built from
``selector.lark``; the grammar's rules build the nodes of ``_ast`` as they reduce.

LALR parsing keeps its own stacks, so deep nesting costs no Python recursion. No Lark
exception leaves this module: every failure is a SelectorSyntaxError.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Iterator

import lark
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer, LexerState, Token

from ..errors import SelectorSyntaxError
from . import _ast
from ._tokenizer import Tok, tokenize

__all__ = ["parse_tree", "GRAMMAR"]

GRAMMAR = resources.files(__package__).joinpath("selector.lark").read_text(encoding="utf-8")

_ALL = _ast.All()
_GLOBAL = _ast.Global()


class _Build(lark.Transformer[Token, _ast.Node]):
    """Rule callbacks: each reduction returns an ``_ast`` node."""

    def start(self, c: list[_ast.Node]) -> _ast.Node:
        return c[0]

    def or_expr(self, c: list[_ast.Node]) -> _ast.Node:
        return _ast.Or(c)

    def and_expr(self, c: list[_ast.Node]) -> _ast.Node:
        return _ast.And(c)

    def negation(self, c: list[Any]) -> _ast.Node:
        node: _ast.Node = c[-1]
        return _ast.Not(node) if len(c) % 2 == 0 else node

    def has(self, c: list[Token]) -> _ast.Node:
        return _ast.Has(c[0].value)

    def all(self, c: list[Token]) -> _ast.Node:
        return _ALL

    def global_(self, c: list[Token]) -> _ast.Node:
        return _GLOBAL

    def eq(self, c: list[Token]) -> _ast.Node:
        return _ast.Eq(c[0].value, c[1].value)

    def ne(self, c: list[Token]) -> _ast.Node:
        return _ast.Ne(c[0].value, c[1].value)

    def contains(self, c: list[Token]) -> _ast.Node:
        return _ast.Contains(c[0].value, c[1].value)

    def starts_with(self, c: list[Token]) -> _ast.Node:
        return _ast.StartsWith(c[0].value, c[1].value)

    def ends_with(self, c: list[Token]) -> _ast.Node:
        return _ast.EndsWith(c[0].value, c[1].value)

    def in_(self, c: list[Any]) -> _ast.Node:
        return _ast.In(c[0].value, c[1])

    def not_in(self, c: list[Any]) -> _ast.Node:
        return _ast.NotIn(c[0].value, c[1])

    def set(self, c: list[Token]) -> list[str]:
        return [t.value for t in c]


class _TokenFeed(Lexer):
    """Hands Lark the tokens already produced by the tokenizer."""

    __future_interface__ = 2

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        return iter(lexer_state.text)  # type: ignore[call-overload, no-any-return]


_LARK = lark.Lark(GRAMMAR, parser="lalr", lexer=_TokenFeed, transformer=_Build())

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


def _describe(tok: Token) -> str:
    name = _NAMES.get(tok.type, tok.type)
    if tok.type in ("LABEL", "STRING"):
        return f"{name} {tok.value!r}"
    return name


def _reason(expected: set[str], found: Token, open_groups: int) -> str:
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
    else:
        want = " or ".join(sorted(_NAMES.get(e, e) for e in expected))
    return f"expected {want}, found {_describe(found)}"


def parse_tree(text: str) -> _ast.Node:
    """The tree of ``text``; raises SelectorSyntaxError."""
    toks: list[Tok] = tokenize(text)
    if not toks:
        return _ALL
    stream = [Token(kind, value, pos) for kind, value, pos in toks]
    try:
        node: _ast.Node = _LARK.parse(stream)  # type: ignore[assignment]
    except UnexpectedToken as e:
        tok = e.token
        pos = len(text) if tok.type == "$END" else (tok.start_pos or 0)
        depth = 0
        for kind, _value, at in toks:
            if at >= pos:
                break
            depth += (kind == "_LPAR") - (kind == "_RPAR")
        raise SelectorSyntaxError(_reason(set(e.expected), tok, depth), text, pos) from None
    except UnexpectedInput as e:  # pragma: no cover - the feed never yields bad characters
        raise SelectorSyntaxError("invalid selector", text, getattr(e, "pos_in_stream", 0) or 0) from None
    except (ValueError, TypeError) as e:  # a node refused its fields
        raise SelectorSyntaxError(f"invalid selector: {e}", text, 0) from None
    return node
