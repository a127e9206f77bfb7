"""Small STIX helpers the registers share: TLP marking, timestamps, submitting and reading back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from trilateral.core.errors import InputError, TrilateralError
from trilateral.core.principal import Principal
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp


def stix_time(moment: datetime | None = None) -> str:
    """RFC 3339 with milliseconds and Z, as STIX 2.1 writes timestamps."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def marking(tlp: Tlp | str) -> list[str]:
    level = tlp if isinstance(tlp, Tlp) else Tlp.parse(tlp)
    return [TLP2_MARKING_IDS[level]]


def submit_all(hub: Any, principal: Principal, objects: list[dict[str, Any]], what: str) -> Any:
    """Submit `objects` in one request; any refused object is an error naming it and why."""
    if not objects:
        return None
    result = hub.submit(principal, objects)
    if result.failed:
        oid, reason = result.failed[0]
        raise InputError(f"the hub refused {len(result.failed)} {what} (first: {oid}: {reason}); nothing else to fix "
                         "in the input once that object is corrected — re-run to submit it")
    return result


def query_all(hub: Any, principal: Principal, **kwargs: Any) -> Iterator[Any]:
    """Every page of hub.query for `principal` (records the hub's one policy lets it read)."""
    cursor = None
    while True:
        page = hub.query(principal, cursor=cursor, **kwargs)
        yield from page.records
        if not page.more or not page.next_cursor:
            return
        cursor = page.next_cursor


def principal_of(hub: Any, code: str) -> Principal:
    """The hub's principal for `code`, with a clear error when it is unknown."""
    try:
        return hub.principal(code.strip().upper())
    except TrilateralError:
        raise
    except Exception as exc:  # unknown code: the hub raises its own error type
        raise InputError(f"unknown member or client {code!r}: add it with `trilateral member add` ({exc})") from None
