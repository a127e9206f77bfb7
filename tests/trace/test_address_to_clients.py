"""Freeze requests shared over the hub are addressed to the client exchange that must act on them."""

from __future__ import annotations

from datetime import UTC, datetime

from trilateral.hub.recipients import recipients_of
from trilateral.hub.types import PrincipalInfo
from trilateral.trace.stix_export import FREEZE_TYPE, address_to_clients

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _p(code: str, name: str, sponsor: str | None = None, revoked: bool = False) -> PrincipalInfo:
    return PrincipalInfo(code, name, "client" if sponsor else "member", sponsor, NOW, revoked, None)


def _request(exchange: str) -> dict:
    return {"type": FREEZE_TYPE, "id": f"{FREEZE_TYPE}--{abs(hash(exchange))}", "exchange": exchange}


def test_requests_go_to_the_client_named_like_the_exchange_by_name_or_code() -> None:
    principals = [_p("KR", "Korea"), _p("HANGANG", "Hangang Exchange", "KR"), _p("UPBIT", "Dunamu", "KR"),
                  _p("OLD", "Sakura Exchange", "JP", revoked=True)]
    bundle = {"type": "bundle", "objects": [_request("hangang-exchange"), _request("Upbit"),
                                            _request("Sakura Exchange"), _request("Korea"),
                                            {"type": "indicator", "id": "indicator--1", "exchange": "Hangang Exchange"}]}
    out, addressed = address_to_clients(bundle, principals)
    assert addressed == [("hangang-exchange", "HANGANG"), ("Upbit", "UPBIT")]
    assert [recipients_of(o) for o in out["objects"]] == [
        frozenset({"HANGANG"}), frozenset({"UPBIT"}),
        frozenset(),  # a revoked client reads nothing
        frozenset(),  # a member's name is no client: members read AMBER anyway
        frozenset()]  # only freeze requests are addressed
    assert recipients_of(bundle["objects"][0]) == frozenset()  # the input is left as it was


def test_recipients_already_on_a_request_are_kept() -> None:
    request = {**_request("Hangang Exchange"), "x_trilateral_recipients": ["KR-AUDIT"]}
    out, _ = address_to_clients({"objects": [request]}, [_p("HANGANG", "Hangang Exchange", "KR")])
    assert recipients_of(out["objects"][0]) == {"HANGANG", "KR-AUDIT"}
