"""Calico's selector tokenizer (libcalico-go ``lib/selector/tokenizer``), rule for rule.

It is hand-written rather than a Lark lexer because the rules depend on the previous
token: operator words (``contains``, ``starts with``, ``not in``, ...) exist only right
after a label, and are ordinary label names anywhere else. Tokens are plain tuples
``(type, value, position)`` with the terminal names of ``selector.lark``.
"""

from __future__ import annotations

import re

from ..errors import SelectorSyntaxError

__all__ = ["tokenize", "MAX_LABEL_LENGTH", "Tok"]

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


def tokenize(text: str) -> list[Tok]:
    """The tokens of ``text`` (without an end marker); raises SelectorSyntaxError."""
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
