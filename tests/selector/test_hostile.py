"""Hostile input: any text gives a Selector or a SelectorSyntaxError, without recursion
anywhere (parse, render, hash, match, prefix, pickle, restrictions), and with work linear
in the length of the text. Work is counted (lines of Python executed), never timed."""

import pickle
import sys

import pytest

from netpolicy import Selector, SelectorSyntaxError

N = 5000

# Operations per character of input allowed (measured: 17 to 150), and the growth
# allowed when the input grows 4 times (linear: 4; quadratic: 16).
PER_CHARACTER = 250
GROWTH = 5.0


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
    "parens": lambda n: "(" * n + "has(a)" + ")" * n,
    "negated groups": lambda n: "!(" * n + "has(a)" + ")" * n,
    "nested and": lambda n: "(a == 'x' && " * n + "has(a)" + ")" * n,
    "nested or": lambda n: "(b == 'x' || " * n + "has(a)" + ")" * n,
    "mixed": lambda n: "!(has(b) || (a == 'x' && " * n + "has(a)" + "))" * n,
    "nots": lambda n: "!" * (10 * n) + "has(a)",
    "wide": lambda n: " && ".join(["has(a)"] * n),
    "big set": lambda n: "a in {" + ", ".join(f"'{i}'" for i in range(n)) + "}",
}

BAD = {
    "open parens": lambda n: "(" * n,
    "close parens": lambda n: ")" * n,
    "one close short": lambda n: "(" * n + "has(a)" + ")" * (n - 1),
    "one open short": lambda n: "(" * (n - 1) + "has(a)" + ")" * n,
    "nots only": lambda n: "!" * n,
    "long label": lambda n: "a" * (20 * n),
    "quotes": lambda n: "'" * (20 * n + 1),
    "has(": lambda n: "has(" * n,
    "braces": lambda n: "{" * n,
    "ands": lambda n: "&&" * n,
    "unclosed set": lambda n: "a in {" + "'x'," * n,
}


def assert_linear(count_operations, make, run):
    """``run(text)`` on texts of two sizes: at most PER_CHARACTER operations per character,
    and no faster than linear growth."""
    counts = []
    for n in (250, 1000):
        text = make(n)
        _, ops = count_operations(lambda: run(text), budget=PER_CHARACTER * len(text))
        counts.append(ops)
    assert counts[1] <= GROWTH * counts[0], counts


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_and_wide_input_is_handled_without_recursion(name):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # prove no step recurses with depth
    try:
        sel = Selector.parse(DEEP[name](N))
        exercise(sel)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_and_wide_input_takes_linear_work(name, count_operations):
    assert_linear(count_operations, DEEP[name], lambda text: exercise(Selector.parse(text)))


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_deep_input_fails_cleanly(name):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        with pytest.raises(SelectorSyntaxError):
            Selector.parse(BAD[name](N))
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_deep_input_fails_after_linear_work(name, count_operations):
    def run(text):
        with pytest.raises(SelectorSyntaxError):
            Selector.parse(text)

    assert_linear(count_operations, BAD[name], run)


@pytest.mark.parametrize("text", ["\x00", "\ud800", "has(a)\x00", "a == '\ud800'", "\uffff", "\U0010ffff", "a == '\x00'"])
def test_odd_characters(text):
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError:
        return
    exercise(sel)
