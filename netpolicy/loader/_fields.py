"""Reading manifest fields with their paths, and collecting every problem found.

Converters read plain parsed values (dicts, lists, scalars) through a :class:`Field`,
which knows its path inside the document (``spec.ingress[0].ports[1].port``). A bad value
is reported to the :class:`Document` it belongs to and reading goes on, so one pass
finds every problem. Line and column are resolved only when a problem is reported, by
the document's ``locate`` callback (the YAML reader provides one).
"""

from __future__ import annotations

import reprlib
from typing import Any, Callable, Collection, Iterator, Sequence

from ..errors import Problem
from ..model import Origin

__all__ = ["Document", "Field", "Path", "format_path", "short_repr", "MISSING"]

Path = tuple[Any, ...]  # str keys and int indexes


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def format_path(path: Path) -> str:
    """``("spec", "ingress", 0, "from")`` → ``spec.ingress[0].from``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class Document:
    """One manifest document: its body, where it came from, and the problems found in it."""

    __slots__ = ("body", "file", "index", "locate", "prefix", "problems", "warnings", "origin", "kind", "name")

    def __init__(
        self,
        body: Any,
        *,
        file: str | None = None,
        index: int | None = None,
        locate: Callable[[Path], tuple[int, int] | None] | None = None,
        prefix: Path = (),
    ) -> None:
        self.body = body
        self.file = file
        self.index = index
        self.locate = locate
        self.prefix = prefix  # path of this object inside its document (items of a List)
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.origin: Origin | None = None  # where the object starts (set by the reader)
        self.kind: str | None = body.get("kind") if isinstance(body, dict) and isinstance(body.get("kind"), str) else None
        meta = body.get("metadata") if isinstance(body, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        self.name: str | None = name if isinstance(name, str) else None

    def root(self) -> "Field":
        return Field(self, (), self.body)

    def position(self, path: Path) -> tuple[int | None, int | None]:
        """1-based line and column of ``path`` (or of its nearest located parent)."""
        if self.locate is None:
            return None, None
        full = self.prefix + path
        for cut in range(len(full), -1, -1):
            found = self.locate(full[:cut])
            if found is not None:
                return found
        return None, None

    def problem(self, path: Path, message: str) -> None:
        line, column = self.position(path)
        self.problems.append(
            Problem(
                message=message,
                file=self.file,
                document=self.index,
                line=line,
                column=column,
                path=format_path(self.prefix + path),
                kind=self.kind,
                name=self.name,
            )
        )

    def warn(self, path: Path, message: str) -> None:
        line, _ = self.position(path)
        place = self.file or "<input>"
        if line is not None:
            place += f":{line}"
        what = f"{self.kind} {self.name}" if self.name else (self.kind or "document")
        where = format_path(self.prefix + path)
        self.warnings.append(f"{place}: {message} ({what}{', ' + where if where else ''})")


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80


def short_repr(value: Any) -> str:
    """A bounded ``repr`` for messages (safe on huge, deep or cyclic values)."""
    try:
        return _REPR.repr(value)
    except Exception:  # a hostile __repr__
        return f"<{type(value).__name__}>"


_new_field = object.__new__


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


class Field:
    """A value at a path in a document. Getters return ``MISSING`` after reporting a
    problem, so callers can go on and find the next one."""

    __slots__ = ("doc", "_path", "_parent", "_key", "value")

    def __init__(self, doc: Document, path: Path, value: Any) -> None:
        self.doc = doc
        self._path: Path | None = path
        self._parent: Field | None = None
        self._key: Any = None
        self.value = value

    @property
    def path(self) -> Path:
        """The field's path in its object (computed on demand: most fields are read
        without ever being reported)."""
        if self._path is None:
            assert self._parent is not None
            self._path = self._parent.path + (self._key,)
        return self._path

    def __repr__(self) -> str:
        return f"Field({format_path(self.path)!r}, {self.value!r})"

    # -- navigation ---------------------------------------------------------------------

    def child(self, key: str | int) -> "Field":
        """The child at ``key`` (its value is MISSING when absent or when this is not a
        container)."""
        value: Any = MISSING
        container = self.value
        if type(container) is dict:
            if type(key) is str:
                value = container.get(key, MISSING)
        elif isinstance(key, int) and isinstance(container, list) and 0 <= key < len(container):
            value = container[key]
        elif isinstance(key, str) and isinstance(container, dict):
            value = container.get(key, MISSING)
        field = _new_field(Field)
        field.doc = self.doc
        field._path = None
        field._parent = self
        field._key = key
        field.value = value
        return field

    __getitem__ = child  # the same (an alias saves a call on the hottest path)

    @property
    def present(self) -> bool:
        """True when the field exists and is not null."""
        return self.value is not MISSING and self.value is not None

    def problem(self, message: str) -> Any:
        """Report ``message`` at this field; returns MISSING for convenient chaining."""
        self.doc.problem(self.path, message)
        return MISSING

    def warn(self, message: str) -> None:
        self.doc.warn(self.path, message)

    def _wrong_type(self, expected: str) -> Any:
        return self.problem(f"expected {expected}, got {_type_name(self.value)} {short_repr(self.value)}")

    def convert_each(self, convert: Callable[["Field"], Any], *, flatten: bool = False) -> list[Any] | Any:
        """``convert`` applied to every item of a list (each result's items joined when
        ``flatten``). MISSING when the field is not a list or any item failed; the
        problems are reported by ``convert``."""
        results: list[Any] = []
        ok = not self.present or isinstance(self.value, list)
        for item in self.items():
            converted = convert(item)
            if converted is MISSING:
                ok = False
            elif flatten:
                results.extend(converted)
            else:
                results.append(converted)
        return results if ok else MISSING

    # -- typed getters: each returns the value, a default when absent, or MISSING -------

    def mapping(self, *, required: bool = False, known: Collection[str] | None = None) -> dict[str, Any] | Any:
        """A mapping (``{}`` when absent and not required). With ``known``, every other
        key is reported as a warning (unknown fields are never silently dropped)."""
        value = self.value
        if value is MISSING or value is None:
            return self.problem("required field is missing") if required else {}
        if not isinstance(value, dict):
            return self._wrong_type("a mapping")
        if known is not None and known.__class__ is frozenset and known.issuperset(value):
            return value  # every key is a known string: nothing to report
        for key in value:
            if not isinstance(key, str):
                self.problem(f"mapping key {key!r} is not a string")
            elif known is not None and key not in known:
                self.child(key).warn(f"unknown field {key!r} ignored")
        return value

    def items(self, *, required: bool = False) -> Iterator["Field"]:
        """The fields of a list (nothing when absent)."""
        value = self.value
        if value is MISSING or value is None:
            if required:
                self.problem("required field is missing")
            return
        if not isinstance(value, list):
            self._wrong_type("a list")
            return
        for index in range(len(value)):
            yield self.child(index)

    def string(self, *, required: bool = False, default: Any = None, allow_empty: bool = True) -> str | Any:
        value = self.value
        if value is MISSING or value is None:
            return self.problem("required field is missing") if required else default
        if not isinstance(value, str):
            return self._wrong_type("a string")
        if not allow_empty and not value:
            return self.problem("must not be empty")
        return value

    def integer(self, *, required: bool = False, default: Any = None, low: int | None = None, high: int | None = None) -> int | Any:
        if not self.present:
            return self.problem("required field is missing") if required else default
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            return self._wrong_type("an integer")
        if (low is not None and self.value < low) or (high is not None and self.value > high):
            return self.problem(f"{self.value} is outside {low}-{high}")
        return self.value

    def number(self, *, required: bool = False, default: Any = None) -> float | Any:
        if not self.present:
            return self.problem("required field is missing") if required else default
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            return self._wrong_type("a number")
        if self.value != self.value or self.value in (float("inf"), float("-inf")):
            return self.problem(f"{self.value} is not a finite number")
        return float(self.value)

    def boolean(self, *, default: bool = False) -> bool | Any:
        if not self.present:
            return default
        if not isinstance(self.value, bool):
            return self._wrong_type("true or false")
        return self.value

    def choice(self, options: Sequence[str], *, required: bool = False, default: Any = None) -> str | Any:
        value = self.string(required=required, default=default)
        if value is MISSING or value is default:
            return value
        if value not in options:
            return self.problem(f"{value!r} is not one of {', '.join(options)}")
        return value

    def string_map(self) -> dict[str, str] | Any:
        """A mapping of strings to strings (labels, annotations); ``{}`` when absent."""
        mapping = self.mapping()
        if mapping is MISSING:
            return MISSING
        ok = all(isinstance(key, str) for key in mapping)  # others were reported by mapping()
        for key, value in mapping.items():
            if not isinstance(value, str):
                self.child(key)._wrong_type("a string")
                ok = False
        return dict(mapping) if ok else MISSING
