"""The worked examples of docs/fuzzing.md run, and their properties catch the mistake
the page describes."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest

from .support import requires_loader

pytestmark = requires_loader

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "fuzzing.md"


def _namespace(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "fuzzing_doc"}
    exec(compile(source, str(PAGE), "exec"), namespace)
    return namespace


def _code() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S))


def test_the_examples_hold() -> None:
    namespace = _namespace(_code())
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()


def test_the_first_property_catches_a_wrong_protocol() -> None:
    code = _code()
    wrong = "ports: [{protocol: UDP, port: 8080}]"
    assert "ports: [{protocol: TCP, port: http}]" in code
    namespace = _namespace(code.replace("ports: [{protocol: TCP, port: http}]", wrong))
    with pytest.raises(AssertionError) as failure:
        namespace["test_new_policy_keeps_what_old_allowed"]()
    notes = failure.value.__notes__ if hasattr(failure.value, "__notes__") else None
    text = "\n".join(notes or [])
    # Whatever sides it shrinks to (names or addresses), the failing flow is TCP to 8080.
    assert "protocol=6" in text and "dst_port=8080" in text, text
    # The example the page quotes is one the wrong policy breaks.
    shown = "Flow(src='shop/front', dst='shop/api', protocol=6, dst_port=8080)"
    assert shown in PAGE.read_text()
    flow = namespace["netpolicy"].Flow(src="shop/front", dst="shop/api", protocol=6, dst_port=8080)
    assert namespace["old"].evaluate(flow).allowed and not namespace["new"].evaluate(flow).allowed
