"""Victim sector, theft size and laundering route of the incident being attributed.

Pure. Read from the incident bundle (the `incident` object's `x_trilateral_victim_sector`,
`x_trilateral_usd_stolen`, `x_trilateral_laundering`, `x_trilateral_date` or `first_seen`; a victim
`identity`'s `sectors`) and from the incident's trace findings (DESIGN.md section 4: `flows`, `mixer`,
`offramps` entity / category / chain, `theft_time`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from trilateral.attribution.history import ROUTES, SECTORS, IncidentFeatures, loss_bin, victim_sector
from trilateral.core.errors import InputError

_CATEGORY_ROUTE = {"mixing_service": "mixer", "mixer": "mixer", "bridge": "bridge", "defi_bridge": "bridge",
                   "otc": "otc", "defi_dex": "dex", "dex": "dex", "exchange": "cex", "instant_exchange":
                   "instant_exchange", "swap_service": "instant_exchange"}
_ROUTE_WORDS_IN_ENTITY = (("thorchain", ("thorchain",)),
                          ("instant_exchange", ("exch", "fixedfloat", "fixed float", "sideshift", "changenow",
                                                "simpleswap")),
                          ("mixer", ("tornado", "sinbad", "blender", "wasabi", "railgun")),
                          ("otc", ("huione",)))


def _sector_word(text: str) -> str | None:
    t = str(text).strip().casefold()
    return t if t in SECTORS else victim_sector(t)


def _usd(incident: dict) -> int | None:
    """`x_trilateral_usd_stolen` (decimal string, the register's contract in docs/interfaces.md) in dollars."""
    raw = incident.get("x_trilateral_usd_stolen")
    if raw is None:
        return None
    try:
        value = Decimal(str(raw)) if not isinstance(raw, bool | float) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise InputError(f"incident {incident.get('id')}: x_trilateral_usd_stolen {raw!r} is not a decimal string "
                         "of US dollars")
    return int(value)


def routes_from_findings(findings: dict) -> set[str]:
    """Laundering routes a trace saw: mixers, bridge hops, DEX swaps, THORChain, eXch-like services, CEXs."""
    if not isinstance(findings, dict) or "offramps" not in findings:
        raise InputError("trace findings: not a `trace --json` document (no \"offramps\")")
    routes: set[str] = set()
    flows = findings.get("flows") or {}
    for kind, route in (("mixer", "mixer"), ("bridge", "bridge"), ("dex_swap", "dex")):
        if flows.get(kind):
            routes.add(route)
    if (findings.get("mixer") or {}).get("crossed"):
        routes.add("mixer")
    chains = set()
    for off in findings.get("offramps") or ():
        entity = str(off.get("entity") or "").casefold()
        named = [route for route, words in _ROUTE_WORDS_IN_ENTITY if any(w in entity for w in words)]
        routes.update(named or [_CATEGORY_ROUTE.get(str(off.get("category", "")), "cex")])
        if off.get("chain"):
            chains.add(off["chain"])
    chains |= {s.get("chain") for s in findings.get("seeds") or () if s.get("chain")}
    if len(chains) >= 2:
        routes.add("bridge")
    return routes


def incident_features(objects: list[dict], findings: dict | None = None) -> IncidentFeatures:
    """What the bundle and the trace say about sector, loss and laundering; unknowns stay None / empty."""
    incident = next((o for o in objects if o.get("type") == "incident"), {})
    sector = _sector_word(incident["x_trilateral_victim_sector"]) if incident.get("x_trilateral_victim_sector") else None
    if sector is None:
        for o in objects:
            if o.get("type") == "identity":
                sector = next((s for s in map(_sector_word, o.get("sectors") or ()) if s), None) or sector
    loss = _usd(incident)
    routes = {r for r in incident.get("x_trilateral_laundering") or () if r in ROUTES}
    if findings is not None:
        routes |= routes_from_findings(findings)
    when = str(incident.get("x_trilateral_date") or incident.get("first_seen")
               or (findings or {}).get("theft_time") or "")
    period = when[:4] if when[:4].isdigit() else None
    return IncidentFeatures(sector=sector, loss=loss_bin(loss), period=period, routes=frozenset(routes),
                            routes_known=bool(routes))
