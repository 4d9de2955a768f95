"""Findings of the fuzz targets (tests/fuzz) and of the properties, kept as tests."""

from __future__ import annotations

import base64
import hashlib

import pytest

from netpolicy import Selector


def _calico_id(canonical: str) -> str:
    digest = hashlib.sha224(("s:" + canonical).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize("text", ["!(!!!all())", "!(!has(a))", '!(!a == "x")', "!(!(!has(a)))", "(!(!has(a)) && b == '!!')"])
def test_double_negation_through_parentheses_round_trips(text: str) -> None:
    sel = Selector.parse(text)
    again = Selector.parse(str(sel))
    assert again == sel
    assert again.root == sel.root
    assert str(again) == str(sel)
    assert again.unique_id == sel.unique_id


def test_double_negation_keeps_calicos_canonical_text_and_id() -> None:
    sel = Selector.parse("!(!has(a))")
    assert str(sel) == "!(!has(a))"
    assert sel.canonical == "!!has(a)"  # Calico's own text, which its ID is computed from
    assert sel.unique_id == "s:" + _calico_id("!!has(a)")
    assert sel != Selector.parse("has(a)")


@pytest.mark.parametrize("text", ["!(!!!all())", "!(!has(a))", '!(!a == "x")', "!(!(!has(a)))"])
def test_double_negation_through_parentheses_keeps_its_meaning(text: str) -> None:
    sel = Selector.parse(text)
    again = Selector.parse(str(sel))
    for labels in ({}, {"a": "x"}, {"a": "y"}):
        assert sel.matches(labels) == again.matches(labels)
