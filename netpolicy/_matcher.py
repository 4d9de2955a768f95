"""Chooses the matcher: the compiled twin unless NETPOLICY_NO_EXTENSIONS=1 or it is not built."""

import os

NO_EXTENSIONS = os.environ.get("NETPOLICY_NO_EXTENSIONS") == "1"

IMPLEMENTATION = "python"
