"""Headless Chromium (Debian's package) driven by Playwright, for the console's browser tests and bench."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    """/usr/bin/chromium (`make install` installs it); skips, or fails in CI, when absent."""
    path = os.environ.get("TRILATERAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make install` installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium chromium-driver)")
    return path


def screenshot_dir(default: Path) -> Path:
    """Where screenshots go: $TRILATERAL_SCREENSHOTS, else the test's temporary directory."""
    target = Path(os.environ.get("TRILATERAL_SCREENSHOTS") or default)
    target.mkdir(parents=True, exist_ok=True)
    return target


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Serious and critical axe-core violations on the page as it is now."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm install)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                           " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return [v for v in result if v["impact"] in ("serious", "critical")]
