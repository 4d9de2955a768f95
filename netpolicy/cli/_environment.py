"""Where the command runs: a warning when a source checkout runs without its compiled
matcher, which is slower by far and otherwise chosen without a word."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Mapping

__all__ = ["matcher_warning"]

_PACKAGE = Path(__file__).resolve().parent.parent


def matcher_warning(
    package: Path | None = None,
    *,
    implementation: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The warning to show when ``package`` is a source checkout (its ``_fastmatch.pyx``
    beside a ``setup.py``) and the pure-Python matcher was loaded although
    NETPOLICY_NO_EXTENSIONS=1 did not ask for it; None otherwise. An installed package
    without a compiled matcher is a choice made at install time, and gets no warning."""
    env = os.environ if environ is None else environ
    if env.get("NETPOLICY_NO_EXTENSIONS") == "1" or platform.python_implementation() != "CPython":
        return None
    if implementation is None:
        from .._matcher import IMPLEMENTATION

        implementation = IMPLEMENTATION
    if implementation != "python":
        return None
    package = _PACKAGE if package is None else package
    if not ((package / "_fastmatch.pyx").is_file() and (package.parent / "setup.py").is_file()):
        return None
    built = any(package.glob("_fastmatch.*.so")) or any(package.glob("_fastmatch.*.pyd"))
    state = "is built but could not be loaded (built for another Python?)" if built else "is not built"
    return (
        f"the compiled matcher of the source checkout {package.parent} {state}: using the "
        "pure-Python matcher, which is much slower. Build it with 'python setup.py build_ext --inplace', "
        "or set NETPOLICY_NO_EXTENSIONS=1 to use the pure-Python matcher without this warning."
    )
