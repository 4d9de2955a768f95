"""Reading YAML and JSON text (and already parsed objects) into :class:`Document` values.

Safety first: only the safe loaders are used (no language-specific tag is ever
constructed); nesting depth is bounded before the C parser sees the text (it recurses
natively); alias expansion is measured before anything walks the data ("billion
laughs"); duplicate mapping keys are reported. Every failure of the YAML library becomes
a :class:`Problem` with file, document, line and column.

Line and column of a field are found only when a problem is reported: the document is
composed again and the field's path followed to its node (:class:`_Locator`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Iterator

import attrs
import yaml

from ..errors import Problem
from ..model import Origin
from ._fields import Document, Path

__all__ = ["Read", "read_text", "read_bytes", "read_objects", "MAX_DEPTH"]

try:  # PyYAML built with libyaml
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # pragma: no cover - pure-Python PyYAML
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]

#: Deepest nesting accepted in a document.
MAX_DEPTH = 200
#: Expanded size allowed for documents that use aliases: base + ratio × distinct nodes.
ALIAS_BUDGET_BASE = 100_000
ALIAS_BUDGET_RATIO = 10

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
        self.duplicates: list[tuple[str, Any]] = []
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
                        self.duplicates.append((key, key_node.start_mark))
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
                    loader.duplicates.append((key_node.value, key_node.start_mark))
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


# -- nesting depth ---------------------------------------------------------------------

_BREAK = "\n\r\x85\u2028\u2029"
_DEEP_LINE = re.compile(f"[{_BREAK}][ \t?:-]{{{MAX_DEPTH // 2}}}")
#: The same, one pattern per line break: a literal first character is searched for fast.
_DEEP_LINES = tuple((brk, re.compile(re.escape(brk) + f"[ \t?:-]{{{MAX_DEPTH // 2}}}")) for brk in _BREAK)
_BRACKETS = re.compile(r"[\[\]{}]")


def _may_be_deep(text: str) -> bool:
    """Cheap test: False guarantees the nesting is at most about ``2 × MAX_DEPTH``.

    Block nesting needs indentation or compact ``- ``/``? `` runs at the start of a line;
    flow nesting needs brackets (their rise is bounded by scanning just the brackets).
    """
    if any(brk in text and deep.search(text) for brk, deep in _DEEP_LINES):
        return True
    if _DEEP_LINE.match("\n" + text[: MAX_DEPTH // 2]):
        return True
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = low = rise = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        low = min(low, depth)
        rise = max(rise, depth - low)
        if rise > MAX_DEPTH:
            return True
    return False


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


# -- aliases ---------------------------------------------------------------------------

_ANCHOR = re.compile(r"&(?=[^\s&,\[\]{}])")


def _has_anchor(text: str) -> bool:
    """Whether ``text`` may define a YAML anchor (``&name`` after a separator); a false
    positive only costs the alias check."""
    for match in _ANCHOR.finditer(text):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "&"):
            return True
    return False


class _AliasBomb(Exception):
    pass


def _check_expansion(root: Any, children: Any) -> None:
    """Raise :class:`_AliasBomb` when the tree under ``root``, with shared subtrees
    counted every time they are referenced, exceeds the budget, is cyclic or too deep.
    ``children(x)`` lists the children of ``x``. Iterative, linear in distinct nodes."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, Any, int]] = [(root, None, 1)]
    total = 0
    while stack:
        item, pending, depth = stack.pop()
        key = id(item)
        if pending is None:
            if key in sizes:
                continue
            if key in active:
                raise _AliasBomb("an alias refers to a node that contains it (recursive structure)")
            if depth > MAX_DEPTH:
                raise _AliasBomb(f"nesting is deeper than {MAX_DEPTH} levels")
            kids = children(item)
            distinct += 1
            if not kids:
                sizes[key] = 1
                continue
            active.add(key)
            stack.append((item, kids, depth))
            for kid in kids:
                if id(kid) not in sizes:
                    stack.append((kid, None, depth + 1))
        else:
            active.discard(key)
            total = 1 + sum(sizes[id(kid)] for kid in pending)
            sizes[key] = total
            budget = ALIAS_BUDGET_BASE + ALIAS_BUDGET_RATIO * distinct
            if total > budget:
                raise _AliasBomb(
                    f"aliases expand the document beyond {budget} nodes (alias expansion bomb); "
                    "refused before reading it"
                )


def _node_children(node: Any) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return ()


def _object_children(value: Any) -> Any:
    if isinstance(value, dict):
        return [part for pair in value.items() for part in pair]
    if isinstance(value, (list, tuple)):
        return value
    return ()


