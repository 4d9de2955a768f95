"""The errors netpolicy raises on bad input. Every one is a :class:`PolicyError`."""

from __future__ import annotations

from typing import Iterable, Sequence

import attrs

__all__ = ["PolicyError", "SelectorSyntaxError", "ValidationError", "Problem"]


class PolicyError(ValueError):
    """Base of every error netpolicy raises on bad input."""


class SelectorSyntaxError(PolicyError):
    """A Calico selector that does not parse.

    ``position`` is the 0-based offset of the fault in ``text``; the message shows the
    text with a caret under that offset.
    """

    def __init__(self, reason: str, text: str, position: int) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(self._render())

    def _render(self) -> str:
        shown = self.text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
        return f"{self.reason} at position {self.position}\n  {shown}\n  {' ' * self.position}^"

    def __reduce__(self) -> tuple[type, tuple[str, str, int]]:
        return (type(self), (self.reason, self.text, self.position))


@attrs.frozen
class Problem:
    """One thing wrong in the input, and where it is.

    ``path`` is the field path inside the document (``spec.ingress[0].ports[1].port``);
    ``line`` and ``column`` are 1-based, ``document`` is the 1-based index of the YAML
    document in its file.
    """

    message: str
    file: str | None = None
    document: int | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""
    kind: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        place = self.file or "<input>"
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        where = []
        if self.document is not None:
            where.append(f"document {self.document}")
        if self.kind:
            where.append(f"{self.kind} {self.name}" if self.name else self.kind)
        if self.path:
            where.append(self.path)
        context = f" ({', '.join(where)})" if where else ""
        return f"{place}: {self.message}{context}"


class ValidationError(PolicyError):
    """One or more documents are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        if not self.problems:
            raise ValueError("ValidationError needs at least one problem")
        first = self.problems[0]
        self.file = first.file
        self.document = first.document
        self.line = first.line
        self.column = first.column
        self.path = first.path
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems:\n" + "\n".join(lines)

    def __reduce__(self) -> tuple[type, tuple[Sequence[Problem]]]:
        return (type(self), (self.problems,))
