"""The Screening screen: pasted or uploaded addresses through the screening service, with hub intel
counted only as far as the signed-in principal may read it."""

from __future__ import annotations

from typing import Any

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.screening import MAX_HOPS

MAX_ADDRESSES = 10_000


def addresses_from(text: str, upload: bytes) -> list[str]:
    """One address a line (or separated by spaces/commas); a CSV's first column; '#' comments skipped."""
    out: list[str] = []
    for source in (text, upload.decode("utf-8", errors="replace")):
        for line in source.splitlines():
            line = line.split("#", 1)[0]
            first = line.split(",", 1)[0] if line.count(",") and len(line.split(",", 1)[0].strip()) > 20 else line
            for token in first.replace(",", " ").split():
                if token.lower() != "address":
                    out.append(token.strip())
    if not out:
        raise InputError("no addresses given: paste them one a line or upload a file")
    if len(out) > MAX_ADDRESSES:
        raise InputError(f"{len(out):,} addresses: the console screens at most {MAX_ADDRESSES:,} at a time "
                         "(use POST /api/v1/screen or `trilateral screen` for more)")
    return list(dict.fromkeys(out))


def screener(app: Any) -> Any:
    """One Screener per server (the screening API shares it through app.state)."""
    if getattr(app.state, "screener", None) is None:
        from trilateral.screening.service import Screener

        app.state.screener = Screener(app.state.hub.settings)
    return app.state.screener


def screen_form(app: Any, principal: Principal, text: str, upload: bytes, chain: str, hops: int) -> list[dict]:
    if not 0 <= hops <= MAX_HOPS:
        raise InputError(f"hops must be between 0 and {MAX_HOPS}")
    s = screener(app)
    hub_intel = s.hub_intel(app.state.hub, principal)
    return s.screen(addresses_from(text, upload), chain=chain or None, hops=hops, hub_intel=hub_intel)
