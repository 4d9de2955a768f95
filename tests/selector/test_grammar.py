"""Grammar rules (spec §A.2), the canonical text (§A.4) and syntax-error reporting."""

import pytest

from netpolicy import Selector, SelectorSyntaxError
from netpolicy.selector import _ast
from netpolicy.selector._parser import GRAMMAR


def canon(text):
    return str(Selector.parse(text))


def error(text):
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse(text)
    return info.value


def test_grammar_file_is_shipped_and_lalr():
    from importlib import resources

    from netpolicy.selector import _parser

    assert resources.files("netpolicy.selector").joinpath("selector.lark").read_text() == GRAMMAR
    assert _parser._LARK.options.parser == "lalr"


# --- structure ----------------------------------------------------------------------------


def test_and_binds_tighter_than_or():
    root = Selector.parse("has(a) || has(b) && has(c) || has(d)").root
    assert root == _ast.Or([_ast.Has("a"), _ast.And([_ast.Has("b"), _ast.Has("c")]), _ast.Has("d")])


def test_and_or_are_n_ary_at_one_level():
    root = Selector.parse("has(a) && has(b) && has(c)").root
    assert isinstance(root, _ast.And) and len(root.operands) == 3


def test_parenthesised_groups_are_kept_as_nodes():
    assert canon("(has(a) && has(b)) && has(c)") == "((has(a) && has(b)) && has(c))"
    assert canon("has(a) && (has(b) || has(c))") == "(has(a) && (has(b) || has(c)))"


def test_single_operand_groups_disappear():
    assert canon("((((has(a)))))") == "has(a)"
    assert canon("(all() )") == "all()"
    assert Selector.parse("((a == 'b'))").root == _ast.Eq("a", "b")


def test_not_applies_to_one_operation():
    assert Selector.parse("!a == 'x'").root == _ast.Not(_ast.Eq("a", "x"))
    root = Selector.parse("!has(a) && has(b)").root
    assert root == _ast.And([_ast.Not(_ast.Has("a")), _ast.Has("b")])
    assert Selector.parse("!(has(a) && has(b))").root == _ast.Not(_ast.And([_ast.Has("a"), _ast.Has("b")]))


@pytest.mark.parametrize(
    "text, negated",
    [("!has(a)", True), ("!!has(a)", False), ("!!!has(a)", True), ("! ! ! ! has(a)", False), ("!" * 101 + "has(a)", True)],
)
def test_runs_of_not_collapse_by_parity(text, negated):
    root = Selector.parse(text).root
    assert root == (_ast.Not(_ast.Has("a")) if negated else _ast.Has("a"))


def test_not_of_a_parenthesised_not_is_kept():
    root = Selector.parse("!(!has(a))").root
    assert root == _ast.Not(_ast.Not(_ast.Has("a")))
    sel = Selector.parse("!(!has(a))")
    assert sel.canonical == "!!has(a)"  # Calico's text, which reparses as has(a)
    assert str(sel) == "!(!has(a))"  # printed so that it reparses to this tree


@pytest.mark.parametrize("op, cls", [("==", _ast.Eq), ("!=", _ast.Ne), ("contains", _ast.Contains),
                                     ("starts with", _ast.StartsWith), ("ends with", _ast.EndsWith)])
def test_comparisons_need_label_op_string(op, cls):
    assert Selector.parse(f"k {op} 'v'").root == cls("k", "v")
    assert error(f"k {op}").reason.startswith("expected string literal")
    assert error(f"k {op} {{'v'}}").reason.startswith("expected string literal")
    error(f"k {op} v")  # a label is not a value
    error(f"'v' {op} k")  # the label comes first


def test_label_after_operator_errors_in_parser_or_tokenizer():
    assert error("k == v").reason == "expected string literal after operator, found label 'v'"
    # after a two-word operator the blanks are consumed, then "v" is no word boundary
    assert error("k starts with v").reason == "expected operator after label"


def test_numbers_are_not_literals():
    assert error("a == 1").reason == "expected string literal after operator, found label '1'"


@pytest.mark.parametrize(
    "text, values",
    [
        ("k in {}", ()),
        ("k in {'a'}", ("a",)),
        ("k in {'a',}", ("a",)),
        ("k in {'b', 'a', 'b'}", ("a", "b")),
        ("k in {'b','a',}", ("a", "b")),
        ("k in{ 'a' , 'b' }", ("a", "b")),
    ],
)
def test_set_literals(text, values):
    assert Selector.parse(text).root == _ast.In("k", values)
    assert Selector.parse(text.replace(" in", " not in")).root == _ast.NotIn("k", values)


