"""From bytes, text or parsed objects to :class:`Read` records: decoding, then the JSON
or the YAML reader."""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import Problem
from ._bounds import AliasBomb, check_expansion, object_children
from ._documents import Read, documents
from ._json import read_json
from ._yaml import read_yaml

__all__ = ["Read", "read_text", "read_bytes", "read_objects"]


def read_bytes(data: bytes, file: str | None) -> Read:
    """Decode ``data`` (UTF-8, optionally with a byte-order mark; UTF-16 with one) and
    read it. Bytes that are not valid text are a problem at their line and column."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        before = data[start : error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1 + start if b"\n" in before else start) + 1
        bad = data[error.start : error.start + 1]
        return Read([], [
            Problem(
                message=f"the file is not valid UTF-8 (byte 0x{bad.hex()} at offset {error.start})",
                file=file,
                line=line,
                column=column,
            )
        ])
    return read_text(text, file)


def read_text(text: str, file: str | None) -> Read:
    """Every object in ``text`` (YAML documents, JSON, sequences, List wrappers) as a
    Document, and the problems that stopped reading."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        result = read_json(text, file)
        if result is not None:
            return result
    return read_yaml(text, file)


def read_objects(objects: Iterable[Any]) -> Read:
    """Already parsed manifests: each element is one document (a mapping, a List
    wrapper or a sequence of mappings). Inputs are never modified."""
    result = Read([], [])
    found, problems = result.documents, result.problems
    if isinstance(objects, dict):
        objects = [objects]
    elif isinstance(objects, (str, bytes)) or not isinstance(objects, Iterable):
        problems.append(Problem(message=f"expected a list of manifest mappings, got {type(objects).__name__}"))
        return result
    for index, body in enumerate(objects, start=1):
        try:
            check_expansion(body, object_children)
        except AliasBomb as error:
            problems.append(Problem(message=str(error), document=index))
            continue
        if body is None:
            continue
        found.extend(documents(body, file=None, index=index, locator=None, root=None, warnings=result.warnings))
    return result
