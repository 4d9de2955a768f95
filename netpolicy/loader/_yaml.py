"""Reading YAML text into :class:`Document` values, with line and column positions.

Safety first: only the safe loaders are used (no language-specific tag is ever
constructed); nesting depth is bounded before the C parser sees the text (it recurses
natively); alias expansion is measured before anything walks the data ("billion
laughs"); duplicate mapping keys are reported with their field path. Every failure of
the YAML library becomes a :class:`Problem` with file, document, line and column.

Line and column of a field are found only when a problem is reported: the document is
composed again and the field's path followed to its node (:class:`Locator`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import yaml

from ._bounds import MAX_DEPTH, AliasBomb, check_expansion, has_anchor, may_be_deep, node_children
from ._documents import Mark, Read, child_node, documents, path_to_node, problem_at
from ._fields import Document, Path, format_path

__all__ = ["read_yaml", "Locator"]

try:  # PyYAML built with libyaml
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # pragma: no cover - pure-Python PyYAML
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]

_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_RESOLVED: dict[str, str] = {}
_MISSING: Any = object()


class _Strings(dict[str, str]):
    """``strings[text]`` is the first string equal to ``text`` seen here."""

    def __missing__(self, key: str) -> str:
        self[key] = key
        return key


class _Loader(_SafeBase):
    """The safe loader with Kubernetes' scalar rules (no base-60 numbers, no
    timestamps, ``1e+06`` is a number) that records duplicated mapping keys."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, Any]]] = {}

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, Any]] = []  # (key, key node)
        self.strings = _Strings()
        # No path resolvers are registered, so the hooks the composer calls around every
        # node have nothing to do: C callables that accept their arguments are cheaper.
        self.descend_resolver = slice  # type: ignore[assignment,method-assign]
        self.ascend_resolver = tuple  # type: ignore[assignment,method-assign]

    def resolve(
        self,
        kind: Any,
        value: Any,
        implicit: Any,
        _scalar: Any = yaml.ScalarNode,
        _cached: Callable[[str], str | None] = _RESOLVED.get,
    ) -> str:
        # The composer asks for every node; plain scalars repeat a lot, so their tags
        # are cached (no path resolvers are used, so the answer depends on the text only).
        if kind is _scalar:
            if implicit[0]:
                tag = _cached(value)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                    if len(_RESOLVED) >= 4096:  # bounded: addresses and the like never repeat
                        _RESOLVED.clear()
                    _RESOLVED[value] = tag
                return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        own = node.value  # flatten_mapping removes merge keys from this list in place
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(own):
            seen: set[Any] = set()
            for key_node, _ in own:
                key = getattr(key_node, "value", None)
                if isinstance(key, str):
                    if key in seen:
                        self.duplicates.append((key, key_node))
                    seen.add(key)
        return mapping


def _install_resolvers() -> None:
    keep = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", _MERGE}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        for tag, regexp in resolvers:
            if tag in keep:
                _Loader.yaml_implicit_resolvers.setdefault(first, []).append((tag, regexp))
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"),
    )
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


_install_resolvers()


_SCALAR = yaml.ScalarNode


class _Slow(Exception):
    """The fast constructor met something only PyYAML's constructor handles."""


def _construct(node: Any, loader: Any) -> Any:
    """Build the value of a composed document without aliases: plain dicts, lists and
    scalars of the core tags. Raises :class:`_Slow` for anything else (explicit tags,
    merge keys, complex keys), which PyYAML's constructor then handles.

    Equal strings are shared through ``loader.strings`` (label keys and values, names
    and namespaces repeat across thousands of objects). Not ``sys.intern``: some
    Python versions never free interned strings."""
    cls = node.__class__
    if cls is _SCALAR:
        tag = node.tag
        if tag == _STR:
            value = node.value
            return loader.strings[value]
        if tag == _INT:
            value = node.value
            if value.isdigit() and (value[0] != "0" or len(value) == 1):
                return int(value)
            return loader.construct_yaml_int(node)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return loader.bool_values[node.value.lower()]
        if tag == _FLOAT:
            return loader.construct_yaml_float(node)
        raise _Slow
    if cls is yaml.MappingNode:
        if node.tag != _MAP:
            raise _Slow
        result = {}
        pairs = node.value
        strings = loader.strings
        for key_node, value_node in pairs:
            if key_node.__class__ is not _SCALAR or key_node.tag == _MERGE:
                raise _Slow
            # Strings and plain decimal integers (most keys and values) are built here
            # rather than by a call; the value first, as ``result[key] = value`` does.
            if value_node.__class__ is _SCALAR:
                tag = value_node.tag
                text = value_node.value
                if tag == _STR:
                    value = strings[text]
                elif tag == _INT and text.isdigit() and (text[0] != "0" or len(text) == 1):
                    value = int(text)
                else:
                    value = _construct(value_node, loader)
            else:
                value = _construct(value_node, loader)
            if key_node.tag == _STR:
                text = key_node.value
                result[strings[text]] = value
            else:
                result[_construct(key_node, loader)] = value
        if len(result) < len(pairs):
            seen: set[Any] = set()
            for key_node, _ in pairs:
                if key_node.value in seen:
                    loader.duplicates.append((key_node.value, key_node))
                seen.add(key_node.value)
        return result
    if cls is yaml.SequenceNode:
        if node.tag != _SEQ:
            raise _Slow
        items = []
        strings = loader.strings
        for child in node.value:
            if child.__class__ is _SCALAR and child.tag == _STR:
                items.append(strings[child.value])
            else:
                items.append(_construct(child, loader))
        return items
    raise _Slow


