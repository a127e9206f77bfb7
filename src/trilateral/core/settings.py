"""Settings read from the environment: where data lives and which hub database to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from trilateral.core.errors import ConfigurationError

DEFAULT_HOME = Path.home() / ".trilateral"

# Expensive work a principal may ask of the server (trilateral.web.limits): the name a refusal uses,
# and the default (at most running at once, at most started a minute) per principal. A report is
# seconds of CPU (HTML + PDF); a screen up to 100,000 addresses with exposure; a case graph a layout.
WORK_KINDS = {"report": "report generations", "screen": "screenings", "graph": "case graph builds"}
DEFAULT_WORK_LIMITS = {"report": (1, 6), "screen": (2, 120), "graph": (2, 60)}


def _work_limits(env: dict[str, str]) -> dict[str, tuple[int, int]]:
    """`TRILATERAL_LIMIT_<KIND>_CONCURRENT` and `_PER_MINUTE` over the defaults (0: no such bound)."""
    limits = {}
    for kind, (concurrent, per_minute) in DEFAULT_WORK_LIMITS.items():
        pair = []
        for suffix, default in (("CONCURRENT", concurrent), ("PER_MINUTE", per_minute)):
            name = f"TRILATERAL_LIMIT_{kind.upper()}_{suffix}"
            text = env.get(name, "").strip()
            if text and not (text.isascii() and text.isdigit() and len(text) <= 9):
                raise ConfigurationError(f"{name}={text!r} is not a whole number >= 0 (0 turns the bound off)")
            pair.append(int(text) if text else default)
        limits[kind] = (pair[0], pair[1])
    return limits


@dataclass(frozen=True)
class Settings:
    """Resolved settings. `database_url` defaults to a SQLite file in `home`."""

    home: Path
    database_url: str
    max_bundle_bytes: int = 64 * 1024 * 1024
    max_bundle_objects: int = 100_000
    max_recipients: int = 64
    extra: dict[str, str] = field(default_factory=dict)
    work_limits: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_WORK_LIMITS))

    @property
    def chain_dir(self) -> Path:
        """Root of the columnar chain store (Parquet files per chain)."""
        return self.home / "chain"

    @property
    def refdata_dir(self) -> Path:
        return self.home / "refdata"

    @property
    def findings_dir(self) -> Path:
        return self.home / "findings"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("TRILATERAL_HOME") or DEFAULT_HOME).expanduser().resolve()
        url = env.get("TRILATERAL_DATABASE_URL") or f"sqlite:///{home / 'hub.sqlite3'}"
        return cls(
            home=home,
            database_url=url,
            max_bundle_bytes=int(env.get("TRILATERAL_MAX_BUNDLE_BYTES", 64 * 1024 * 1024)),
            max_bundle_objects=int(env.get("TRILATERAL_MAX_BUNDLE_OBJECTS", 100_000)),
            max_recipients=int(env.get("TRILATERAL_MAX_RECIPIENTS", 64)),
            extra={k: env[k] for k in ("TRILATERAL_AUDIT_KEY",) if env.get(k)},
            work_limits=_work_limits(env),
        )
