"""What the fuzz targets check, and the inputs Hypothesis makes for them.

Each target is a function of one input (bytes) that returns normally or raises: an
exception it raises is a finding. Both engines call the same functions: atheris feeds
them libFuzzer's mutations, Hypothesis the inputs of :func:`inputs` (the seeds and
dictionary in this directory, what netpolicy's strategies generate, and edits of both).
"""

from __future__ import annotations

import ast
import json
import pathlib
from typing import Any, Callable

import netpolicy
from netpolicy import Flow, PolicyError, Selector, SelectorSyntaxError

__all__ = ["TARGETS", "check_manifest", "check_selector", "inputs"]

HERE = pathlib.Path(__file__).resolve().parent
LABELS = ({}, {"a": ""}, {"a": "a", "b": "b"}, {"app": "web"}, {"a": "x", "app": "db", "x": "a"})
EXTERNAL = "192.168.0.7"


def check_selector(data: bytes) -> None:
    """``Selector.parse`` raises nothing but SelectorSyntaxError (with a position inside
    the text); what parses prints a canonical text that parses back to an equal
    selector, prints the same again, and matches the same labels."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        sel = Selector.parse(text)
    except SelectorSyntaxError as error:
        if not 0 <= error.position <= len(text):
            raise AssertionError(f"position {error.position} outside the text") from error
        return
    canonical = str(sel)
    again = Selector.parse(canonical)
    if again != sel or str(again) != canonical:
        raise AssertionError(f"canonical text {canonical!r} of {text!r} does not round-trip")
    for labels in LABELS:
        if sel.matches(labels) != again.matches(labels):
            raise AssertionError(f"{text!r} and its canonical text {canonical!r} disagree on {labels}")


def check_manifest(data: bytes) -> None:
    """``netpolicy.loads`` raises nothing but PolicyError; what loads evaluates flows
    between its endpoints (or refuses one with PolicyError), and ``evaluate_many``
    agrees with ``evaluate``."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        ps = netpolicy.loads(text, strict=len(data) % 2 == 0)
    except PolicyError:
        return
    sides: list[Any] = [e.key for e in ps.endpoints if e.name and e.namespace][:3]
    sides += [str(ip) for e in ps.endpoints for ip in e.ips][:3]
    sides.append(EXTERNAL)
    flows = []
    for src in sides:
        for dst in sides:
            for protocol, port in (("TCP", 80), ("UDP", 53), ("ICMP", None)):
                try:
                    flows.append(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
                except PolicyError:
                    pass
    decided = []
    for flow in flows:
        try:
            decided.append((flow, ps.evaluate(flow).allowed))
        except PolicyError:
            pass
    if decided:
        many = ps.evaluate_many([flow for flow, _ in decided])
        expected = [allowed for _, allowed in decided]
        if list(many.allowed) != expected:
            raise AssertionError(f"evaluate_many {list(many.allowed)} != evaluate {expected}")


TARGETS: dict[str, Callable[[bytes], None]] = {"selector": check_selector, "manifest": check_manifest}


# -- Hypothesis inputs ----------------------------------------------------------------------


def dictionary(name: str) -> list[bytes]:
    """The tokens of a libFuzzer dictionary (``"token"`` or ``name="token"`` lines)."""
    tokens = []
    for line in (HERE / f"{name}.dict").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        quoted = line[line.index('"'):]
        tokens.append(ast.literal_eval("b" + quoted))
    return tokens


def seeds(name: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((HERE / "seeds" / name).iterdir()) if path.is_file()]


def inputs(name: str) -> Any:
    """The Hypothesis strategy of inputs for target ``name``."""
    from hypothesis import strategies as st

    from netpolicy.testing import strategies as nps

    tokens = dictionary(name)
    if name == "selector":
        valid = nps.selector_texts().map(str.encode)
    else:
        valid = st.one_of(
            nps.manifests(max_pods=3, max_policies=3).map(_yaml),
            nps.manifests(max_pods=2, max_policies=2, ipv6=False).map(lambda docs: json.dumps(docs).encode()),
        )
    base = st.one_of(st.sampled_from(seeds(name)), valid)
    soup = st.lists(st.one_of(st.sampled_from(tokens), st.binary(max_size=3)), max_size=30).map(b"".join)
    return st.one_of(
        valid,
        _edited(base, tokens),
        soup,
        st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )


def _yaml(documents: list[dict[str, Any]]) -> bytes:
    import yaml

    return yaml.safe_dump_all(documents).encode()


def _edited(base: Any, tokens: list[bytes]) -> Any:
    """Inputs from ``base`` with a few edits: a token inserted or put in place of a span,
    a span deleted or repeated, a line deleted, repeated or indented."""
    from hypothesis import strategies as st

    @st.composite
    def edited(draw: Any) -> bytes:
        data = bytearray(draw(base))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data)))
            end = draw(st.integers(at, min(len(data), at + 16)))
            how = draw(st.sampled_from(("insert", "replace", "delete", "repeat", "line")))
            if how == "insert":
                data[at:at] = draw(st.sampled_from(tokens))
            elif how == "replace":
                data[at:end] = draw(st.sampled_from(tokens))
            elif how == "delete":
                del data[at:end]
            elif how == "repeat":
                data[at:at] = data[at:end]
            else:
                lines = bytes(data).split(b"\n")
                k = draw(st.integers(0, len(lines) - 1))
                change = draw(st.sampled_from(("delete", "repeat", "indent", "dedent")))
                if change == "delete":
                    del lines[k]
                elif change == "repeat":
                    lines.insert(k, lines[k])
                elif change == "indent":
                    lines[k] = b"  " + lines[k]
                else:
                    lines[k] = lines[k][2:] if lines[k].startswith(b"  ") else lines[k]
                data = bytearray(b"\n".join(lines))
        return bytes(data)

    return edited()