# -- locating fields -------------------------------------------------------------------


class _Locator:
    """Finds line and column of a path in document N of a text by composing it again
    (only when a problem is reported; composed documents are kept)."""

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
            node = _child_node(node, part)
        if node is None:
            return None
        return node.start_mark.line + 1, node.start_mark.column + 1


def _child_node(node: Any, part: Any) -> Any:
    if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
        return node.value[part] if 0 <= part < len(node.value) else None
    if isinstance(part, str) and isinstance(node, yaml.MappingNode):
        found = None
        for key, value in node.value:  # the last one wins, as in the parsed mapping
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                found = value
        return found
    return None


# -- documents and List wrappers -------------------------------------------------------

_LIST_FIELDS = ("apiVersion", "kind", "metadata", "items")


def _is_list(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("kind"), str)
        and body["kind"].endswith("List")
        and "items" in body
    )


def _unwrap(body: Any, prefix: Path, level: int = 0) -> Iterator[tuple[Path, Any, str | None]]:
    """The objects of a document: itself, the items of a sequence or of a List wrapper.
    Yields (path prefix, object, problem message or None)."""
    if isinstance(body, list) and level < 2:
        for index, item in enumerate(body):
            yield from _unwrap(item, prefix + (index,), level + 1)
    elif _is_list(body) and level < 2:
        items = body["items"]
        if items is None:
            return
        if not isinstance(items, list):
            yield prefix + ("items",), items, f"{body['kind']} items must be a list"
            return
        kind = body["kind"][: -len("List")]
        api_version = body.get("apiVersion")
        for index, item in enumerate(items):
            if kind and isinstance(item, dict) and ("kind" not in item or "apiVersion" not in item):
                # A typed list from the API server (PodList) leaves its items' kind out.
                item = {"apiVersion": api_version, "kind": kind, **item}  # a copy: inputs stay as given
            yield from _unwrap(item, prefix + ("items", index), level + 2)
    else:
        yield prefix, body, None


def _documents(
    body: Any, *, file: str | None, index: int, locator: _Locator | None, root: Any, warnings: list[str]
) -> Iterator[Document]:
    locate = None
    if locator is not None:
        locate = lambda path, _i=index: locator.locate(_i, path)  # noqa: E731
    if type(body) is dict and not _is_list(body):  # the usual case: one object
        doc = Document(body, file=file, index=index, locate=locate)
        if root is not None:
            mark = root.start_mark
            doc.origin = Origin(file=file, document=index, line=mark.line + 1, column=mark.column + 1)
        else:
            doc.origin = Origin(file=file, document=index)
        yield doc
        return
    if _is_list(body):
        wrapper = Document(body, file=file, index=index, locate=locate)
        for key in body:
            if key not in _LIST_FIELDS:
                wrapper.warn((key,), f"unknown field {key!r} ignored")
        warnings.extend(wrapper.warnings)
    for prefix, obj, message in _unwrap(body, ()):
        doc = Document(obj, file=file, index=index, locate=locate, prefix=prefix)
        if message is not None:
            doc.problem((), message)
        elif isinstance(obj, list) or _is_list(obj):
            doc.problem((), "lists nested this deep are not supported")
        if root is not None:
            doc.origin = _origin(file, index, root, prefix)
        else:
            doc.origin = Origin(file=file, document=index)
        yield doc


def _origin(file: str | None, index: int, root: Any, prefix: Path) -> Origin:
    node = root
    for part in prefix:
        child = _child_node(node, part)
        if child is None:
            break
        node = child
    mark = node.start_mark
    return Origin(file=file, document=index, line=mark.line + 1, column=mark.column + 1)


# -- entry points ----------------------------------------------------------------------


@attrs.define
class Read:
    """What reading a source produced: its objects, the problems that stopped reading
    (or were found while reading) and warnings.

    YAML text is read lazily, one document at a time, as :meth:`each` is iterated (so a
    caller can convert each object and let go of its parsed body before the next one is
    read); ``documents``, ``problems`` and ``warnings`` are complete once it has been
    iterated to the end."""

    documents: list[Document]
    problems: list[Problem]
    warnings: list[str] = attrs.field(factory=list)
    pending: Iterator[Document] | None = None

    def each(self) -> Iterator[Document]:
        """Every document, in order: those already read, then the rest as they are read
        (each is added to ``documents``)."""
        yield from list(self.documents)
        pending, self.pending = self.pending, None
        if pending is not None:
            for doc in pending:
                self.documents.append(doc)
                yield doc


