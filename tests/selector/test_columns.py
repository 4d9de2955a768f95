"""LabelColumns matches many label maps at once exactly as Selector.matches does one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from netpolicy import Selector
from netpolicy.selector._columns import LabelColumns

from .calico_vectors import MATCH
from .strategies import label_maps, trees


def _columns_for(selector: Selector, maps: list[dict[str, str]]) -> LabelColumns:
    keys = selector.label_keys | {k for m in maps for k in m}
    return LabelColumns(maps, keys)


@pytest.mark.parametrize("text, matching, other", MATCH)
def test_calico_vectors(text: str, matching: list[dict[str, str]], other: list[dict[str, str]]) -> None:
    selector = Selector.parse(text)
    maps = matching + other
    assert _columns_for(selector, maps).matching(selector).tolist() == [True] * len(matching) + [False] * len(other)


@settings(max_examples=300, deadline=None)
@given(trees(), st.lists(label_maps, max_size=12))
def test_equals_matches_map_by_map(tree: object, maps: list[dict[str, str]]) -> None:
    selector = Selector(tree)
    assert _columns_for(selector, maps).matching(selector).tolist() == [selector.matches(m) for m in maps]


def test_labels_not_kept_are_refused() -> None:
    columns = LabelColumns([{"a": "1"}], ["a"])
    with pytest.raises(KeyError):
        columns.matching(Selector.parse("b == '1'"))


def test_deep_selectors_do_not_recurse() -> None:
    text = "(" * 3000 + "a == 'x'" + ")" * 3000
    selector = Selector.parse(text)
    assert LabelColumns([{"a": "x"}, {}], ["a"]).matching(selector).tolist() == [True, False]
