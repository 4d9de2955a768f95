"""Calico's selector tokenizer (libcalico-go ``lib/selector/tokenizer``), rule for rule.

It is hand-written rather than a Lark lexer because the rules depend on the previous
token: operator words (``contains``, ``starts with``, ``not in``, ...) exist only right
after a label, and are ordinary label names anywhere else. Tokens are plain tuples
``(type, value, position)`` with the terminal names of ``selector.lark``.
"""

from __future__ import annotations

import re

from ..errors import SelectorSyntaxError

__all__ = ["tokenize", "tokenize_exact", "MAX_LABEL_LENGTH", "Tok"]

MAX_LABEL_LENGTH = 512

Tok = tuple[str, str, int]

_IDENT = re.compile(r"[A-Za-z0-9_./-]*")
_BLANKS = re.compile(r"[ \t]*")
# After a label: tried in Calico's order, each needing a word boundary (end of input or a
# non-identifier byte). Blanks after a two-word operator are consumed before the
# boundary check, possessively, exactly as Calico trims them.
_OPERATOR = re.compile(
    r"(?P<_CONTAINS>contains)(?![A-Za-z0-9_./-])"
    r"|(?P<_STARTSWITH>starts[ \t]*+with[ \t]*+)(?![A-Za-z0-9_./-])"
    r"|(?P<_ENDSWITH>ends[ \t]*+with[ \t]*+)(?![A-Za-z0-9_./-])"
    r"|(?P<_NOTIN>not[ \t]*+in[ \t]*+)(?![A-Za-z0-9_./-])"
    r"|(?P<_IN>in)(?![A-Za-z0-9_./-])"
)
_PUNCT = {"(": "_LPAR", ")": "_RPAR", "{": "_LBRACE", "}": "_RBRACE", ",": "_COMMA"}
_PAIRS = {"=": ("==", "_EQ"), "&": ("&&", "_AND"), "|": ("||", "_OR")}
_CALLS = (("all(", "ALL"), ("global(", "GLOBAL"))


def _fail(reason: str, text: str, pos: int) -> SelectorSyntaxError:
    return SelectorSyntaxError(reason, text, pos)


def _label_at(text: str, pos: int, what: str) -> tuple[str, int]:
    end = _IDENT.match(text, pos).end()  # type: ignore[union-attr]
    if end == pos:
        if pos >= len(text):
            raise _fail(f"expected {what}, found end of selector", text, pos)
        raise _fail(f"expected {what}, found {text[pos]!r}", text, pos)
    if end - pos > MAX_LABEL_LENGTH:
        raise _fail(f"label name longer than {MAX_LABEL_LENGTH} bytes", text, pos)
    return text[pos:end], end


def tokenize_exact(text: str) -> list[Tok]:
    """The tokens of ``text``, step by step as Calico does; raises SelectorSyntaxError
    with the position and reason of the first fault. (:func:`tokenize` is the fast path
    and falls back to this one to report errors.)"""
    toks: list[Tok] = []
    n = len(text)
    blanks = _BLANKS.match
    pos = blanks(text, 0).end()  # type: ignore[union-attr]
    last_label = False
    while pos < n:
        c = text[pos]
        start = pos
        kind = _PUNCT.get(c)
        if kind is not None:
            toks.append((kind, c, pos))
            pos += 1
        elif c == '"' or c == "'":
            end = text.find(c, pos + 1)
            if end < 0:
                raise _fail("unterminated string", text, pos)
            toks.append(("STRING", text[pos + 1 : end], pos))
            pos = end + 1
        elif c == "!":
            if text.startswith("!=", pos):
                toks.append(("_NE", "!=", pos))
                pos += 2
            else:
                toks.append(("NOT", "!", pos))
                pos += 1
        elif c in _PAIRS:
            lexeme, kind = _PAIRS[c]
            if not text.startswith(lexeme, pos):
                raise _fail(f"expected {lexeme!r}", text, pos)
            toks.append((kind, lexeme, pos))
            pos += 2
        elif last_label:
            m = _OPERATOR.match(text, pos)
            if m is None:
                raise _fail("expected operator after label", text, pos)
            toks.append((m.lastgroup, m.group(), pos))  # type: ignore[arg-type]
            pos = m.end()
        elif text.startswith("has(", pos):
            p = blanks(text, pos + 4).end()  # type: ignore[union-attr]
            label, p = _label_at(text, p, "label name in has()")
            p = blanks(text, p).end()  # type: ignore[union-attr]
            if not text.startswith(")", p):
                raise _fail("expected ')' to close has(", text, p)
            toks.append(("HAS", label, pos))
            pos = p + 1
        else:
            for prefix, kind in _CALLS:
                if text.startswith(prefix, pos):
                    p = blanks(text, pos + len(prefix)).end()  # type: ignore[union-attr]
                    if not text.startswith(")", p):
                        raise _fail(f"expected ')' to close {prefix}", text, p)
                    toks.append((kind, text[pos : p + 1], pos))
                    pos = p + 1
                    break
            else:
                label, pos = _label_at(text, pos, "label name or expression")
                toks.append(("LABEL", label, start))
        last_label = toks[-1][0] == "LABEL"
        pos = blanks(text, pos).end()  # type: ignore[union-attr]
    return toks