def _problem(message: str, file: str | None, index: int | None = None, mark: Any = None) -> Problem:
    line = column = None
    if mark is not None and getattr(mark, "line", None) is not None:
        line, column = mark.line + 1, mark.column + 1
    return Problem(message=message, file=file, document=index, line=line, column=column)


class _Mark:
    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


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
        return f"YAML: the character {character!r} is not allowed in YAML text", _Mark(line, column)
    return f"YAML: {error}", None


def read_bytes(data: bytes, file: str | None) -> Read:
    """Decode ``data`` (UTF-8, optionally with a byte-order mark; UTF-16 with one) and
    read it. Bytes that are not valid text are a problem at their line and column."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        before = data[start : error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1 + start if b"\n" in before else start) + 1
        bad = data[error.start : error.start + 1]
        return Read([], [
            Problem(
                message=f"the file is not valid UTF-8 (byte 0x{bad.hex()} at offset {error.start})",
                file=file,
                line=line,
                column=column,
            )
        ])
    return read_text(text, file)


def read_text(text: str, file: str | None) -> Read:
    """Every object in ``text`` (YAML documents, JSON, sequences, List wrappers) as a
    Document, and the problems that stopped reading."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        result = _read_json(text, file)
        if result is not None:
            return result
    return _read_yaml(text, file)


def _read_json(text: str, file: str | None) -> Read | None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) < len(items):
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
        return mapping

    try:
        body = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        return Read([], [_problem(f"nesting is deeper than {MAX_DEPTH} levels", file, 1)])
    except ValueError:
        return None  # not JSON: read it as YAML, which reports errors with places
    locator = _Locator(text)
    problems = [_problem(f"duplicate key {key!r}", file, 1) for key in duplicates]
    try:
        _check_expansion(body, _object_children)
    except _AliasBomb as error:
        return Read([], [_problem(str(error), file, 1)])
    result = Read([], problems)
    result.documents.extend(_documents(body, file=file, index=1, locator=locator, root=None, warnings=result.warnings))
    return result


def _read_yaml(text: str, file: str | None) -> Read:
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
        if _may_be_deep(text):
            mark = _too_deep(text)
            if mark is not None:
                problems.append(_problem(f"nesting is deeper than {MAX_DEPTH} levels", file, None, mark))
                return
        check_aliases = _has_anchor(text)
        locator = _Locator(text)
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
                        _check_expansion(node, _node_children)
                    except _AliasBomb as error:
                        problems.append(_problem(str(error), file, index, node.start_mark))
                        return
                body = _MISSING
                if not check_aliases:
                    try:
                        body = _construct(node, loader)
                    except (_Slow, RecursionError):
                        loader.duplicates.clear()
                if body is _MISSING:
                    body = loader.construct_document(node)
                for key, mark in loader.duplicates:
                    problems.append(_problem(f"duplicate key {key!r}", file, index, mark))
                loader.duplicates.clear()
                if body is None:
                    continue
                documents = list(
                    _documents(body, file=file, index=index, locator=locator, root=node, warnings=result.warnings)
                )
                del node, body
                yield from documents
                del documents
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        message, mark = _yaml_message(error, text)
        problems.append(_problem(message, file, index or None, mark))
    except RecursionError:
        problems.append(_problem(f"nesting is deeper than {MAX_DEPTH} levels", file, index or None))
    except (ValueError, TypeError, OverflowError, KeyError) as error:  # e.g. a bad !!binary or !!bool
        problems.append(
            _problem(f"YAML: cannot read a value ({type(error).__name__}: {error})", file, index or None, document_mark)
        )
    except Exception as error:  # nothing from the YAML library may escape
        problems.append(
            _problem(f"YAML: cannot read the text ({type(error).__name__}: {error})", file, index or None, document_mark)
        )


def read_objects(objects: Iterable[Any]) -> Read:
    """Already parsed manifests: each element is one document (a mapping, a List
    wrapper or a sequence of mappings). Inputs are never modified."""
    result = Read([], [])
    documents, problems = result.documents, result.problems
    if isinstance(objects, dict):
        objects = [objects]
    elif isinstance(objects, (str, bytes)) or not isinstance(objects, Iterable):
        problems.append(Problem(message=f"expected a list of manifest mappings, got {type(objects).__name__}"))
        return result
    for index, body in enumerate(objects, start=1):
        try:
            _check_expansion(body, _object_children)
        except _AliasBomb as error:
            problems.append(Problem(message=str(error), document=index))
            continue
        if body is None:
            continue
        documents.extend(_documents(body, file=None, index=index, locator=None, root=None, warnings=result.warnings))
    return result