class _Pieces:
    """ASCII text handed to the C parser a piece at a time: given the whole string, it
    would keep a UTF-8 copy of all of it while parsing. (Pieces of ASCII text encode to
    exactly the bytes of the whole, so marks and offsets are the same.)"""

    name = "<unicode string>"  # what the parser calls a string source in its marks

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def read(self, size: int) -> str:
        start = self.position
        self.position = start + size
        return self.text[start : start + size]


def _source(text: str) -> Any:
    return _Pieces(text) if text.isascii() else text


def _too_deep(text: str) -> Any:
    """The mark where nesting passes MAX_DEPTH, or None (exact, from the event stream,
    which the parser produces without recursion)."""
    loader = _Loader(text)
    depth = 0
    try:
        while True:
            event = loader.get_event()
            if event is None:
                return None
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.StreamEndEvent):
                return None
    finally:
        loader.dispose()


# -- locating fields -------------------------------------------------------------------


class Locator:
    """Finds line and column of a path in document N of a text by composing it again
    (only when a problem is reported; composed documents are kept). JSON text is read
    the same way: the YAML composer reads it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes: dict[int, Any] = {}
        self.loader: Any = None
        self.next = 1

    def node(self, index: int) -> Any:
        if index in self.nodes:
            return self.nodes[index]
        try:
            if self.loader is None or index < self.next:
                self.loader = _Loader(_source(self.text))
                self.next = 1
            while self.next <= index and self.loader.check_node():
                node = self.loader.get_node()
                self.next += 1
                if self.next - 1 == index:
                    if len(self.nodes) >= 32:  # keep memory bounded: problems come a document at a time
                        del self.nodes[next(iter(self.nodes))]
                    self.nodes[index] = node
                    return node
        except Exception:  # the text is broken further on; nothing to find there
            self.loader = None
        return None

    def locate(self, index: int, path: Path) -> tuple[int, int] | None:
        node = self.node(index)
        for part in path:
            if node is None:
                return None
            node = child_node(node, part)
        if node is None:
            return None
        return node.start_mark.line + 1, node.start_mark.column + 1


# -- reading ---------------------------------------------------------------------------


def _yaml_message(error: Exception, text: str) -> tuple[str, Any]:
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [p for p in (error.context, error.problem) if p]
        mark = error.problem_mark or error.context_mark
        return "YAML: " + ", ".join(parts), mark
    if isinstance(error, yaml.reader.ReaderError):
        position = error.position
        line = text.count("\n", 0, position)
        column = position - (text.rfind("\n", 0, position) + 1)
        character = error.character if isinstance(error.character, str) else chr(error.character)
        return f"YAML: the character {character!r} is not allowed in YAML text", Mark(line, column)
    return f"YAML: {error}", None


def read_yaml(text: str, file: str | None) -> Read:
    """The documents of YAML ``text``, read lazily (see :class:`Read`)."""
    result = Read([], [])
    result.pending = _yaml_documents(text, file, result)
    return result


def _yaml_documents(text: str, file: str | None, result: Read) -> Iterator[Document]:
    """The documents of ``text``, read one at a time (each document's nodes are
    released before it is handed out); problems and warnings go to ``result``."""
    problems = result.problems
    document_mark: Any = None
    index = 0
    try:
        if may_be_deep(text):
            mark = _too_deep(text)
            if mark is not None:
                problems.append(problem_at(f"nesting is deeper than {MAX_DEPTH} levels", file, None, mark))
                return
        check_aliases = has_anchor(text)
        locator = Locator(text)
        loader = _Loader(_source(text))
        index = 0
        try:
            while loader.check_node():
                index += 1
                node = loader.get_node()
                if node is None:
                    break
                document_mark = node.start_mark
                if check_aliases:
                    try:
                        check_expansion(node, node_children)
                    except AliasBomb as error:
                        problems.append(problem_at(str(error), file, index, node.start_mark))
                        return
                body = _MISSING
                if not check_aliases:
                    try:
                        body = _construct(node, loader)
                    except (_Slow, RecursionError):
                        loader.duplicates.clear()
                if body is _MISSING:
                    body = loader.construct_document(node)
                for key, key_node in loader.duplicates:
                    path = format_path(path_to_node(node, key_node) or ())
                    problems.append(problem_at(f"duplicate key {key!r}", file, index, key_node.start_mark, path))
                loader.duplicates.clear()
                if body is None:
                    continue
                found = list(documents(body, file=file, index=index, locator=locator, root=node, warnings=result.warnings))
                del node, body
                yield from found
                del found
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        message, mark = _yaml_message(error, text)
        problems.append(problem_at(message, file, index or None, mark))
    except RecursionError:
        problems.append(problem_at(f"nesting is deeper than {MAX_DEPTH} levels", file, index or None))
    except (ValueError, TypeError, OverflowError, KeyError) as error:  # e.g. a bad !!binary or !!bool
        problems.append(problem_at(
            f"YAML: cannot read a value ({type(error).__name__}: {error})", file, index or None, document_mark
        ))
    except Exception as error:  # nothing from the YAML library may escape
        problems.append(problem_at(
            f"YAML: cannot read the text ({type(error).__name__}: {error})", file, index or None, document_mark
        ))
