"""Fuzz-suite settings: a fixed, derandomized profile for CI and a long one for bench/.

`FINGERSPELL_FUZZ_PROFILE=ci` (the default) runs every property with a fixed number of
examples chosen by a fixed seed (`derandomize=True`), so CI is reproducible and the whole
suite stays within about two minutes on two cores. `long` is what `bench/bench_fuzz.py` runs
(`FINGERSPELL_FUZZ_EXAMPLES` examples a property, random seeds). No example database is
kept (nothing written into the checkout).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=int(os.environ.get("FINGERSPELL_FUZZ_EXAMPLES", "2000")), **_COMMON)
settings.load_profile(os.environ.get("FINGERSPELL_FUZZ_PROFILE", "ci"))

# How many cases each property tried (with outcome), written for bench/bench_fuzz.py.
TRIED: dict[str, dict[str, int]] = {}


def pytest_sessionfinish(session, exitstatus) -> None:
    out = os.environ.get("FINGERSPELL_FUZZ_COUNTS")
    if out and TRIED:
        Path(out).write_text(json.dumps(TRIED, indent=2, sort_keys=True) + "\n")
