"""The public Selector value."""

from __future__ import annotations

import base64
import hashlib
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, Union

from attrs.exceptions import FrozenInstanceError

from . import _ast, _walk
from ._compile import Matcher, compile_matcher
from ._parser import parse_tree
from ._tokenizer import MAX_LABEL_LENGTH
from ._restrictions import LabelRestriction, label_restrictions

__all__ = ["Selector"]

# The memo is bounded: at most this many entries (then it starts afresh), and only texts
# up to this length (the API allows 1024 characters; combined selectors run longer).
_MEMO_LIMIT = 1 << 16
_MEMO_MAX_TEXT = 1 << 14


def _unique_id(canonical: str) -> str:
    digest = hashlib.sha224(("s:" + canonical).encode("utf-8", "surrogatepass")).digest()
    return "s:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Selector:
    """A parsed Calico label selector: a frozen, hashable value.

    Build one with :meth:`Selector.parse` (memoised by text), ``Selector(text)`` or
    ``Selector(node)`` from an ``_ast`` tree. ``sel.matches(labels)`` tells whether a
    label map matches. ``str(sel)`` is Calico's canonical text, except that a ``!``
    applied directly to another ``!`` is printed ``!(!x)``, so the text always parses back
    to the same selector (Calico's own text ``!!x`` would parse as ``x``); the exact
    Calico text is :attr:`canonical`. Two selectors are equal when their canonical texts
    are equal.
    """

    __slots__ = (
        "_root", "_canonical", "_text", "matches", "_matcher", "_uid", "_keys", "_restrictions", "__weakref__"
    )

    _root: _ast.Node
    _canonical: str | None
    _text: str | None
    matches: Matcher
    """``sel.matches(labels) -> bool``: whether the label map matches, with Calico's
    absent-label rules. An attribute holding the compiled function, so a call
    costs no extra Python frame; the first call compiles."""
    _matcher: Matcher | None
    _uid: str | None
    _keys: frozenset[str] | None
    _restrictions: Mapping[str, LabelRestriction] | None

    _memo: ClassVar[dict[str, Selector]] = {}

    def __init__(self, source: Union[str, _ast.Node]) -> None:
        if isinstance(source, str):
            root = Selector.parse(source)._root
        elif isinstance(source, _ast.Node):
            root = source
        else:
            raise TypeError(f"Selector needs a str or a selector node, not {type(source).__name__}")
        setter = object.__setattr__
        setter(self, "_root", root)
        setter(self, "_canonical", None)  # rendered on first use
        setter(self, "_text", None)
        setter(self, "matches", self._compile_and_match)
        setter(self, "_matcher", None)
        setter(self, "_uid", None)
        setter(self, "_keys", None)
        setter(self, "_restrictions", None)

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse Calico selector text; the same text twice costs a dictionary look-up.

        Empty or blank-only text is ``all()``. Raises ``TypeError`` for a non-str and
        :class:`netpolicy.SelectorSyntaxError` for text Calico would reject.
        """
        try:
            return cls._memo[text]
        except KeyError:
            pass
        except TypeError:  # unhashable
            pass
        if type(text) is not str:
            if not isinstance(text, str):
                raise TypeError(f"selector text must be str, not {type(text).__name__}")
            text = str.__str__(text)  # a plain copy of a str subclass
        sel = cls(parse_tree(text))
        if len(text) <= _MEMO_MAX_TEXT:
            memo = cls._memo
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[text] = sel
        return sel

    @classmethod
    def all(cls) -> Selector:
        """The selector ``all()``, matching every label map."""
        return cls.parse("all()")

    @property
    def root(self) -> _ast.Node:
        """The frozen syntax tree."""
        return self._root

    @property
    def matcher(self) -> Matcher:
        """The compiled ``labels -> bool`` function (``sel.matches`` once compiled)."""
        fn = self._matcher
        if fn is None:
            fn = compile_matcher(self._root)
            object.__setattr__(self, "_matcher", fn)
            object.__setattr__(self, "matches", fn)
        return fn

    def _compile_and_match(self, labels: Mapping[str, str]) -> bool:
        return self.matcher(labels)

    @property
    def label_keys(self) -> frozenset[str]:
        """The label names this selector reads."""
        keys = self._keys
        if keys is None:
            keys = _walk.label_keys(self._root)
            object.__setattr__(self, "_keys", keys)
        return keys

    @property
    def label_restrictions(self) -> Mapping[str, LabelRestriction]:
        """Calico's per-label lower bounds: labels that must be present (with
        one of some values) or absent for a match to be possible. Never decides a match."""
        found = self._restrictions
        if found is None:
            found = MappingProxyType(label_restrictions(self._root))
            object.__setattr__(self, "_restrictions", found)
        return found

    @property
    def unique_id(self) -> str:
        """Calico's selector ID: ``"s:" + base64url(SHA-224("s:" + canonical))``."""
        uid = self._uid
        if uid is None:
            uid = _unique_id(self._canonical or self.canonical)
            object.__setattr__(self, "_uid", uid)
        return uid

    def prefixed(self, prefix: str) -> Selector:
        """This selector with ``prefix`` put before every label name (Calico's
        PrefixVisitor: ``all()`` and ``global()`` are unchanged)."""
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be str, not {type(prefix).__name__}")
        if not prefix:
            return self
        return Selector(_walk.map_labels(self._root, lambda name: prefix + name))

    @property
    def canonical(self) -> str:
        """Calico's canonical text, which its selector ID is computed from. The same as
        ``str(sel)`` unless a ``!`` applies directly to another ``!``: Calico prints that
        ``!!x``, a text that parses back as ``x``."""
        text = self._canonical
        if text is None:
            text = _ast.render(self._root)
            object.__setattr__(self, "_canonical", text)
        return text

    def __str__(self) -> str:
        text = self._text
        if text is None:
            canonical = self._canonical or self.canonical
            # Only a tree with a "!" right on a "!" prints differently; without "!!" in
            # Calico's text there is none.
            text = canonical if "!!" not in canonical else _ast.render(self._root, faithful=True)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        return f"Selector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Selector):
            return self is other or (self._canonical or self.canonical) == (other._canonical or other.canonical)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Selector):
            return not (self is other or (self._canonical or self.canonical) == (other._canonical or other.canonical))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._canonical or self.canonical)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError()

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        # By text, which reparses to this exact tree even for "!(!x)". A tree whose
        # labels grew past the parser's limit (prefixed()) goes as a tree.
        if any(len(k) > MAX_LABEL_LENGTH for k in self.label_keys):
            return (Selector, (self._root,))
        return (Selector.parse, (str(self),))
