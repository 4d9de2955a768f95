"""Hostile input: any text gives a Selector or a SelectorSyntaxError, quickly, without
recursion anywhere (parse, render, hash, match, prefix, pickle, restrictions)."""

import pickle
import sys
import time

import pytest

from netpolicy import Selector, SelectorSyntaxError

N = 5000


def exercise(sel):
    str(sel)
    hash(sel)
    hash(sel.root)
    repr(sel.root)
    sel == Selector.parse(str(sel))
    sel.root == sel.root
    sel.unique_id
    sel.label_keys
    sel.label_restrictions
    sel.prefixed("p.")
    pickle.loads(pickle.dumps(sel))
    pickle.loads(pickle.dumps(sel.root))
    return sel.matches({"a": "x", "b": ""})


DEEP = {
    "parens": "(" * N + "has(a)" + ")" * N,
    "negated groups": "!(" * N + "has(a)" + ")" * N,
    "nested and": "(a == 'x' && " * N + "has(a)" + ")" * N,
    "nested or": "(b == 'x' || " * N + "has(a)" + ")" * N,
    "mixed": "!(has(b) || (a == 'x' && " * N + "has(a)" + "))" * N,
    "nots": "!" * (10 * N) + "has(a)",
    "wide": " && ".join(["has(a)"] * N),
    "big set": "a in {" + ", ".join(f"'{i}'" for i in range(N)) + "}",
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_and_wide_input_is_handled_in_well_under_a_second(name):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # prove no step recurses with depth
    try:
        start = time.perf_counter()
        sel = Selector.parse(DEEP[name])
        parsed = time.perf_counter() - start
        exercise(sel)
        total = time.perf_counter() - start
    finally:
        sys.setrecursionlimit(limit)
    assert parsed < 1.0, parsed
    assert total < 5.0, total  # everything else: linear, no hang


@pytest.mark.parametrize(
    "text",
    [
        "(" * N,
        ")" * N,
        "(" * N + "has(a)" + ")" * (N - 1),
        "(" * (N - 1) + "has(a)" + ")" * N,
        "!" * N,
        "a" * 100000,
        "'" * 100001,
        "has(" * N,
        "{" * N,
        "&&" * N,
        "a in {" + "'x'," * N,
    ],
)
def test_bad_deep_input_fails_cleanly_and_fast(text):
    start = time.perf_counter()
    with pytest.raises(SelectorSyntaxError):
        Selector.parse(text)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text", ["\x00", "\ud800", "has(a)\x00", "a == '\ud800'", "\uffff", "\U0010ffff", "a == '\x00'"])
def test_odd_characters(text):
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError:
        return
    exercise(sel)
