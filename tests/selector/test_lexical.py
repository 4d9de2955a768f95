"""One test per lexical rule of the selector tokenizer (spec §A.1)."""

import pytest

from netpolicy import Selector, SelectorSyntaxError
from netpolicy.selector._tokenizer import tokenize


def kinds(text):
    return [kind for kind, _value, _pos in tokenize(text)]


def values(text):
    return [value for _kind, value, _pos in tokenize(text)]


def rejects(text):
    with pytest.raises(SelectorSyntaxError):
        Selector.parse(text)


# --- blanks -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t", " \t  \t"])
def test_blank_only_is_all(text):
    assert tokenize(text) == []
    assert str(Selector.parse(text)) == "all()"


def test_space_and_tab_are_blanks_anywhere_between_tokens():
    assert str(Selector.parse("\t a\t==\t'b' \t&&\thas( \tc\t)\t")) == '(a == "b" && has(c))'


@pytest.mark.parametrize("blank", ["\n", "\r", "\f", "\v", "\u00a0", "\u2003"])
@pytest.mark.parametrize("where", ["{}a == 'b'", "a{}== 'b'", "a =={}'b'", "a == 'b'{}"])
def test_other_whitespace_is_an_error(blank, where):
    rejects(where.format(blank))


def test_newline_inside_a_string_is_fine():
    sel = Selector.parse("a == 'x\ny'")
    assert sel.matches({"a": "x\ny"})


# --- identifiers --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "A", "0", "_", ".", "/", "-", "-x", "1a", "a..b//c", "k8s.io/app-name_1"])
def test_identifier_bytes(name):
    assert tokenize(f"{name} == 'v'")[0][:2] == ("LABEL", name)
    assert tokenize(f"has({name})")[0][:2] == ("HAS", name)


@pytest.mark.parametrize("char", ["%", "@", "#", "$", "^", "*", "+", ":", ";", "<", ">", "?", "[", "\\", "~", "`", "é"])
def test_non_identifier_characters_are_errors(char):
    rejects(f"a{char}b == 'v'")
    rejects(f"{char}")


def test_label_length_limit_is_512_bytes():
    assert Selector.parse("x" * 512 + " == 'v'").matches({"x" * 512: "v"})
    assert Selector.parse("has(" + "x" * 512 + ")").label_keys == {"x" * 512}
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse("x" * 513 + " == 'v'")
    assert info.value.position == 0 and "512" in info.value.reason
    rejects("has(" + "x" * 513 + ")")


def test_identifier_is_a_maximal_run():
    assert values("ab.c/d-e_f==''")[0] == "ab.c/d-e_f"


# --- string literals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal, body",
    [
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("''", ""),
        ('""', ""),
        ("'a\"b'", 'a"b'),
        ("\"a'b\"", "a'b"),
        ("'a\\b'", "a\\b"),  # backslash is an ordinary byte
        ("'é ☃ \t'", "é ☃ \t"),
        ("'a && b || !c'", "a && b || !c"),
    ],
)
def test_string_literal_bodies(literal, body):
    toks = tokenize(f"k == {literal}")
    assert toks[-1][:2] == ("STRING", body)


def test_no_escapes_the_body_ends_at_the_next_same_quote():
    rejects(r"k == 'it\'s'")
    assert tokenize(r"k == 'a\' == 'b'")[2][1] == "a\\"


@pytest.mark.parametrize("text", ["k == 'abc", 'k == "abc', "k == \"abc'", "k == 'abc\""])
def test_unterminated_string(text):
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse(text)
    assert info.value.reason == "unterminated string"
    assert info.value.position == 5


# --- punctuation and operators ------------------------------------------------------------


def test_punctuation_tokens():
    assert kinds("(){},") == ["_LPAR", "_RPAR", "_LBRACE", "_RBRACE", "_COMMA"]
    assert kinds("a==''") == ["LABEL", "_EQ", "STRING"]
    assert kinds("a!=''") == ["LABEL", "_NE", "STRING"]
    assert kinds("!a") == ["NOT", "LABEL"]
    assert kinds("!!") == ["NOT", "NOT"]
    assert kinds("&&||") == ["_AND", "_OR"]


@pytest.mark.parametrize("text, position", [("a = 'b'", 2), ("has(a) & has(b)", 7), ("has(a) | has(b)", 7), ("=", 0)])
def test_lone_eq_amp_bar_are_errors(text, position):
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse(text)
    assert info.value.position == position


def test_bang_eq_is_ne_not_not():
    assert kinds("a != 'x'") == ["LABEL", "_NE", "STRING"]
    assert kinds("!= 'x'") == ["_NE", "STRING"]
    assert kinds("! == 'x'")[:2] == ["NOT", "_EQ"]


# --- has(), all(), global() ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["has(a)", "has( a)", "has(a )", "has(\t a \t)"])
def test_has_allows_blanks_inside(text):
    assert tokenize(text) == [("HAS", "a", 0)]


