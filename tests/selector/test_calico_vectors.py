"""Our selector against Calico's own test tables (see calico_vectors.py)."""

import pytest

from netpolicy import Selector, SelectorSyntaxError
from netpolicy.selector import _ast
from netpolicy.selector._tokenizer import tokenize

from . import calico_vectors as V

VALUED = {"LABEL", "STRING", "HAS"}


@pytest.mark.parametrize("text, matching, non_matching", V.MATCH)
def test_match_table(text, matching, non_matching):
    sel = Selector.parse(text)
    again = Selector.parse(str(sel))  # and after canonicalising
    for labels in matching:
        assert sel.matches(labels), labels
        assert again.matches(labels), labels
    for labels in non_matching:
        assert not sel.matches(labels), labels
        assert not again.matches(labels), labels
    assert sel.unique_id == again.unique_id


@pytest.mark.parametrize("text", V.BAD)
def test_bad_selectors_rejected(text):
    with pytest.raises(SelectorSyntaxError):
        Selector.parse(text)


@pytest.mark.parametrize("text, canonical, uid", V.CANONICAL)
def test_canonical_table(text, canonical, uid):
    sel = Selector.parse(text)
    assert sel.canonical == canonical
    again = Selector.parse(canonical)
    assert again.canonical == canonical
    assert again.unique_id == sel.unique_id
    if uid is not None:
        assert sel.unique_id == uid


@pytest.mark.parametrize("text, expected", V.PREFIXED)
def test_prefix_visitor_table(text, expected):
    assert str(Selector.parse(text).prefixed(V.PREFIX)) == expected


@pytest.mark.parametrize("text, expected", V.RESTRICTIONS)
def test_label_restrictions_table(text, expected):
    want = {k: (p, a, None if vals is None else frozenset(vals)) for k, (p, a, vals) in expected.items()}
    for variant in [text] + ([f"all() && ({text})"] if text else []):
        got = Selector.parse(variant).label_restrictions
        assert {k: (r.must_be_present, r.must_be_absent, r.one_of) for k, r in got.items()} == want


@pytest.mark.parametrize("text, expected", V.TOKENS)
def test_tokenizer_table(text, expected):
    if expected is None:
        with pytest.raises(SelectorSyntaxError):
            tokenize(text)
        with pytest.raises(SelectorSyntaxError):
            Selector.parse(text)
        return
    got = [(kind, value if kind in VALUED else None) for kind, value, _pos in tokenize(text)]
    assert got == expected


def test_tree_printer_vector():
    root = Selector.parse(V.TREE_SELECTOR).root
    assert isinstance(root, _ast.Or)
    first, second, third = root.operands
    assert isinstance(first, _ast.And)
    assert [str(op) for op in first.operands] == V.TREE_AND_OPERANDS
    assert isinstance(second, _ast.Global) and isinstance(third, _ast.All)


@pytest.mark.parametrize("text", V.SPEC_TOKEN_ERRORS)
def test_spec_tokenizer_errors(text):
    with pytest.raises(SelectorSyntaxError):
        Selector.parse(text)


@pytest.mark.parametrize("text", V.SPEC_VALID)
def test_spec_valid(text):
    Selector.parse(text)

