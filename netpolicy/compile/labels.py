"""Label maps as the compiler sees them: each endpoint's or network set's labels kept to
the label keys some selector reads, so that entities differing only elsewhere (a
pod-template-hash) share one map; every selector is matched against all maps at once."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..selector._columns import LabelColumns

__all__ = ["LabelMaps"]


class LabelMaps:
    """The distinct label maps, numbered in order of first sight. Every map is added
    before the first selector is matched."""

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys  #: the label keys some selector reads
        self._maps: list[Mapping[str, str]] = []
        self._ids: dict[frozenset[tuple[str, str]], int] = {}
        self._match_cache: dict[Any, np.ndarray] = {}
        self._columns: LabelColumns | None = None

    def __len__(self) -> int:
        return len(self._maps)

    def id_of(self, labels: Mapping[str, str]) -> int:
        """The id of a label map, kept to the labels some selector reads."""
        wanted = self.keys
        kept = {k: v for k, v in labels.items() if k in wanted}
        key = frozenset(kept.items())
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._maps)
            self._maps.append(kept)
        return found

    def matches(self, selector: Any) -> np.ndarray:
        """Whether ``selector`` matches each distinct label map."""
        hits = np.zeros(len(self._maps), np.bool_)
        hits[self.matching(selector)] = True
        return hits

    def matching(self, selector: Any) -> np.ndarray:
        """The label maps ``selector`` matches, as sorted ids (cached)."""
        try:
            cached = self._match_cache.get(selector)
        except TypeError:  # unhashable selector: key by text
            selector_key: Any = ("text", str(selector))
            cached = self._match_cache.get(selector_key)
        else:
            selector_key = selector
        if cached is None:
            if not selector.label_keys <= self.keys:  # every selector is known up front
                raise RuntimeError(f"selector {selector} was not collected before label maps were kept")
            if self._columns is None:  # every label map is known by the first match
                self._columns = LabelColumns(self._maps, self.keys)
            cached = self._match_cache[selector_key] = np.flatnonzero(self._columns.matching(selector))
        return cached

    def release(self) -> None:
        """Drops the maps by content and their columns once no more selectors are to be
        matched (cached matches stay)."""
        self._columns = None
        self._ids = {}