@pytest.mark.parametrize(
    "text, reason, position",
    [
        ("k in {,}", "expected string or '}' in set, found ','", 6),
        ("k in {'a',,}", "expected string or '}' in set, found ','", 10),
        ("k in {'a' 'b'}", "expected ',' or '}' in set, found string 'b'", 10),
        ("k in {'a'", "expected ',' or '}' in set, found end of selector", 9),
        ("k in 'a'", "expected set literal '{...}' after 'in', found string 'a'", 5),
        ("k in a", "expected set literal '{...}' after 'in', found label 'a'", 5),
        ("k not in 'a'", "expected set literal '{...}' after 'in', found string 'a'", 9),
        ("k in {a}", "expected string or '}' in set, found label 'a'", 6),
    ],
)
def test_bad_set_literals(text, reason, position):
    e = error(text)
    assert (e.reason, e.position) == (reason, position)


@pytest.mark.parametrize(
    "text, reason, position",
    [
        ("()", "expected expression, found ')'", 1),
        ("(", "expected expression, found end of selector", 1),
        (")", "expected expression, found ')'", 0),
        ("(has(a)", "expected '&&', '||' or ')', found end of selector", 7),
        ("has(a))", "expected '&&', '||' or end of selector, found ')'", 6),
        ("a == 'b' c == 'd'", "expected '&&', '||' or end of selector, found label 'c'", 9),
        ("has(a) has(b)", "expected '&&', '||' or end of selector, found has()", 7),
        ("has(a) &&", "expected expression, found end of selector", 9),
        ("has(a) || || has(b)", "expected expression, found '||'", 10),
        ("!", "expected expression, found end of selector", 1),
        ("&& has(a)", "expected expression, found '&&'", 0),
        ("a", "expected operator after label, found end of selector", 1),
        ("a ", "expected operator after label, found end of selector", 2),
        ("a (", "expected operator after label, found '('", 2),
        ("a 'b'", "expected operator after label, found string 'b'", 2),
        ("{}", "expected expression, found '{'", 0),
        ("all() all()", "expected '&&', '||' or end of selector, found all()", 6),
    ],
)
def test_parser_errors(text, reason, position):
    e = error(text)
    assert (e.reason, e.position) == (reason, position)


def test_error_message_shows_text_and_caret():
    e = error("a == 'b' && c")
    lines = str(e).splitlines()
    assert lines[0] == "expected operator after label, found end of selector at position 13"
    assert lines[1] == "  a == 'b' && c"
    assert lines[2] == "  " + " " * 13 + "^"
    assert e.text == "a == 'b' && c"


def test_syntax_error_is_a_policy_error_and_value_error():
    from netpolicy import PolicyError

    e = error("(")
    assert isinstance(e, PolicyError) and isinstance(e, ValueError)


# --- canonical text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a=='b'", 'a == "b"'),
        ("a!='b'", 'a != "b"'),
        ("a contains'b'", 'a contains "b"'),
        ("a startswith 'b'", 'a starts with "b"'),
        ("a starts  with 'b'", 'a starts with "b"'),
        ("a endswith 'b'", 'a ends with "b"'),
        ("a notin {'b'}", 'a not in {"b"}'),
        ("has( a )", "has(a)"),
        ("all( )", "all()"),
        ("global(\t)", "global()"),
        ("a in {}", "a in {}"),
        ("a not in {}", "a not in {}"),
        # quote choice: double unless the value holds a double quote
        ("a == ''", 'a == ""'),
        ("a == \"it's\"", "a == \"it's\""),
        ("a == '\"'", "a == '\"'"),
        ("a in {'\"', \"'\", 'x'}", "a in {'\"', \"'\", \"x\"}"),
        # sets: bytewise order, de-duplicated
        ("a in {'b', 'B', 'a', '_', 'b', '1'}", 'a in {"1", "B", "_", "a", "b"}'),
        ("a in {'é', 'z', 'Z'}", 'a in {"Z", "z", "é"}'),
        # every n-ary group parenthesised, including the top
        ("has(a) && has(b)", "(has(a) && has(b))"),
        ("has(a) || has(b) && has(c)", "(has(a) || (has(b) && has(c)))"),
        ("!(k == 'v')", '!k == "v"'),
        ("!(has(a) || has(b))", "!(has(a) || has(b))"),
        ("!!!(k == 'v')", '!k == "v"'),
        ("", "all()"),
        ("global()", "global()"),
    ],
)
def test_canonical_text(text, expected):
    assert canon(text) == expected
    assert canon(expected) == expected


def test_equality_and_hash_follow_canonical_text():
    a, b = Selector.parse("a=='x'&&has(b)"), Selector.parse('(a == "x" && has(b))')
    assert a == b and hash(a) == hash(b) and a is not b
    assert Selector.parse("has(a)") != Selector.parse("has(b)")
    assert Selector.parse("all()") != Selector.parse("global()")
    assert Selector.parse("") == Selector.parse("all()")
    assert Selector.parse("has(a)") != "has(a)"


def test_unique_ids():
    assert Selector.parse("").unique_id == "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"
    assert Selector.parse(" (all() )").unique_id == "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"
    assert Selector.parse("! (has( b)||! has(a ))").unique_id == "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"
    assert Selector.parse("has(a)").unique_id != Selector.parse("has(b)").unique_id
