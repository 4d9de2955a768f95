"""What every verb shares: options, loading manifests, streams, colour and exit codes."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar

import attrs
import click
import yaml

from ..errors import PolicyError, Problem, ValidationError
from ..flow import Flow
from ..loader import DEFAULT_MAX_BYTES
from ..loader.release import calico_version
from ..model import PROTOCOL_NUMBERS
from ..policyset import PolicySet, load, loads
from ..resolve.addresses import parse_pod_cidr

__all__ = [
    "EXIT_OK",
    "EXIT_CHECK_FAILED",
    "EXIT_USAGE",
    "EXIT_INVALID",
    "InvalidInput",
    "dump",
    "echo",
    "style",
    "no_color",
    "filename_option",
    "namespace_option",
    "all_namespaces_option",
    "strict_option",
    "input_size",
    "Protocol",
    "protocol_option",
    "load_policy_set",
    "flow_options",
    "build_flow",
    "side_text",
    "single_namespace",
    "check_protocol_port",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INVALID = 3

F = TypeVar("F", bound=Callable[..., Any])


class InvalidInput(click.ClickException):
    """Invalid input (manifests, flows, selectors): exit 3, one line per problem on stderr."""

    exit_code = EXIT_INVALID

    def __init__(self, lines: str | Sequence[str], problems: Sequence[Problem] = ()) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        #: The loader's problems, when the input was invalid documents (for ``validate -o json``).
        self.problems = list(problems)
        super().__init__("\n".join(self.lines))

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        for line in self.lines:
            click.echo(line, file=stream, color=False)

    @classmethod
    def from_error(cls, exc: PolicyError) -> "InvalidInput":
        if isinstance(exc, ValidationError):
            problems = [attrs.evolve(p, message=_in_cli_words(p.message)) for p in exc.problems]
            return cls([str(p) for p in problems], problems)
        return cls(_in_cli_words(str(exc)).splitlines() or [type(exc).__name__])


# The library's messages speak of Python arguments; on the command line they are flags.
_CLI_WORDS = (
    ("with strict=False (--no-strict on the command line)", "with --no-strict"),
    ("with max_bytes= (--max-input-size on the command line)", "with --max-input-size"),
    ("with datastore='etcd' (--datastore etcd on the command line)", "with --datastore etcd"),
)


def _in_cli_words(message: str) -> str:
    for python, flag in _CLI_WORDS:
        message = message.replace(python, flag)
    return message


def no_color() -> bool:
    """True when the NO_COLOR convention asks for no colour (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def style(text: str, **kwargs: Any) -> str:
    """Colour ``text`` unless NO_COLOR is set (click strips colour off non-terminals)."""
    return text if no_color() else click.style(text, **kwargs)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    click.echo(text, err=err, nl=nl, color=False if no_color() else None)


def dump(data: Any, output: str) -> str:
    """``data`` as indented JSON, or as block-style YAML when ``output`` is ``yaml``."""
    if output == "yaml":
        return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False)).rstrip("\n")
    return json.dumps(data, indent=2)


# -- options --------------------------------------------------------------------------------


def filename_option(required: bool = True) -> Callable[[F], F]:
    return click.option(
        "-f",
        "--filename",
        "filenames",
        multiple=True,
        required=required,
        type=click.Path(exists=True, allow_dash=True),
        help="Manifest file or directory (recursive *.yaml, *.yml, *.json); '-' reads stdin. Repeatable.",
    )


def namespace_option(help: str) -> Callable[[F], F]:
    return click.option("-n", "--namespace", "namespaces", multiple=True, metavar="NAMESPACE", help=help)


def all_namespaces_option() -> Callable[[F], F]:
    return click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace (the default).")


_CONVERSION = "netpolicy.conversion"  # where the loading options wait for load_policy_set


_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def input_size(text: str) -> int:
    """``--max-input-size``: bytes, or a number with K, M, G or T (KiB, MiB... alike:
    powers of 1024). ValueError when it is not one."""
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1:] if value[-1:] in ("k", "m", "g", "t") else ""
    number = value[: len(value) - len(unit)].strip()
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"{text!r} is not a size: give bytes, or a number with K, M, G or T (e.g. 512M, 2G)")
    return int(number) * _SIZE_UNITS[unit]