# The fast path: one regular expression per tokenizer state ("after a label" or not),
# matching the blanks and one whole token. Anything it cannot match (any error) is
# handed to tokenize_exact, which reports it.
_ID = "[A-Za-z0-9_./-]"
_B = "[ \t]*+"
_COMMON = (
    r"(?P<_LPAR>\()|(?P<_RPAR>\))|(?P<_LBRACE>\{)|(?P<_RBRACE>\})|(?P<_COMMA>,)"
    r"|(?P<STRING>\"[^\"]*+\"|'[^']*+')"
    r"|(?P<_NE>!=)|(?P<NOT>!)|(?P<_EQ>==)|(?P<_AND>&&)|(?P<_OR>\|\|)"
)
_FAST = re.compile(
    _B + "(?:" + _COMMON
    + rf"|(?P<HAS>has\({_B}{_ID}{{1,{MAX_LABEL_LENGTH}}}+{_B}\))"
    + rf"|(?P<ALL>all\({_B}\))|(?P<GLOBAL>global\({_B}\))"
    + rf"|(?!has\(|all\(|global\()(?P<LABEL>{_ID}{{1,{MAX_LABEL_LENGTH}}}+)(?!{_ID})"
    + ")"
)
_FAST_AFTER_LABEL = re.compile(
    _B + "(?:" + _COMMON
    + rf"|(?P<_CONTAINS>contains)(?!{_ID})"
    + rf"|(?P<_STARTSWITH>starts{_B}with{_B})(?!{_ID})"
    + rf"|(?P<_ENDSWITH>ends{_B}with{_B})(?!{_ID})"
    + rf"|(?P<_NOTIN>not{_B}in{_B})(?!{_ID})"
    + rf"|(?P<_IN>in)(?!{_ID})"
    + ")"
)


def tokenize(text: str) -> list[Tok]:
    """The tokens of ``text`` (without an end marker); raises SelectorSyntaxError."""
    toks: list[Tok] = []
    append = toks.append
    fast, after_label = _FAST.match, _FAST_AFTER_LABEL.match
    pos = 0
    n = len(text)
    m = fast(text, 0)
    while m is not None:
        kind: str = m.lastgroup  # type: ignore[assignment]
        lexeme = m.group(kind)
        start = m.start(kind)
        pos = m.end()
        if kind == "LABEL":
            append((kind, lexeme, start))
            m = after_label(text, pos)
            continue
        if kind == "STRING":
            append((kind, lexeme[1:-1], start))
        elif kind == "HAS":
            append((kind, lexeme[4:-1].strip(" \t"), start))
        else:
            append((kind, lexeme, start))
        m = fast(text, pos)
    if _BLANKS.match(text, pos).end() != n:  # type: ignore[union-attr]
        return tokenize_exact(text)  # raises the precise error
    return toks
