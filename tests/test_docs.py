"""The documentation's examples are true: every ``pycon`` block of docs/*.md runs as a
doctest (the blocks of a page share one namespace), and every ``console`` block's
``$ netpolicy ...`` command prints what the page shows.

NETPOLICY_UPDATE_DOCS=1 rewrites the shown outputs from real runs instead of checking
them (review the diff before committing).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from netpolicy.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
UPDATE = os.environ.get("NETPOLICY_UPDATE_DOCS") == "1"

FENCE = re.compile(r"^```(?P<lang>pycon|console)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


def blocks(text: str, lang: str) -> Iterator[re.Match[str]]:
    return (m for m in FENCE.finditer(text) if m["lang"] == lang)


def _run_cli(command: str) -> str:
    argv = shlex.split(command)
    assert argv[0] == "netpolicy", command
    result = CliRunner().invoke(cli, argv[1:], prog_name="netpolicy", env={"NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.output


def _console(body: str) -> str:
    """The block with each command's output replaced by a real run."""
    out: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append(line)
            shown = _run_cli(line[2:]).rstrip("\n")
            if shown:
                out.extend(shown.split("\n"))
    return "\n".join(out) + "\n"


def _pycon(body: str, globs: dict[str, Any]) -> str:
    """The block with each example's output replaced by a real run."""
    out: list[str] = []
    for example in doctest.DocTestParser().get_examples(body):
        lines = example.source.rstrip("\n").split("\n")
        out.append(" " * example.indent + ">>> " + lines[0])
        out.extend(" " * example.indent + "... " + line for line in lines[1:])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(example.source, "<docs>", "single"), globs)
        shown = buffer.getvalue().rstrip("\n")
        if shown:
            out.extend(line if line.strip() else "<BLANKLINE>" for line in shown.split("\n"))
    return "\n".join(out) + "\n"


def _update(path: Path) -> None:
    text = path.read_text()
    globs: dict[str, Any] = {}
    text = FENCE.sub(
        lambda m: f"```{m['lang']}\n" + (_pycon(m["body"], globs) if m["lang"] == "pycon" else _console(m["body"])) + "```",
        text,
    )
    path.write_text(text)


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page(page: Path) -> None:
    if UPDATE:
        _update(page)
    text = page.read_text()
    globs: dict[str, Any] = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for match in blocks(text, "pycon"):
        line = text.count("\n", 0, match.start()) + 1
        test = parser.get_doctest(match["body"], globs, f"{page.name}:{line}", str(page), line)
        runner.run(test, clear_globs=False)
        globs = test.globs  # DocTest copies its globals: carry them to the next block
    results = runner.summarize(verbose=False)
    assert results.failed == 0, (
        f"{results.failed} doctest example(s) of {page.name} failed (see the output above); if the library's "
        "output changed on purpose, NETPOLICY_UPDATE_DOCS=1 python -m pytest tests/test_docs.py rewrites the pages"
    )
    for match in blocks(text, "console"):
        if "$ netpolicy" in match["body"]:
            assert _console(match["body"]) == match["body"], (
                f"{page.name}: a console block's output is not what the command prints "
                "(NETPOLICY_UPDATE_DOCS=1 python -m pytest tests/test_docs.py rewrites it)"
            )


# -- no internal section marks in what users read ------------------------------------------------

API = (DOCS / "api.md").read_text()
DOCUMENTED = re.findall(r"^\.\. auto(?:class|function|exception):: ([\w.]+)", API, re.M)  # without a "()"


def _documented(name: str) -> Any:
    import importlib

    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _docstrings(obj: Any) -> Iterator[str]:
    """Every docstring autodoc may show for ``obj``: its own, its methods' and properties',
    and attribute docstrings, through the classes it inherits from in netpolicy."""
    import ast
    import inspect
    import textwrap

    owners = [c for c in inspect.getmro(obj) if c.__module__.startswith("netpolicy")] if inspect.isclass(obj) else [obj]
    for owner in owners:
        tree = ast.parse(textwrap.dedent(inspect.getsource(owner)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                yield node.value.value


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_show_no_section_marks(page: Path) -> None:
    marks = [line for line in page.read_text().splitlines() if "§" in line]
    assert not marks, marks


@pytest.mark.parametrize("name", DOCUMENTED)
def test_api_docstrings_show_no_section_marks(name: str) -> None:
    marks = [doc for doc in _docstrings(_documented(name)) if "§" in doc]
    assert not marks, marks
