"""Shared test configuration: Hypothesis profiles.

HYPOTHESIS_PROFILE=ci  derandomized, no example database, enough examples to matter (CI).
HYPOTHESIS_PROFILE=dev fast, for local runs (the default).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
