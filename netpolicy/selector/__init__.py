"""Calico's selector language: parse, match, canonical text.

>>> from netpolicy.selector import Selector
>>> sel = Selector.parse("app == 'web' && tier in {'b', 'a'}")
>>> str(sel)
'(app == "web" && tier in {"a", "b"})'
>>> sel.matches({"app": "web", "tier": "a"})
True

The grammar is ``selector.lark`` in this package; the tree nodes are in ``_ast``.
"""

from __future__ import annotations

from ._restrictions import LabelRestriction
from ._selector import Selector

__all__ = ["Selector", "LabelRestriction"]
