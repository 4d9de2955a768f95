"""The ``-o`` formats the verbs share: aligned tables for a person (``KEY  value`` lines
and columns, kubectl style), and documents of records as JSON, YAML, CSV or JSON lines,
written record by record so a long list is never held twice."""

from __future__ import annotations

import csv
import json
import textwrap
from typing import IO, Any, Callable, Iterable, Sequence

import click
import yaml

from ._common import dump

__all__ = ["output_option", "cell", "key_values", "columns", "write_records", "RECORD_FORMATS"]

#: The formats of a list of records: ``write_records`` writes each.
RECORD_FORMATS = ("table", "json", "yaml", "csv", "jsonl")


def output_option(formats: Sequence[str], default: str | None, help: str | None = None) -> Callable[[Any], Any]:
    """``-o/--output`` with these formats."""
    return click.option(
        "-o", "--output", type=click.Choice(list(formats)), default=default, show_default=default is not None, help=help
    )


def cell(value: Any) -> str:
    """A value as a table or CSV cell: nothing for None, ``true``/``false``, lists and
    mappings as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def key_values(rows: Sequence[tuple[str, str]]) -> str:
    """Aligned ``KEY  value`` lines (kubectl describe); an empty key continues the line
    above."""
    if not rows:
        return ""
    width = max(len(key) for key, _ in rows) + 2
    return "\n".join(f"{key:<{width}}{value}".rstrip() for key, value in rows)


def columns(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Aligned columns under upper-case headings, two spaces apart."""
    texts = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[n]) for r in texts)]) for n, h in enumerate(head)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in texts)
    return "\n".join(lines)


def write_records(
    records: Callable[[], Iterable[dict[str, Any]]],
    out: IO[str],
    fmt: str,
    head: Sequence[str],
    *,
    key: str = "records",
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the records ``records()`` yields in ``fmt`` (one of :data:`RECORD_FORMATS`).

    ``head`` names the columns of ``table`` and ``csv`` (each record's value under that
    key). ``json`` and ``yaml`` write one document, ``{key: [records...], **extra}``,
    exactly as :func:`dump` would, record by record; ``csv`` and ``jsonl`` write the
    records alone. ``table`` reads ``records()`` twice (widths, then rows)."""
    if fmt == "jsonl":
        for record in records():
            out.write(json.dumps(record) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(head)
        for record in records():
            writer.writerow([cell(record.get(c)) for c in head])
    elif fmt == "table":
        widths = [len(h) for h in head]
        for record in records():
            widths = [max(w, len(cell(record.get(c)))) for w, c in zip(widths, head)]
        out.write("  ".join(h.upper().ljust(w) for h, w in zip(head, widths)).rstrip() + "\n")
        for record in records():
            out.write("  ".join(cell(record.get(c)).ljust(w) for c, w in zip(head, widths)).rstrip() + "\n")
    elif fmt == "json":
        _write_json(records(), out, key, extra or {})
    elif fmt == "yaml":
        _write_yaml(records(), out, key, extra or {})
    else:
        raise ValueError(f"no record format {fmt!r}")


def _write_json(records: Iterable[dict[str, Any]], out: IO[str], key: str, extra: dict[str, Any]) -> None:
    out.write("{\n  " + json.dumps(key) + ": [")
    first = True
    for record in records:
        out.write(("\n" if first else ",\n") + textwrap.indent(json.dumps(record, indent=2), "    "))
        first = False
    out.write("]" if first else "\n  ]")
    for name, value in extra.items():
        out.write(",\n  " + json.dumps(name) + ": " + json.dumps(value, indent=2).replace("\n", "\n  "))
    out.write("\n}\n")


def _write_yaml(records: Iterable[dict[str, Any]], out: IO[str], key: str, extra: dict[str, Any]) -> None:
    first = True
    for record in records:
        if first:
            out.write(f"{key}:\n")
            first = False
        out.write(dump([record], "yaml") + "\n")
    if first:
        out.write(dump({key: []}, "yaml") + "\n")
    if extra:
        out.write(yaml.safe_dump(extra, sort_keys=False, default_flow_style=False))
