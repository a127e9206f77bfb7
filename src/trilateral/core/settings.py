"""Settings read from the environment: where data lives and which hub database to use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOME = Path.home() / ".trilateral"


@dataclass(frozen=True)
class Settings:
    """Resolved settings. `database_url` defaults to a SQLite file in `home`."""

    home: Path
    database_url: str
    max_bundle_bytes: int = 64 * 1024 * 1024
    max_bundle_objects: int = 100_000
    max_recipients: int = 64
    extra: dict[str, str] = field(default_factory=dict)

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
        )
