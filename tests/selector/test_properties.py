"""Properties of the selector language, checked with Hypothesis."""

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
import lark

from netpolicy import Selector, SelectorSyntaxError
from netpolicy.selector import _ast
from netpolicy.selector._compile import _stack_machine
from netpolicy.selector._parser import GRAMMAR

from . import reference_parser
from .strategies import label_maps, labels, selectorish, trees, values


def evaluate(node, labels):
    """Direct reading of spec §A.3 (recursive; for small trees)."""
    if isinstance(node, (_ast.All, _ast.Global)):
        return True
    if isinstance(node, _ast.Not):
        return not evaluate(node.operand, labels)
    if isinstance(node, _ast.And):
        return all(evaluate(op, labels) for op in node.operands)
    if isinstance(node, _ast.Or):
        return any(evaluate(op, labels) for op in node.operands)
    present = node.label in labels
    v = labels.get(node.label)
    if isinstance(node, _ast.Has):
        return present
    if isinstance(node, _ast.Eq):
        return present and v == node.value
    if isinstance(node, _ast.Ne):
        return not present or v != node.value
    if isinstance(node, _ast.Contains):
        return present and node.value in v
    if isinstance(node, _ast.StartsWith):
        return present and v.startswith(node.value)
    if isinstance(node, _ast.EndsWith):
        return present and v.endswith(node.value)
    if isinstance(node, _ast.In):
        return present and v in node.values
    if isinstance(node, _ast.NotIn):
        return not present or v not in node.values
    raise AssertionError(node)


def check_text(text):
    """Parse ``text``: only SelectorSyntaxError may escape, and the outcome must agree
    with the reference parser."""
    try:
        want = reference_parser.canonical(text)
    except (reference_parser.Reject, SelectorSyntaxError):
        want = None
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError as e:
        assert want is None, (text, want)
        assert 0 <= e.position <= len(text)
        return None
    assert want == sel.canonical, (text, want)
    return sel


@given(trees(double_not=True))
def test_text_round_trips(root):
    sel = Selector(root)
    again = Selector.parse(str(sel))
    assert again == sel
    assert again.root == root
    assert str(again) == str(sel)
    assert again.canonical == sel.canonical
    assert again.unique_id == sel.unique_id


@given(trees())
def test_text_is_calicos_canonical_text_without_a_not_on_a_not(root):
    sel = Selector(root)
    assert str(sel) == sel.canonical
    assert Selector.parse(sel.canonical).root == root


@given(trees(double_not=True))
def test_faithful_text_and_pickle_round_trip_any_tree(root):
    assert Selector.parse(_ast.render(root, faithful=True)).root == root
    sel = Selector(root)
    assert pickle.loads(pickle.dumps(sel)).root == root
    assert _ast.from_postfix(_ast.to_postfix(root)) == root


@given(trees(double_not=True), label_maps)
def test_matching_agrees_with_the_spec_table(root, labels_):
    sel = Selector(root)
    want = evaluate(root, labels_)
    assert sel.matches(labels_) is want
    assert _stack_machine(root)(labels_) is want


@given(trees(), label_maps, st.sampled_from(["pcns.", "pcsa.", "x/"]))
def test_prefixed_matches_prefixed_labels(root, labels_, prefix):
    sel = Selector(root)
    moved = {prefix + k: v for k, v in labels_.items()}
    assert sel.prefixed(prefix).matches(moved) == sel.matches(labels_)
    assert sel.prefixed(prefix).label_keys == {prefix + k for k in sel.label_keys}


@given(trees(), label_maps)
def test_label_restrictions_are_lower_bounds(root, labels_):
    sel = Selector(root)
    if not sel.matches(labels_):
        return
    for name, r in sel.label_restrictions.items():
        if r.must_be_present:
            assert name in labels_
        if r.must_be_absent:
            assert name not in labels_
        if r.one_of is not None:
            assert labels_[name] in r.one_of


@given(st.text())
def test_arbitrary_text(text):
    check_text(text)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_arbitrary_printable_ascii(text):
    check_text(text)


@given(selectorish)
def test_selector_like_text_agrees_with_reference(text):
    check_text(text)


_GEN = lark.Lark(GRAMMAR, parser="lalr", lexer="basic")
_BLANK = st.sampled_from(["", " ", "\t", "  "])


def _padded(words):
    return st.builds(lambda a, w, b: a + w + b, _BLANK, st.sampled_from(words), _BLANK)


_TERMINALS = {
    "LABEL": st.builds(lambda a, w, b: a + w + b, _BLANK, labels, _BLANK),
    "STRING": values.map(lambda v: "'" + v + "'" if '"' in v else '"' + v + '"'),
    "HAS": labels.map(lambda k: f"has({k})"),
    "ALL": st.sampled_from(["all()", "all( )"]),
    "GLOBAL": st.sampled_from(["global()", "global(\t)"]),
    "NOT": _padded(["!"]),
    "_EQ": _padded(["=="]),
    "_NE": _padded(["!="]),
    "_CONTAINS": st.sampled_from([" contains ", " contains"]),
    "_STARTSWITH": st.sampled_from([" starts with ", " startswith ", " starts  with"]),
    "_ENDSWITH": st.sampled_from([" ends with ", " endswith "]),
    "_IN": st.sampled_from([" in ", " in"]),
    "_NOTIN": st.sampled_from([" not in ", " notin "]),
    "_AND": _padded(["&&"]),
    "_OR": _padded(["||"]),
    "_LPAR": _padded(["("]),
    "_RPAR": _padded([")"]),
    "_LBRACE": _padded(["{"]),
    "_RBRACE": _padded(["}"]),
    "_COMMA": _padded([","]),
}


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(from_lark(_GEN, explicit=_TERMINALS))
def test_grammar_generated_text_parses_like_calico(text):
    check_text(text)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(from_lark(_GEN, explicit=_TERMINALS), st.integers(0, 60), st.sampled_from(["", "(", ")", "!", "'", "a", "\n", "{"]))
def test_mutated_grammar_text_never_raises_anything_else(text, cut, insert):
    cut = min(cut, len(text))
    check_text(text[:cut] + insert + text[cut:])


def _tokens_or_error(fn, text):
    try:
        return fn(text)
    except SelectorSyntaxError as e:
        return ("error", e.reason, e.position)


@given(st.one_of(selectorish, from_lark(_GEN, explicit=_TERMINALS), st.text(max_size=30)))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_fast_tokenizer_agrees_with_the_exact_one(text):
    from netpolicy.selector._tokenizer import tokenize, tokenize_exact

    assert _tokens_or_error(tokenize, text) == _tokens_or_error(tokenize_exact, text)
