"""Calico's selector language (placeholder until the parser lands)."""
from __future__ import annotations
from typing import Any, Mapping

__all__ = ["Selector"]


class Selector:
    @classmethod
    def parse(cls, text: str) -> "Selector":
        raise NotImplementedError

    def matches(self, labels: Mapping[str, str]) -> bool:
        raise NotImplementedError
