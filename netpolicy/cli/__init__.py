"""The ``netpolicy`` command line (``netpolicy`` console script, ``python -m netpolicy``)."""

from .main import cli, main

__all__ = ["cli", "main"]
