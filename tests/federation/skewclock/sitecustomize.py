"""Loaded by a node process started with this directory first on PYTHONPATH: its wall clock is off by
TRILATERAL_TEST_CLOCK_SKEW seconds (what libfaketime does, without a C library on the machine)."""

import os
import time

_skew = float(os.environ.get("TRILATERAL_TEST_CLOCK_SKEW", "0"))
if _skew:
    _time, _time_ns = time.time, time.time_ns
    time.time = lambda: _time() + _skew
    time.time_ns = lambda: _time_ns() + int(_skew * 1e9)
