"""Converters for the inventory kinds (filled in below)."""

from __future__ import annotations

from typing import Mapping

__all__ = ["CONVERTERS"]

CONVERTERS: Mapping[tuple[str, str], tuple[object, bool]] = {}
