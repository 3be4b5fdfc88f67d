"""Hypothesis settings for the fuzzers: bounded and deterministic in ``make test``, long in ``make fuzz``.

``FUZZ_PROFILE=ci`` (the default): derandomized (the same examples on every run and machine),
no example database, a budget that keeps the whole fuzz suite near a minute on two cores.
``FUZZ_PROFILE=fuzz`` (``make fuzz``): random seeds and ``FUZZ_SCALE`` times the examples per
run; ``make fuzz`` repeats runs until ``FUZZ_SECONDS`` have passed. Each fuzzer applies the
profile itself (``settings(FUZZ, ...)``) so other hypothesis tests in the same pytest process keep
their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("FUZZ_PROFILE", "ci")
SCALE = int(os.environ.get("FUZZ_SCALE", "20")) if PROFILE == "fuzz" else 1

_SLOW_WORLD = [
    HealthCheck.too_slow,
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "fuzz-ci", derandomize=True, database=None, deadline=None, print_blob=True, suppress_health_check=_SLOW_WORLD
)
settings.register_profile(
    "fuzz-long", derandomize=False, database=None, deadline=None, print_blob=True, suppress_health_check=_SLOW_WORLD
)
FUZZ = settings.get_profile("fuzz-long" if PROFILE == "fuzz" else "fuzz-ci")


def examples(ci: int) -> int:
    """The number of examples: ``ci`` in make test, SCALE times as many in make fuzz."""
    return ci * SCALE
