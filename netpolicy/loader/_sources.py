"""Where manifests are read from: files, directories and standard input, every read with
a bound.

Only regular files are read. A directory is searched for manifest files; a named pipe, a
socket or a device found there is skipped with a warning. A special file named on its own
is refused with an error, and it is never opened for reading in a way that could wait: a
named pipe with no writer would block forever, ``/dev/zero`` never ends. Every input is
read up to a limit (:data:`DEFAULT_MAX_BYTES` unless another is given); a larger one is
refused.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Any, Iterator

from ..errors import Problem
from ._documents import Read
from ._read import read_bytes, read_text

__all__ = ["DEFAULT_MAX_BYTES", "MANIFEST_SUFFIXES", "check_max_bytes", "too_large", "read_sources"]

#: The largest input read by default: 1 GiB.
DEFAULT_MAX_BYTES = 1 << 30

#: Files a directory is searched for.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def check_max_bytes(max_bytes: Any) -> int:
    """``max_bytes`` when it is a positive integer; ValueError otherwise."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    return max_bytes


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


def too_large(max_bytes: int, file: str | None) -> Problem:
    """The problem of an input over the limit."""
    return Problem(
        message=f"the input is larger than the limit of {_size(max_bytes)}; raise the limit with "
        "max_bytes= (--max-input-size on the command line)",
        file=file,
    )


def _what(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _refused(path: str, mode: int) -> Read:
    return Read([], [
        Problem(
            message=f"not a regular file ({_what(mode)}): only regular files are read; "
            "to read a stream, give '-' and send it to standard input",
            file=path,
        )
    ])


def _cannot_read(path: str, error: OSError) -> Read:
    return Read([], [Problem(message=f"cannot read: {error.strerror or error}", file=path)])


_CHUNK = 1 << 20


def _read_bounded(read: Any, max_bytes: int, first: int, empty: Any) -> Any:
    """What ``read(n)`` gives until the end, but no more than ``max_bytes + 1`` bytes or
    characters (one more than allowed tells that there was more). Read in pieces: asking
    for the whole limit at once would allocate it."""
    chunks = []
    total = 0
    size = first
    while total <= max_bytes:
        chunk = read(min(size, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        size = _CHUNK
    return chunks[0] if len(chunks) == 1 else empty.join(chunks)


def read_file(path: str, max_bytes: int) -> Read:
    """The manifests of the regular file ``path``, read up to ``max_bytes``."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return _cannot_read(path, error)
    if not stat.S_ISREG(mode):
        return _refused(path, mode)
    try:
        # Non-blocking, and checked again once open: what the name points to may have
        # changed since the stat above, and opening a named pipe must not wait.
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        return _cannot_read(path, error)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _refused(path, info.st_mode)
        if info.st_size > max_bytes:
            return Read([], [too_large(max_bytes, path)])
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = _read_bounded(handle.read, max_bytes, info.st_size + 1, b"")
    except OSError as error:
        return _cannot_read(path, error)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:  # it grew while being read
        return Read([], [too_large(max_bytes, path)])
    return read_bytes(data, path)


def _read_stdin(max_bytes: int) -> Read:
    stream: Any = sys.stdin
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        data = _read_bounded(buffer.read, max_bytes, _CHUNK, b"")
        if len(data) > max_bytes:
            return Read([], [too_large(max_bytes, "<stdin>")])
        return read_bytes(data, "<stdin>")
    text = _read_bounded(stream.read, max_bytes, _CHUNK, "")
    if len(text) > max_bytes:
        return Read([], [too_large(max_bytes, "<stdin>")])
    return read_text(text, "<stdin>")


def _directory(path: str) -> Iterator[Read | str]:
    """The manifest files under ``path`` in sorted order (as paths to read), and a
    warning Read for each one that is not a regular file."""
    found = []
    for folder, dirs, names in os.walk(path):
        dirs.sort()
        for name in names:
            if name.lower().endswith(MANIFEST_SUFFIXES):
                found.append(os.path.join(folder, name))
    for file in sorted(found):
        try:
            mode = os.stat(file).st_mode
        except OSError:
            yield file  # reading it says why it cannot be read
            continue
        if stat.S_ISREG(mode):
            yield file
        else:
            yield Read([], [], [f"{file}: skipped: not a regular file ({_what(mode)})"])


def read_sources(paths: tuple[str, ...], max_bytes: int) -> list[Read]:
    """Every input of ``paths`` (files, directories, ``"-"`` for standard input)."""
    reads: list[Read] = []
    for path in paths:
        if path == "-":
            reads.append(_read_stdin(max_bytes))
        elif os.path.isdir(path):
            for item in _directory(path):
                reads.append(item if isinstance(item, Read) else read_file(item, max_bytes))
        else:
            reads.append(read_file(path, max_bytes))
    return reads
