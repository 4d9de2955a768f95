"""Manifests to validated resources: read and validate every supported kind, and
return them as one :class:`Loaded` record for the resolve stage to normalize.

Reading is in :mod:`._read` (with :mod:`._yaml` and :mod:`._json`), envelopes in
:mod:`._envelope`, the kinds in :mod:`.inventory`, :mod:`.controllers` and
:mod:`.policies` (joined into one table by :mod:`.kinds`), the records Calico generates
profiles from in :mod:`.records`, and the cross-document checks in :mod:`._build`.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, Callable, Iterable, Iterator, TypeVar

from ..errors import Problem, ValidationError
from ._build import Loaded, build
from ._read import Read, read_bytes, read_objects, read_text
from .release import Conversion

__all__ = ["Conversion", "Loaded", "load_paths", "load_string", "load_objects", "paused_gc", "MANIFEST_SUFFIXES"]

#: Files a directory is searched for.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_T = TypeVar("_T")


def paused_gc(work: Callable[[], _T]) -> _T:
    """Run ``work`` with the cyclic garbage collector paused (loading allocates many
    objects and frees none of them, so collections would only cost time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return work()
    finally:
        if enabled:
            gc.enable()


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


def load_paths(*paths: str | os.PathLike[str], strict: bool = True, conversion: Conversion | None = None) -> Loaded:
    """Manifests from files and directories (searched recursively for ``*.yaml``,
    ``*.yml`` and ``*.json``, in sorted order); ``"-"`` reads standard input.

    Raises :class:`~netpolicy.ValidationError` listing every problem found; nothing is
    loaded then. With ``strict=False`` unknown kinds are skipped and listed in
    ``warnings`` instead of failing. ``conversion`` says which Calico release to follow
    and how (the newest, and the upstream API where Calico departs from it, by default).
    """
    reads = [_read_path(file) for path in paths for file in _files(os.fspath(path))]
    return build(reads, strict=strict, conversion=conversion)


def load_string(text: str | bytes, strict: bool = True, conversion: Conversion | None = None) -> Loaded:
    """Manifests from one string: YAML documents separated by ``---``, JSON, a sequence
    of objects or List wrappers."""
    if isinstance(text, (bytes, bytearray)):
        read = read_bytes(bytes(text), None)
    elif isinstance(text, str):
        read = read_text(text, None)
    else:
        raise ValidationError([Problem(message=f"expected text, got {type(text).__name__}")])
    return build([read], strict=strict, conversion=conversion)


def load_objects(objects: Iterable[Any], strict: bool = True, conversion: Conversion | None = None) -> Loaded:
    """Already parsed manifests (dicts as ``yaml.safe_load``/``json.load`` give them).
    The inputs are not modified."""
    return build([read_objects(objects)], strict=strict, conversion=conversion)
