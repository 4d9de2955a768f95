"""Manifests to :class:`~netpolicy.PolicySet`: read, validate and normalize every
supported kind (api.md "Loading").

Reading is in :mod:`._yaml`, envelopes in :mod:`._envelope`, the kinds in
:mod:`.inventory` and :mod:`.policies` (joined by :mod:`.registry`), and the final model in
:mod:`.normalize` and :mod:`._build`.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from ..errors import Problem, ValidationError
from ._yaml import Read, read_bytes, read_objects, read_text

if TYPE_CHECKING:
    from ..policyset import PolicySet

__all__ = ["load", "loads", "from_objects", "MANIFEST_SUFFIXES"]

#: Files a directory is searched for.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_T = TypeVar("_T")


def _paused_gc(work: Callable[[], _T]) -> _T:
    """Run ``work`` with the cyclic garbage collector paused (loading allocates many
    objects and frees none of them, so collections would only cost time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return work()
    finally:
        if enabled:
            gc.enable()


def _run(reads: list[Read], strict: bool) -> PolicySet:
    from ._build import build

    return build(reads, strict=strict)


def _files(path: str) -> Iterator[str]:
    if os.path.isdir(path):
        found = []
        for folder, dirs, names in os.walk(path):
            dirs.sort()
            for name in names:
                if name.lower().endswith(MANIFEST_SUFFIXES):
                    found.append(os.path.join(folder, name))
        yield from sorted(found)
    else:
        yield path


def _read_path(path: str) -> Read:
    if path == "-":
        stream: Any = sys.stdin
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            return read_bytes(buffer.read(), "<stdin>")
        return read_text(stream.read(), "<stdin>")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return Read([], [Problem(message=f"cannot read: {error.strerror or error}", file=path)])
    return read_bytes(data, path)


def load(*paths: str | os.PathLike[str], strict: bool = True) -> PolicySet:
    """Load manifests from files and directories (searched recursively for ``*.yaml``,
    ``*.yml`` and ``*.json``, in sorted order); ``"-"`` reads standard input.

    Raises :class:`~netpolicy.ValidationError` listing every problem found; nothing is
    loaded then. With ``strict=False`` unknown kinds are skipped and listed in
    ``warnings`` instead of failing.
    """

    def work() -> PolicySet:
        reads = []
        for path in paths:
            text = os.fspath(path)
            for file in _files(text):
                reads.append(_read_path(file))
        return _run(reads, strict)

    return _paused_gc(work)


def loads(text: str | bytes, strict: bool = True) -> PolicySet:
    """Load manifests from one string: YAML documents separated by ``---``, JSON, a
    sequence of objects or List wrappers."""

    def work() -> PolicySet:
        if isinstance(text, (bytes, bytearray)):
            read = read_bytes(bytes(text), None)
        elif isinstance(text, str):
            read = read_text(text, None)
        else:
            raise ValidationError([Problem(message=f"expected text, got {type(text).__name__}")])
        return _run([read], strict)

    return _paused_gc(work)


def from_objects(objects: Iterable[Any], strict: bool = True) -> PolicySet:
    """Load already parsed manifests (dicts as ``yaml.safe_load``/``json.load`` give
    them). The inputs are not modified."""
    return _paused_gc(lambda: _run([read_objects(objects)], strict))
