"""Properties of the selector language: round trips, an independent oracle, and that no
text makes the parser raise anything but SelectorSyntaxError."""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from netpolicy import Selector, SelectorSyntaxError
from netpolicy.testing import strategies as nps

LABEL_KEYS = ("app", "role", "a", "example.com/team", "x.y/z-1", "in", "has", "all")
LABEL_VALUES = ("web", "db", "", "a", "we", "b", "it's", 'say "hi"', "x y", "\\", "{}")
labels = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=4)


@given(nps.selectors())
def test_canonical_text_round_trips(sel: Selector) -> None:
    again = Selector.parse(str(sel))
    assert again == sel
    assert str(again) == str(sel)
    assert hash(again) == hash(sel)


@given(nps.selector_exprs(), labels)
def test_parse_agrees_with_oracle(expr: nps.SelectorExpr, label_map: dict[str, str]) -> None:
    sel = Selector.parse(expr.text)
    assert sel.matches(label_map) == expr.matches(label_map)
    # Canonical text means the same thing as the text it came from.
    assert Selector.parse(str(sel)).matches(label_map) == expr.matches(label_map)


@given(nps.selector_exprs())
def test_text_variants_parse_like_their_plain_form(expr: nps.SelectorExpr) -> None:
    assert Selector.parse(expr.text) == Selector.parse(expr.plain_text())


@given(nps.selector_exprs())
def test_canonical_text_matches_the_specification(expr: nps.SelectorExpr) -> None:
    assert str(Selector.parse(expr.text)) == expr.canonical_text()


def _only_syntax_errors(text: str) -> None:
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert "^" in str(error)
        return
    # Whatever parses has a canonical form that parses to the same selector.
    assert Selector.parse(str(sel)) == sel


SELECTOR_ALPHABET = st.sampled_from(list("ab=!&|(){}'\", \t\n\\-./_") + ["has(", "all(", "global(", " in ", " not in ", " contains ", " starts with ", "ends", "with", "notin"])


@given(st.text())
@example("a == 'x")
@example("has(a")
@example("a in {'x',,}")
@example("a" * 513 + " == 'x'")
@example("\x00")
@example("a == 'b' c == 'd'")
def test_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    _only_syntax_errors(text)


@given(st.lists(SELECTOR_ALPHABET, max_size=30).map("".join))
def test_token_soup_raises_only_syntax_errors(text: str) -> None:
    _only_syntax_errors(text)


@given(nps.selector_texts(), st.data())
def test_mutated_selectors_raise_only_syntax_errors(text: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(text)))
    action = data.draw(st.sampled_from(("delete", "insert", "replace")))
    char = data.draw(SELECTOR_ALPHABET)
    if action == "delete":
        text = text[:position] + text[position + 1 :]
    elif action == "insert":
        text = text[:position] + char + text[position:]
    else:
        text = text[:position] + char + text[position + 1 :]
    _only_syntax_errors(text)


def test_from_type_selector() -> None:
    @given(st.from_type(Selector))
    def check(sel: Selector) -> None:
        assert isinstance(sel, Selector)

    check()


def test_strategy_arguments_are_checked_eagerly() -> None:
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        nps.selector_exprs(keys=["bad key"])
    with pytest.raises(InvalidArgument):
        nps.selector_exprs(values=["'\""])
    with pytest.raises(InvalidArgument):
        nps.selector_exprs(max_leaves=0)
    with pytest.raises(InvalidArgument):
        nps.label_keys(max_size=64)


@given(nps.selector_exprs(allow_global=False), labels)
def test_prefixing_renames_every_label(expr: nps.SelectorExpr, label_map: dict[str, str]) -> None:
    sel = Selector.parse(expr.text)
    prefixed = sel.prefixed("pcns.")
    assert prefixed.matches({"pcns." + k: v for k, v in label_map.items()}) == expr.matches(label_map)
    assert Selector.parse(str(prefixed)) == prefixed


@given(nps.selector_exprs())
def test_unique_id_is_the_hash_of_the_canonical_text(expr: nps.SelectorExpr) -> None:
    import base64
    import hashlib

    canonical = expr.canonical_text()
    digest = hashlib.sha224(("s:" + canonical).encode()).digest()
    expected = "s:" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert Selector.parse(expr.text).unique_id == expected
