"""ISO 8601 times given by users, as unix seconds (UTC when no offset is written)."""

from __future__ import annotations

from datetime import UTC, datetime

from trilateral.core.errors import InputError


def unix_time(text: str | None, option: str) -> int | None:
    """Unix seconds of `text`, or None when empty; the error names the option the text came from."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option} {text!r} is not an ISO time (e.g. 2026-01-05T12:00:00Z)") from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
