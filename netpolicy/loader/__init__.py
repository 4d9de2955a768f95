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
from typing import Any, Callable, Iterable, TypeVar

from ..errors import Problem, ValidationError
from ._build import Loaded, build
from ._generated import DATASTORES, KUBERNETES, check_datastore
from ._read import read_bytes, read_objects, read_text
from ._sources import DEFAULT_MAX_BYTES, MANIFEST_SUFFIXES, check_max_bytes, read_sources, too_large
from .release import Conversion

__all__ = [
    "Conversion",
    "Loaded",
    "load_paths",
    "load_string",
    "load_objects",
    "paused_gc",
    "MANIFEST_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "DATASTORES",
]

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


def load_paths(
    *paths: str | os.PathLike[str],
    strict: bool = True,
    conversion: Conversion | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    datastore: str = KUBERNETES,
) -> Loaded:
    """Manifests from files and directories (searched recursively for ``*.yaml``,
    ``*.yml`` and ``*.json``, in sorted order); ``"-"`` reads standard input.

    Raises :class:`~netpolicy.ValidationError` listing every problem found; nothing is
    loaded then. With ``strict=False`` unknown kinds are skipped and listed in
    ``warnings`` instead of failing. ``conversion`` says which Calico release to follow
    and how (the newest, and the upstream API where Calico departs from it, by default).
    Only regular files are read (others found in a directory are skipped with a warning,
    one named on its own is an error), each up to ``max_bytes`` (1 GiB by default).
    ``datastore`` is where the cluster keeps Calico's data, ``"kubernetes"`` (the
    default) or ``"etcd"``: with the Kubernetes datastore a Profile manifest may not take
    the name of a profile Calico generates.
    """
    limit = check_max_bytes(max_bytes)
    datastore = check_datastore(datastore)
    reads = read_sources(tuple(os.fspath(path) for path in paths), limit)
    return build(reads, strict=strict, conversion=conversion, datastore=datastore)


def load_string(
    text: str | bytes,
    strict: bool = True,
    conversion: Conversion | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    datastore: str = KUBERNETES,
) -> Loaded:
    """Manifests from one string: YAML documents separated by ``---``, JSON, a sequence
    of objects or List wrappers; at most ``max_bytes`` long (characters for a ``str``).
    The options are those of :func:`load_paths`."""
    limit = check_max_bytes(max_bytes)
    datastore = check_datastore(datastore)
    if isinstance(text, (str, bytes, bytearray)) and len(text) > limit:
        raise ValidationError([too_large(limit, None)])
    if isinstance(text, (bytes, bytearray)):
        read = read_bytes(bytes(text), None)
    elif isinstance(text, str):
        read = read_text(text, None)
    else:
        raise ValidationError([Problem(message=f"expected text, got {type(text).__name__}")])
    return build([read], strict=strict, conversion=conversion, datastore=datastore)


def load_objects(
    objects: Iterable[Any], strict: bool = True, conversion: Conversion | None = None, datastore: str = KUBERNETES
) -> Loaded:
    """Already parsed manifests (dicts as ``yaml.safe_load``/``json.load`` give them).
    The inputs are not modified. The options are those of :func:`load_paths`."""
    datastore = check_datastore(datastore)
    return build([read_objects(objects)], strict=strict, conversion=conversion, datastore=datastore)
