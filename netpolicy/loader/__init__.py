"""Manifests to PolicySet (placeholder until the loader lands)."""
from __future__ import annotations
from typing import Any

__all__ = ["load", "loads", "from_objects"]


def load(*paths: str, strict: bool = True) -> Any:
    raise NotImplementedError


def loads(text: str, strict: bool = True) -> Any:
    raise NotImplementedError


def from_objects(objects: Any, strict: bool = True) -> Any:
    raise NotImplementedError
