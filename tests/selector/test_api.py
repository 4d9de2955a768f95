"""The Selector value: construction, memoisation, immutability, pickling, helpers."""

import copy
import pickle

import attrs
import pytest

import netpolicy
from netpolicy import Selector, SelectorSyntaxError
from netpolicy.selector import LabelRestriction, _ast


def test_exported_from_the_package():
    assert netpolicy.Selector is Selector
    assert netpolicy.selector.Selector is Selector


def test_parse_is_memoised_by_text():
    text = "memo-test == 'x' && has(memo)"
    first = Selector.parse(text)
    assert Selector.parse(text) is first
    assert Selector._memo[text] is first
    assert Selector.parse("memo-test=='x'&&has(memo)") == first  # equal, different text


def test_str_subclass_is_accepted_and_memoised_as_plain_text():
    class Text(str):
        pass

    sel = Selector.parse(Text("has(subclass)"))
    assert sel == Selector.parse("has(subclass)")
    assert all(type(k) is str for k in Selector._memo)


@pytest.mark.parametrize("bad", [None, 1, b"has(a)", ["has(a)"], {"a": 1}])
def test_non_str_raises_type_error(bad):
    with pytest.raises(TypeError):
        Selector.parse(bad)


def test_constructor_accepts_text_or_tree():
    assert Selector("has(a)") == Selector.parse("has(a)")
    assert Selector(_ast.Has("a")) == Selector.parse("has(a)")
    with pytest.raises(TypeError):
        Selector(3)  # type: ignore[arg-type]
    with pytest.raises(SelectorSyntaxError):
        Selector("(")


def test_repr_is_constructor_text():
    sel = Selector.parse("a == 'b' && has(c)")
    assert repr(sel) == """Selector('(a == "b" && has(c))')"""
    assert eval(repr(sel), {"Selector": Selector}) == sel


def test_frozen():
    sel = Selector.parse("has(a)")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sel._root = _ast.All()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del sel._root
    with pytest.raises(AttributeError):
        sel.other = 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sel.root.label = "b"


def test_usable_as_dict_key_and_in_sets():
    d = {Selector.parse("has(a)"): 1}
    assert d[Selector.parse("has( a )")] == 1
    assert len({Selector.parse("a=='1'"), Selector.parse('a == "1"'), Selector.parse("a=='2'")}) == 2


@pytest.mark.parametrize(
    "text",
    ["", "has(a)", "a in {'x', 'y'} && !b == 'z'", "!(!has(a))", "!(!(!(k == 'v')))", "a == '\"' || b == \"'\""],
)
def test_pickle_and_copy_round_trip(text):
    sel = Selector.parse(text)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(sel, protocol))
        assert back == sel and back.root == sel.root
    assert copy.deepcopy(sel) == sel and copy.copy(sel) == sel
    assert pickle.loads(pickle.dumps(sel.root)) == sel.root


def test_pickle_is_by_text():
    data = pickle.dumps(Selector.parse("has(pickled)"))
    assert b"has(pickled)" in data


def test_pickle_of_prefixed_selector_with_overlong_label():
    sel = Selector.parse("x" * 510 + " == 'v'").prefixed("pcns.")
    assert pickle.loads(pickle.dumps(sel)) == sel


def test_all_constructor():
    assert Selector.all() == Selector.parse("") == Selector.parse("all()")
    assert isinstance(Selector.all().root, _ast.All)
    assert Selector.all().matches({})


def test_prefixed():
    sel = Selector.parse("a == 'x' && !has(b) || c in {'1'} || all() || global()")
    out = sel.prefixed("pcns.")
    assert str(out) == '((pcns.a == "x" && !has(pcns.b)) || pcns.c in {"1"} || all() || global())'
    narrow = Selector.parse("a == 'x' && !has(b)").prefixed("pcns.")
    assert narrow.matches({"pcns.a": "x", "b": "1"}) and not narrow.matches({"a": "x"})
    assert sel.prefixed("") is sel
    assert Selector.parse("!(!has(a))").prefixed("p/").root == _ast.Not(_ast.Not(_ast.Has("p/a")))
    with pytest.raises(TypeError):
        sel.prefixed(None)  # type: ignore[arg-type]


def test_label_keys():
    sel = Selector.parse("a == 'x' && (!has(b) || c in {}) && d not in {'1'} && e contains '' && all()")
    assert sel.label_keys == frozenset("abcde")
    assert Selector.parse("all() || global()").label_keys == frozenset()


def test_label_restrictions_are_read_only():
    r = Selector.parse("a == 'x'").label_restrictions
    assert r == {"a": LabelRestriction(True, False, frozenset({"x"}))}
    with pytest.raises(TypeError):
        r["b"] = LabelRestriction()  # type: ignore[index]


def test_matcher_is_cached_and_plain():
    sel = Selector.parse("k == 'cached-matcher'")
    fn = sel.matcher
    assert sel.matcher is fn
    assert fn({"k": "cached-matcher"}) is True


def test_ast_nodes_validate_their_fields():
    with pytest.raises(ValueError):
        _ast.Eq("bad label", "v")
    with pytest.raises(ValueError):
        _ast.Eq("", "v")
    with pytest.raises(ValueError):
        _ast.Eq("k", "both ' and \"")
    with pytest.raises(TypeError):
        _ast.In("k", "ab")
    with pytest.raises(ValueError):
        _ast.And([_ast.All()])
    with pytest.raises(TypeError):
        _ast.Not("has(a)")  # type: ignore[arg-type]


def test_ast_nodes_compare_and_print_without_recursion():
    a = _ast.And([_ast.Has("a"), _ast.In("k", ["b", "a", "b"])])
    assert a == _ast.And([_ast.Has("a"), _ast.In("k", ("a", "b"))])
    assert hash(a) == hash(_ast.And([_ast.Has("a"), _ast.In("k", ("a", "b"))]))
    assert repr(a) == "And((Has('a'), In('k', ('a', 'b'))))"
    assert str(a) == '(has(a) && k in {"a", "b"})'
    assert _ast.Has("a") != _ast.Eq("a", "")
