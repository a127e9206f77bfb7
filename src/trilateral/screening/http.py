"""POST /api/v1/screen: the `screen` command over HTTP for members and their clients (mounted by taxii).

Only translates HTTP: authentication is `trilateral.taxii.auth.require_principal`, the work is
`Screener.screen`, and hub indicators count only as far as the caller may read them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.screening import MAX_HOPS
from trilateral.taxii.auth import require_principal

MAX_ADDRESSES = 100_000

router = APIRouter(tags=["screening"])


class ScreenRequest(BaseModel):
    addresses: list[str] = Field(..., min_length=1, max_length=MAX_ADDRESSES)
    chain: str | None = None
    hops: int = Field(3, ge=0, le=MAX_HOPS)


def _screener(request: Request):
    screener = getattr(request.app.state, "screener", None)
    if screener is None:
        from trilateral.screening.service import Screener

        settings = getattr(request.app.state, "settings", None) or request.app.state.hub.settings
        screener = Screener(settings)
        request.app.state.screener = screener
    return screener


@router.post("", include_in_schema=False)
@router.post("/")
def screen(body: ScreenRequest, request: Request, principal: Principal = Depends(require_principal)) -> list[dict]:
    """[{"address", "chain", "hits": [{"source", "entity", "programs", "category", "label", "confidence", "list",
    "entry_id", "list_date", "abuse", "status", "first_listed", "last_listed", "delisted_on", "history"}],
    "exposure"}]"""
    from trilateral.web.limits import TooMuchWork, limiter

    screener = _screener(request)
    try:  # the console's limiter: one budget per principal however it screens
        with limiter(request.app).slot(principal.code, "screen", request.url.path):
            hub_intel = screener.hub_intel(request.app.state.hub, principal)
            return screener.screen(body.addresses, chain=body.chain, hops=body.hops, hub_intel=hub_intel)
    except TooMuchWork as exc:
        raise HTTPException(status_code=429, detail=str(exc), headers=exc.headers) from None
    except InputError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
