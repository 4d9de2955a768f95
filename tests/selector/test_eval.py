"""Evaluation against label maps (spec §A.3): each operator, label present and absent."""

import pytest

from netpolicy import Selector
from netpolicy.selector import _ast
from netpolicy.selector._compile import _stack_machine, compile_matcher

# (selector, {label map: expected}) -- every row has the label absent ({} or other keys).
CASES = [
    ("k == 'v'", [({"k": "v"}, True), ({"k": "w"}, False), ({"k": ""}, False), ({}, False), ({"x": "v"}, False)]),
    ("k == ''", [({"k": ""}, True), ({"k": "v"}, False), ({}, False)]),
    ("k != 'v'", [({"k": "v"}, False), ({"k": "w"}, True), ({"k": ""}, True), ({}, True)]),
    ("k != ''", [({"k": ""}, False), ({"k": "v"}, True), ({}, True)]),
    ("k in {'a', 'b'}", [({"k": "a"}, True), ({"k": "b"}, True), ({"k": "c"}, False), ({}, False)]),
    ("k in {'a'}", [({"k": "a"}, True), ({"k": "A"}, False), ({}, False)]),
    ("k in {''}", [({"k": ""}, True), ({"k": "a"}, False), ({}, False)]),
    ("k in {}", [({"k": ""}, False), ({"k": "a"}, False), ({}, False)]),
    ("k not in {'a', 'b'}", [({"k": "a"}, False), ({"k": "c"}, True), ({"k": ""}, True), ({}, True)]),
    ("k not in {}", [({"k": "a"}, True), ({"k": ""}, True), ({}, True)]),
    ("k contains 'ell'", [({"k": "hello"}, True), ({"k": "ell"}, True), ({"k": "el"}, False), ({}, False)]),
    ("k contains ''", [({"k": ""}, True), ({"k": "x"}, True), ({}, False)]),
    ("k starts with 'he'", [({"k": "hello"}, True), ({"k": "he"}, True), ({"k": "ahe"}, False), ({"k": ""}, False), ({}, False)]),
    ("k starts with ''", [({"k": ""}, True), ({"k": "x"}, True), ({}, False)]),
    ("k ends with 'lo'", [({"k": "hello"}, True), ({"k": "lo"}, True), ({"k": "loo"}, False), ({}, False)]),
    ("k ends with ''", [({"k": ""}, True), ({}, False)]),
    ("has(k)", [({"k": ""}, True), ({"k": "v"}, True), ({}, False), ({"K": "v"}, False)]),
    ("!has(k)", [({"k": ""}, False), ({}, True)]),
    ("all()", [({}, True), ({"k": "v"}, True)]),
    ("global()", [({}, True), ({"k": "v"}, True)]),
    ("!all()", [({}, False)]),
    ("!k == 'v'", [({"k": "v"}, False), ({"k": "w"}, True), ({}, True)]),
    ("!k != 'v'", [({"k": "v"}, True), ({"k": "w"}, False), ({}, False)]),
    ("!k in {'v'}", [({"k": "v"}, False), ({}, True)]),
    ("!k not in {'v'}", [({"k": "v"}, True), ({}, False)]),
    ("!k contains 'v'", [({"k": "v"}, False), ({}, True)]),
    ("!k starts with 'v'", [({"k": "v"}, False), ({"k": "w"}, True), ({}, True)]),
    ("!k ends with 'v'", [({"k": "v"}, False), ({}, True)]),
    ("has(k) && k != 'x'", [({"k": "y"}, True), ({"k": "x"}, False), ({}, False)]),
    ("k == 'a' || j == 'b'", [({"k": "a"}, True), ({"j": "b"}, True), ({"k": "b", "j": "a"}, False), ({}, False)]),
    ("k == 'a' && j == 'b'", [({"k": "a", "j": "b"}, True), ({"k": "a"}, False), ({"j": "b"}, False)]),
    ("k == 'é☃'", [({"k": "é☃"}, True), ({"k": "e"}, False)]),
    ("k == 'A'", [({"k": "a"}, False)]),  # case-sensitive
    ("k == 'a '", [({"k": "a"}, False), ({"k": "a "}, True)]),  # no trimming
    ("k contains \"'\"", [({"k": "it's"}, True), ({"k": "its"}, False)]),
]


@pytest.mark.parametrize("text, rows", CASES)
def test_operator_semantics(text, rows):
    sel = Selector.parse(text)
    machine = _stack_machine(sel.root)
    for labels, expected in rows:
        assert sel.matches(labels) is expected, labels
        assert sel.matcher(labels) is expected, labels
        assert machine(labels) is expected, labels


def test_not_equal_and_negated_equal_agree():
    a, b = Selector.parse("k != 'x'"), Selector.parse("!(k == 'x')")
    for labels in ({}, {"k": "x"}, {"k": "y"}, {"k": ""}):
        assert a.matches(labels) == b.matches(labels)


def test_works_on_any_mapping():
    from types import MappingProxyType

    sel = Selector.parse("k == 'v' && has(j) && i not in {'x'}")
    assert sel.matches(MappingProxyType({"k": "v", "j": ""}))


def test_deep_trees_use_the_stack_machine_and_agree():
    text = "!(" * 300 + "has(a) && (b == 'x' || c != 'y')" + ")" * 300
    sel = Selector.parse(text)
    assert sel.matches({"a": "1", "b": "x"}) is True
    assert sel.matches({"b": "x"}) is False
    wide = " || ".join(f"k{i} == 'v'" for i in range(3000))
    sel = Selector.parse(wide)
    assert sel.matches({"k2999": "v"}) and not sel.matches({"k2999": "w"})


def test_compiled_source_is_not_fooled_by_quotes_in_values():
    node = _ast.Or([_ast.Eq("k", "a' or True or '"), _ast.Eq("j", '"); import os; ("')])
    fn = compile_matcher(node)
    assert fn({}) is False
    assert fn({"k": "a' or True or '"}) is True
