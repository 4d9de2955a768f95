"""Smoke tests of the Selector interface (the detailed tables live beside this file)."""

import pickle

import pytest

from netpolicy import Selector, SelectorSyntaxError


def test_parse_match_and_canonical_text():
    sel = Selector.parse("app == 'web' && tier in {'b', 'a'}")
    assert str(sel) == '(app == "web" && tier in {"a", "b"})'
    assert sel.matches({"app": "web", "tier": "a"})
    assert not sel.matches({"app": "web"})


def test_memoised_and_value_semantics():
    assert Selector.parse("has(a)") is Selector.parse("has(a)")
    assert Selector.parse("a=='x'") == Selector.parse('a == "x"')
    assert hash(Selector.parse("a=='x'")) == hash(Selector.parse('a == "x"'))
    assert repr(Selector.parse("has(a)")) == "Selector('has(a)')"


def test_errors_and_types():
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse("a == b")
    assert info.value.position == 5
    with pytest.raises(TypeError):
        Selector.parse(b"has(a)")  # type: ignore[arg-type]


def test_pickle_prefix_uid():
    sel = Selector.parse("!(!has(a))")
    assert pickle.loads(pickle.dumps(sel)).root == sel.root
    assert str(Selector.parse("a == 'b'").prefixed("pcns.")) == 'pcns.a == "b"'
    assert Selector.all().unique_id == "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"
