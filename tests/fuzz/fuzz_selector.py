"""atheris target: Selector.parse on arbitrary bytes.

Run from the repository root:  python tests/fuzz/fuzz_selector.py -max_total_time=3600

Any exception other than SelectorSyntaxError is a finding; so is a selector whose
canonical text does not parse back to an equal selector.
"""

import os
import sys

if __name__ != "__main__":  # imported by a test collector: nothing to do
    raise ImportError("tests/fuzz/fuzz_selector.py is an atheris target; run it as a script")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["netpolicy"]):
    from netpolicy import Selector, SelectorSyntaxError


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError as error:
        if not 0 <= error.position <= len(text):
            raise AssertionError(f"position {error.position} outside the text") from error
        return
    canonical = str(sel)
    again = Selector.parse(canonical)
    # Known finding (tests/properties/test_fuzz_regressions.py): "!(!x)" prints as "!!x",
    # which parses as "x". Until that is fixed, such texts are held to equal meaning only.
    if (again != sel or str(again) != canonical) and "!!" not in canonical:
        raise AssertionError(f"canonical text {canonical!r} does not round-trip")
    if str(Selector.parse(str(again))) != str(again):
        raise AssertionError(f"canonical text of {canonical!r} is not stable")
    for labels in LABELS:
        if sel.matches(labels) != again.matches(labels):
            raise AssertionError(f"{text!r} and its canonical text {canonical!r} disagree on {labels}")


LABELS = ({}, {"a": ""}, {"a": "a", "b": "b"}, {"app": "web"}, {"a": "x", "app": "db", "x": "a"})


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


main()
