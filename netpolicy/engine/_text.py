"""Dotted-quad IPv4 text parsed many values at once with numpy.

Only plain IPv4 text is recognised here: four decimal octets of one to three ASCII
digits, 0-255, without leading zeros, separated by dots (exactly what
``ipaddress.IPv4Address`` accepts). Anything else (IPv6, names, spaces, malformed text,
other types) is left to the caller's one-value parser, which keeps its answers and its
errors. Nothing here raises on bad input: it says which values it did not parse."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["all_v4", "some_v4", "CHUNK"]

#: Values parsed per numpy pass (bounds the temporary arrays).
CHUNK = 1 << 15
_DOT, _NL, _ZERO = 46, 10, 48
_WIDTH = 15  # "255.255.255.255"
_TEN = np.array([1, 10, 100], np.uint16)


def _flat(buf: np.ndarray, n: int) -> np.ndarray | None:
    """``n`` texts joined by newlines (``buf``: their bytes, a newline after each), as
    uint32 addresses; None unless every one is plain IPv4."""
    newline = buf == _NL
    where = np.flatnonzero(newline | (buf == _DOT))  # the ends of the octets
    if len(where) != 4 * n or int(np.count_nonzero(newline)) != n or not newline[where[3::4]].all():
        return None  # not three dots, then a newline, in each text
    digits = buf - np.uint8(_ZERO)
    if int(np.count_nonzero(digits > 9)) != 4 * n:  # a byte neither a digit, a dot nor a newline
        return None
    if not 1 <= int(where[0]) <= 3:
        return None
    gaps = np.diff(where)
    if int(gaps.min()) < 2 or int(gaps.max()) > 4:  # an octet of no digit, or more than three
        return None
    # each octet from its last three bytes, those before the octet masked out
    padded = np.concatenate([np.zeros(3, np.uint8), digits]).astype(np.uint16)
    longer = np.empty(4 * n, np.bool_)  # two digits or more
    longer[0] = where[0] > 1
    longer[1:] = gaps > 2
    longest = np.empty(4 * n, np.bool_)  # three digits
    longest[0] = where[0] > 2
    longest[1:] = gaps > 3
    last, tens, hundreds = padded[2:][where], padded[1:][where] * longer, padded[where] * longest
    if bool((longer & ~longest & (tens == 0)).any() or (longest & (hundreds == 0)).any()):
        return None  # a leading zero
    value = last + tens * np.uint16(10) + hundreds * np.uint16(100)
    if int(value.max()) > 255:
        return None
    quad = value.reshape(n, 4).astype(np.uint32)
    address: np.ndarray = (quad[:, 0] << 24) | (quad[:, 1] << 16) | (quad[:, 2] << 8) | quad[:, 3]
    return address


def all_v4(values: list[Any]) -> np.ndarray | None:
    """Every value as a uint32 address when all are ``str`` (or all ``bytes``) holding
    plain IPv4 text; None otherwise (then nothing is known of any value)."""
    n = len(values)
    out = np.empty(n, np.uint32)
    for start in range(0, n, CHUNK):
        part = values[start : start + CHUNK]
        try:
            if isinstance(part[0], bytes):
                data = b"\n".join(part) + b"\n"
            else:
                data = ("\n".join(part) + "\n").encode("utf-8", "surrogatepass")
        except (TypeError, UnicodeError):
            return None
        parsed = _flat(np.frombuffer(data, np.uint8), len(part))
        if parsed is None:
            return None
        out[start : start + len(part)] = parsed
    return out


def _fixed(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, address) of ASCII texts of at most 15 characters, one row each."""
    m = len(texts)
    matrix = np.array(texts, dtype=f"S{_WIDTH}").view(np.uint8).reshape(m, _WIDTH)
    dot = matrix == _DOT
    nul = matrix == 0
    digit = (matrix - np.uint8(_ZERO)) < 10
    lengths = np.fromiter(map(len, texts), np.int64, m)
    ok = (dot | digit | nul).all(axis=1) & (dot.sum(axis=1) == 3) & ((_WIDTH - nul.sum(axis=1)) == lengths)
    address = np.zeros(m, np.uint32)
    rows = np.flatnonzero(ok)
    if not len(rows):
        return ok, address
    sub = matrix[rows].astype(np.int64) - _ZERO
    dots = np.nonzero(dot[rows])[1].reshape(len(rows), 3)
    starts = np.concatenate([np.zeros((len(rows), 1), np.int64), dots + 1], axis=1)
    ends = np.concatenate([dots, lengths[rows, None]], axis=1)
    length = ends - starts
    good = ((length >= 1) & (length <= 3)).all(axis=1)
    index = np.arange(len(rows))[:, None]
    value = np.zeros((len(rows), 4), np.int64)
    for j in range(3):
        column = np.minimum(starts + j, _WIDTH - 1)
        value = np.where(length > j, value * 10 + sub[index, column], value)
    lead = (sub[index, np.minimum(starts, _WIDTH - 1)] == 0) & (length > 1)
    good &= ~lead.any(axis=1) & (value <= 255).all(axis=1)
    ok[rows[~good]] = False
    quad = value.astype(np.uint32)
    address[rows] = (quad[:, 0] << 24) | (quad[:, 1] << 16) | (quad[:, 2] << 8) | quad[:, 3]
    return ok, address


def some_v4(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(parsed, address) of each value: parsed where it is plain IPv4 text (``str`` or
    ``bytes``), its address as uint32; False elsewhere (left to the caller)."""
    m = len(values)
    parsed = np.zeros(m, np.bool_)
    address = np.zeros(m, np.uint32)
    candidates: list[int] = []
    texts: list[str] = []
    for j, value in enumerate(values):
        if isinstance(value, bytes):
            if not 7 <= len(value) <= _WIDTH or not value.isascii():
                continue
            value = value.decode("ascii")
        elif not isinstance(value, str) or not 7 <= len(value) <= _WIDTH or not value.isascii():
            continue
        candidates.append(j)
        texts.append(str(value))
    for start in range(0, len(texts), CHUNK):
        ok, found = _fixed(texts[start : start + CHUNK])
        where = np.asarray(candidates[start : start + CHUNK], np.int64)
        parsed[where] = ok
        address[where] = found
    return parsed, address
