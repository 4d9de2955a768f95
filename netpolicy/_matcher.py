"""Chooses the matcher: the compiled twin unless NETPOLICY_NO_EXTENSIONS=1 or it is not built.

``IMPLEMENTATION`` says which loaded (``"cython"`` or ``"python"``); ``Matcher`` is that
twin's class. Type checkers always see the pure twin.
"""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "Matcher"]

NO_EXTENSIONS = os.environ.get("NETPOLICY_NO_EXTENSIONS") == "1" or platform.python_implementation() != "CPython"

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._fastmatch_py import Matcher

    IMPLEMENTATION = "python"
else:
    try:
        from ._fastmatch import Matcher  # type: ignore[no-redef]

        IMPLEMENTATION = "cython"
    except ImportError:  # not built
        from ._fastmatch_py import Matcher  # type: ignore[assignment]

        IMPLEMENTATION = "python"
