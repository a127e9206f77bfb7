"""`trilateral screen` as a new user meets it: a bounded --hops, and notes that say what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trilateral.core.errors import InputError
from trilateral.screening import MAX_HOPS

ADDRESS = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRILATERAL_HOME": str(tmp_path / "home")}
    env.pop("TRILATERAL_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "trilateral", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("hops", ["11", "1000000", "-1"])
def test_screen_refuses_hops_beyond_what_the_screening_api_allows(tmp_path: Path, hops: str) -> None:
    # any N was taken: exposure makes one pass over every transfer per hop until nothing grows
    done = _cli(tmp_path, "screen", ADDRESS, "--hops", hops)
    assert done.returncode == 2, done.stderr
    assert f"Invalid value for '--hops': {hops} is outside the allowed range 0 to {MAX_HOPS}" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_screen_takes_the_largest_allowed_hops(tmp_path: Path) -> None:
    done = _cli(tmp_path, "screen", ADDRESS, "--hops", str(MAX_HOPS), "--json")
    assert done.returncode == 0, done.stderr
    assert '"exposure": 0.0' in done.stdout


def test_the_screening_service_bounds_hops_for_every_caller(home: Path) -> None:
    from trilateral.screening.service import screen_addresses

    with pytest.raises(InputError, match=f"hops must be between 0 and {MAX_HOPS}"):
        screen_addresses([ADDRESS], hops=MAX_HOPS + 1)
    with pytest.raises(InputError, match="hops must be between 0"):
        screen_addresses([ADDRESS], hops=-1)