def _conversion_option(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    try:
        if param.name == "calico_version" and value is not None:
            value = calico_version(value)
        elif param.name == "max_input_size" and value is not None:
            value = input_size(value)
        elif param.name == "pod_cidr" and value is not None:
            value = parse_pod_cidr(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from error
    ctx.meta.setdefault(_CONVERSION, {})[param.name] = value
    return value


def strict_option() -> Callable[[F], F]:
    """The loading options: ``--strict/--no-strict``, and ``--calico-version``,
    ``--calico-exact``, ``--max-input-size``, ``--datastore`` and ``--pod-cidr``, which
    :func:`load_policy_set` reads from the command's context."""
    strict = click.option(
        "--strict/--no-strict",
        default=True,
        show_default=True,
        help="With --no-strict, documents of unknown kinds are skipped (and reported) instead of rejected.",
    )
    version = click.option(
        "--calico-version",
        metavar="VERSION",
        expose_value=False,
        callback=_conversion_option,
        help="The Calico release to follow where releases differ, e.g. 3.31 or v3.32.1 (default: the newest, 3.32).",
    )
    exact = click.option(
        "--calico-exact",
        is_flag=True,
        expose_value=False,
        callback=_conversion_option,
        help="Convert ClusterNetworkPolicy exactly as Calico does, also where Calico departs from the upstream API.",
    )

    size = click.option(
        "--max-input-size",
        metavar="SIZE",
        expose_value=False,
        callback=_conversion_option,
        help="The largest input read: bytes, or with K, M or G (default 1G). Larger inputs are refused.",
    )

    datastore = click.option(
        "--datastore",
        type=click.Choice(["kubernetes", "etcd"]),
        expose_value=False,
        callback=_conversion_option,
        help="Where the cluster keeps Calico's data (default kubernetes). With kubernetes, a Profile may not take "
        "the name of one Calico generates (kns.*, ksa.*, projectcalico-default-allow); with etcd, it replaces it.",
    )

    pods = click.option(
        "--pod-cidr",
        metavar="CIDR",
        expose_value=False,
        callback=_conversion_option,
        help="The pods' CIDR, e.g. 10.244.0.0/16: workloads and other endpoints without an address in the manifests "
        "get synthetic ones from it (default: a private range no rule mentions).",
    )

    def decorate(func: F) -> F:
        return strict(version(exact(size(datastore(pods(func))))))

    return decorate


if TYPE_CHECKING:
    _ProtocolBase = click.ParamType[int]
else:  # click before 8.2 has no type parameter
    _ProtocolBase = click.ParamType


class Protocol(_ProtocolBase):
    """``-p/--protocol``: a protocol name, or ``proto:N`` for IP protocol number N.

    A bare number is refused: ``-p 80`` is far more often a port meant for ``--port``
    than IP protocol 80, so the number must be asked for explicitly."""

    name = "protocol"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        names = ", ".join(PROTOCOL_NUMBERS)
        if text.isdigit():
            self.fail(
                f"{text} is a number, not a protocol name: for destination port {text} use "
                f"--port {text}; for IP protocol number {text} write -p proto:{text}",
                param,
                ctx,
            )
        if text[:6].lower() == "proto:":
            number = text[6:].strip()
            if number.isdigit() and 1 <= int(number) <= 255:
                return int(number)
            self.fail(f"{text!r}: proto: takes an IP protocol number 1-255", param, ctx)
        for known, number_of in PROTOCOL_NUMBERS.items():
            if known.lower() == text.lower():
                return number_of
        self.fail(f"unknown protocol {text!r}: use one of {names}, or proto:N for IP protocol number N", param, ctx)


def protocol_option() -> Callable[[F], F]:
    return click.option(
        "-p",
        "--protocol",
        type=Protocol(),
        default="TCP",
        show_default=True,
        help=f"Protocol: {', '.join(PROTOCOL_NUMBERS)} (any case), or proto:N for IP protocol number N.",
    )


def single_namespace(namespaces: Sequence[str]) -> str:
    """The one namespace bare pod names are in (kubectl's default: 'default')."""
    if len(namespaces) > 1:
        raise click.UsageError("this command takes at most one -n/--namespace")
    return namespaces[0] if namespaces else "default"


def load_policy_set(filenames: Iterable[str], *, strict: bool = True) -> PolicySet:
    """Load manifests; invalid input exits 3 with one line per problem; loader warnings go
    to stderr."""
    paths = list(filenames)
    if paths.count("-") > 1:
        raise click.UsageError("'-' (stdin) may be given only once")
    ctx = click.get_current_context(silent=True)
    options = ctx.meta.get(_CONVERSION, {}) if ctx is not None else {}
    version, exact = options.get("calico_version"), bool(options.get("calico_exact"))
    limit = options.get("max_input_size") or DEFAULT_MAX_BYTES
    datastore = options.get("datastore") or "kubernetes"
    pod_cidr = options.get("pod_cidr")
    try:
        if paths == ["-"]:
            text = sys.stdin.read(limit + 1)  # one more than allowed: loads says it is too large
            policy_set = loads(
                text, strict=strict, calico_version=version, calico_exact=exact, max_bytes=limit, datastore=datastore,
                pod_cidr=pod_cidr,
            )
        else:
            policy_set = load(
                *paths, strict=strict, calico_version=version, calico_exact=exact, max_bytes=limit, datastore=datastore,
                pod_cidr=pod_cidr,
            )
    except PolicyError as exc:
        raise InvalidInput.from_error(exc) from exc
    for warning in policy_set.warnings:
        echo(f"warning: {warning}", err=True)
    return policy_set


# -- flows ----------------------------------------------------------------------------------


_SIDE = (
    "namespace/pod, pod (in -n), KIND/NAME as kubectl writes it (deploy/web, sts/db, svc/api...; in -n, else "
    "looked for in every namespace), NAMESPACE/KIND/NAME, or an IP address."
)


def flow_options(func: F) -> F:
    """--src/--dst/-p/--port/--src-port/--icmp-type/--icmp-code."""
    options = [
        click.option("--src", required=True, metavar="SIDE", help=f"Source: {_SIDE}"),
        click.option("--dst", required=True, metavar="SIDE", help=f"Destination: {_SIDE} A Service (svc/NAME) is "
                     "each of its backends, after DNAT."),
        protocol_option(),
        click.option("--port", "dst_port", type=click.IntRange(1, 65535), help="Destination port."),
        click.option("--src-port", type=click.IntRange(1, 65535), help="Source port."),
        click.option("--icmp-type", type=click.IntRange(0, 254), help="ICMP type."),
        click.option("--icmp-code", type=click.IntRange(0, 255), help="ICMP code (needs --icmp-type)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _qualify(side: str, namespace: str) -> str:
    if "/" in side:
        return side
    try:
        ipaddress.ip_address(side)
    except ValueError:
        return f"{namespace}/{side}"
    return side


def build_flow(
    *,
    src: str,
    dst: str,
    protocol: str | int,
    dst_port: int | None,
    src_port: int | None,
    icmp_type: int | None,
    icmp_code: int | None,
    namespace: str,
) -> Flow:
    """The flow the options describe; a contradiction (ports on ICMP, ...) is a usage error."""
    try:
        return Flow(
            src=_qualify(src, namespace),
            dst=_qualify(dst, namespace),
            protocol=protocol,
            dst_port=dst_port,
            src_port=src_port,
            icmp_type=icmp_type,
            icmp_code=icmp_code,
        )
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from exc


def check_protocol_port(protocol: str | int, port: int | None) -> int:
    """The protocol's number; an unknown protocol, or a port on a protocol without ports,
    is a usage error."""
    flow = build_flow(
        src="0.0.0.0", dst="0.0.0.0", protocol=protocol, dst_port=port,
        src_port=None, icmp_type=None, icmp_code=None, namespace="",
    )
    return flow.protocol


def side_text(side: object) -> str:
    """A flow side as text: ``namespace/pod``, an address, or an endpoint's key."""
    key = getattr(side, "key", None)
    if isinstance(key, str):
        return key
    return str(side)
