"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest

import netpolicy

from clihelp import STAGING, Run


@pytest.fixture
def run() -> Run:
    return Run()


@pytest.fixture(scope="session")
def staging() -> netpolicy.PolicySet:
    return netpolicy.load(str(STAGING))
