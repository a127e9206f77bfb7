"""Requesting-authority profiles of members, for freeze letters: `authorities.toml` in TRILATERAL_HOME.

One table per member code (agency name, contact, reference prefix, legal-basis text, response
deadline in days, and the stablecoin issuers whose freeze requests that member sends). Kept in a
file rather than the hub database: it is configuration an operator edits once, not shared intel.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trilateral.core.errors import InputError

FILE_NAME = "authorities.toml"


@dataclass(frozen=True)
class Authority:
    """What a letter's requesting-authority block says for one member."""

    code: str
    agency: str
    contact: str
    reference_prefix: str
    legal_basis: str
    deadline_days: int
    issuers: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["issuers"] = list(self.issuers)
        return d


def authorities_path(home: Path) -> Path:
    return home / FILE_NAME


def load_authorities(home: Path) -> dict[str, Authority]:
    """Profiles by member code; an absent file is no profiles; a bad file is one clear error."""
    path = authorities_path(home)
    if not path.exists():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read authority profiles ({exc})") from None
    out = {}
    for code, t in (doc.get("members") or {}).items():
        try:
            out[code.upper()] = Authority(code.upper(), str(t["agency"]), str(t["contact"]),
                                          str(t["reference_prefix"]), str(t["legal_basis"]),
                                          _days(t["deadline_days"]), tuple(str(i) for i in t.get("issuers", [])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: member {code}: missing or bad field {exc}") from None
    return out


def _days(value: object) -> int:
    days = int(value)  # type: ignore[call-overload]
    if not 1 <= days <= 365:
        raise ValueError("deadline_days must be 1..365")
    return days


def save_authority(home: Path, profile: Authority) -> Path:
    """Add or replace one member's profile; the file is written whole, then renamed into place."""
    _days(profile.deadline_days)
    profiles = load_authorities(home)
    profiles[profile.code.upper()] = profile
    lines = ["# Requesting-authority profiles for freeze letters (trilateral member profile CODE ...)", ""]
    for code in sorted(profiles):
        p = profiles[code]
        lines.append(f"[members.{code}]")
        for key in ("agency", "contact", "reference_prefix", "legal_basis"):
            lines.append(f"{key} = {json.dumps(getattr(p, key), ensure_ascii=False)}")  # JSON strings are TOML
        lines.append(f"deadline_days = {int(p.deadline_days)}")
        lines.append(f"issuers = {json.dumps(list(p.issuers), ensure_ascii=False)}")
        lines.append("")
    home.mkdir(parents=True, exist_ok=True)
    path = authorities_path(home)
    fd, tmp = tempfile.mkstemp(dir=home, prefix=f".{FILE_NAME}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, path)
    return path


def issuer_routes(profiles: dict[str, Authority]) -> dict[str, str]:
    """Issuer name (lower case) -> the member configured to send its freeze requests."""
    return {i.lower(): code for code, p in sorted(profiles.items()) for i in p.issuers}
