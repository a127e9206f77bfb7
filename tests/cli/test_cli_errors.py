"""The real `trilateral` entry point: bad arguments give one clear line, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trilateral.attribution.incident import read_bundle
from trilateral.core.errors import InputError


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRILATERAL_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "trilateral", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_empty_path_from_an_unset_variable_is_named_not_taken_as_cwd(tmp_path: Path) -> None:
    # README: `trilateral refdata import "$ATTACK_BUNDLE"`; unset, it used to walk the current directory
    (tmp_path / "stray.json").write_text(json.dumps({"not": "stix"}))
    done = _cli(tmp_path, "refdata", "import", "")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: argument 3 is empty (an unset shell variable?)"
    done = _cli(tmp_path, "intel", "import", "x.json", "--as", "")
    assert done.returncode == 2
    assert "the value of --as is empty" in done.stderr


def test_incident_bundle_that_is_a_directory_is_a_clear_input_error(tmp_path: Path) -> None:
    # `trilateral attribute DIR` printed "IsADirectoryError: [Errno 21] ..."
    with pytest.raises(InputError, match="is a directory, expected a STIX bundle file"):
        read_bundle(tmp_path)


def test_chain_coverage_refuses_what_is_not_an_address(tmp_path: Path) -> None:
    # a typo was answered with the store's whole span, as if its history were complete
    done = _cli(tmp_path, "chain", "coverage", "notanaddress")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: 'notanaddress' is not an address on ethereum (0x + 40 hex)"
    done = _cli(tmp_path, "chain", "coverage", "--chain", "dogecoin", "0x" + "a" * 40)
    assert done.returncode == 1 and "unknown chain 'dogecoin'" in done.stderr


def test_deeply_nested_json_is_named_not_a_recursion_error(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text('{"type": "bundle", "objects": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        read_bundle(nested)
    done = _cli(tmp_path, "case", "open", "--name", "n", "--chain", "ethereum", "--from-trace", str(nested))
    assert done.returncode == 1 and "RecursionError" not in done.stderr
    assert done.stderr.strip() == "error: an input file is nested too deeply to read (JSON depth)"
