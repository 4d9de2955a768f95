"""The verbs about netpolicy itself: ``version`` (and the ``--version`` option) and
``completion``, which prints a shell's completion script."""

from __future__ import annotations

import json
import platform
from typing import Any, Callable, TypeVar

import click
from click.shell_completion import get_completion_class

from .. import _version
from ._common import dump, echo
from ._formats import key_values, output_option

__all__ = ["version", "version_option", "completion", "SHELLS", "COMPLETE_VAR"]

#: The shells click writes completion scripts for.
SHELLS = ("bash", "zsh", "fish")
#: The environment variable the completion scripts set when they call ``netpolicy``.
COMPLETE_VAR = "_NETPOLICY_COMPLETE"

F = TypeVar("F", bound=Callable[..., Any])


def _about() -> dict[str, str]:
    from .._matcher import IMPLEMENTATION

    return {"netpolicy": _version.__version__, "implementation": IMPLEMENTATION, "python": platform.python_version()}


def _text(data: dict[str, str]) -> str:
    return f"netpolicy {data['netpolicy']} ({data['implementation']} matcher, Python {data['python']})"


@click.command()
@output_option(("text", "table", "json", "yaml"), "text")
def version(output: str) -> None:
    """The netpolicy version, which matcher loaded, and the Python running it."""
    data = _about()
    if output == "table":
        echo(key_values([(key.upper(), value) for key, value in data.items()]))
    else:
        echo(_text(data) if output == "text" else dump(data, output))


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        echo(_text(_about()))
        ctx.exit()


def version_option() -> Callable[[F], F]:
    """``--version``: what ``netpolicy version`` prints, then exit."""
    return click.option(
        "--version",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Show the version and exit.",
    )


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    Examples:
      eval "$(netpolicy completion bash)"     # in ~/.bashrc
      eval "$(netpolicy completion zsh)"      # in ~/.zshrc
      netpolicy completion fish > ~/.config/fish/completions/netpolicy.fish
    """
    root = ctx.find_root()
    prog = root.info_name or "netpolicy"
    cls = get_completion_class(shell)
    if cls is None:  # click knows every shell of SHELLS
        raise click.UsageError(f"no completion for {shell}")
    echo(cls(root.command, {}, prog, COMPLETE_VAR).source())