@pytest.mark.parametrize("text", ["all()", "all( )", "all(\t)"])
def test_all_allows_blanks_inside(text):
    assert kinds(text) == ["ALL"]


@pytest.mark.parametrize("text", ["global()", "global( )", "global(\t \t)"])
def test_global_allows_blanks_inside(text):
    assert kinds(text) == ["GLOBAL"]


@pytest.mark.parametrize("text", ["has (a)", "all ()", "global ()", "has\t(a)"])
def test_call_words_need_the_paren_immediately(text):
    assert kinds(text)[:2] == ["LABEL", "_LPAR"]
    rejects(text)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("has()", "expected label name in has(), found ')'"),
        ("has(a b)", "expected ')' to close has("),
        ("has(a", "expected ')' to close has("),
        ("has(", "expected label name in has(), found end of selector"),
        ("has(%)", "expected label name in has(), found '%'"),
        ("all(x)", "expected ')' to close all("),
        ("global(x)", "expected ')' to close global("),
        ("all(", "expected ')' to close all("),
    ],
)
def test_malformed_calls(text, reason):
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse(text)
    assert info.value.reason == reason


def test_call_words_are_labels_without_paren():
    assert tokenize("has == 'x'")[0][:2] == ("LABEL", "has")
    assert tokenize("all == 'x'")[0][:2] == ("LABEL", "all")
    assert tokenize("global != 'x'")[0][:2] == ("LABEL", "global")
    assert tokenize("hasx(a)")[0][:2] == ("LABEL", "hasx")


# --- operator words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, kind",
    [
        ("contains", "_CONTAINS"),
        ("starts with", "_STARTSWITH"),
        ("startswith", "_STARTSWITH"),
        ("starts \t with", "_STARTSWITH"),
        ("ends with", "_ENDSWITH"),
        ("endswith", "_ENDSWITH"),
        ("ends  with", "_ENDSWITH"),
        ("not in", "_NOTIN"),
        ("notin", "_NOTIN"),
        ("not\t in", "_NOTIN"),
        ("in", "_IN"),
    ],
)
def test_operator_words_after_a_label(op, kind):
    assert kinds(f"a {op} 'x'")[1] == kind
    assert kinds(f"a {op}'x'")[1] == kind  # a quote is a word boundary
    assert kinds(f"a {op}")[1] == kind  # end of input is a word boundary


@pytest.mark.parametrize(
    "text",
    [
        "a containsx 'v'",
        "a containss 'v'",
        "a ends withs 'value'",
        "a starts withx 'v'",
        "a in-x {}",
        "a in.x {}",
        "a in/x {}",
        "a notinx {}",
        "a inx {}",
        "a not 'v'",
        "a starts 'v'",
        "a ends foo 'v'",
        "a squiggles 'v'",
        "a b",
        "a has(b)",
        "a all()",
    ],
)
def test_operator_word_needs_word_boundary_or_fails(text):
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse(text)
    assert info.value.reason == "expected operator after label"
    assert info.value.position == 2


def test_operator_word_boundary_may_be_any_non_identifier_byte():
    assert kinds("a in{}") == ["LABEL", "_IN", "_LBRACE", "_RBRACE"]
    assert kinds("a contains(")[:2] == ["LABEL", "_CONTAINS"]


def test_blanks_after_two_word_operator_are_consumed_before_the_boundary_check():
    # "starts with x": after "with" the blanks go, then "x" is not a boundary.
    with pytest.raises(SelectorSyntaxError) as info:
        Selector.parse("a starts with x")
    assert info.value.reason == "expected operator after label"


def test_operator_words_only_right_after_a_label():
    assert kinds("in in {'a'}") == ["LABEL", "_IN", "_LBRACE", "STRING", "_RBRACE"]
    assert kinds("contains contains 'contains'") == ["LABEL", "_CONTAINS", "STRING"]
    assert kinds("not in {}")[:2] == ["LABEL", "_IN"]
    assert kinds("notin == 'x'")[:2] == ["LABEL", "_EQ"]
    assert kinds("startswith starts with 'v'") == ["LABEL", "_STARTSWITH", "STRING"]
    assert kinds("!in == 'x'") == ["NOT", "LABEL", "_EQ", "STRING"]


def test_punctuation_after_label_is_still_punctuation():
    assert kinds("a == 'x'")[1] == "_EQ"
    assert kinds("a ( ")[1] == "_LPAR"
    assert kinds("a {")[1] == "_LBRACE"
    assert kinds("a 'x'")[1] == "STRING"


def test_operator_words_are_case_sensitive():
    rejects("a IN {'x'}")
    rejects("a Contains 'x'")


def test_token_positions():
    assert [pos for _k, _v, pos in tokenize("  ab == 'c' && !has( d )")] == [2, 5, 8, 12, 15, 16]
