"""Test helpers for netpolicy users.

:mod:`netpolicy.testing.strategies` holds Hypothesis strategies for labels, selectors,
manifests, policy sets and flows. It needs Hypothesis, which netpolicy itself does not
depend on: install it with ``pip install netpolicy[hypothesis]``. Importing this package
does not import Hypothesis; importing ``netpolicy.testing.strategies`` does.
"""

__all__: list[str] = []
