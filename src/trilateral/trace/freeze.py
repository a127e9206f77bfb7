"""Freeze requests: one per exchange entity (routed to the member whose jurisdiction it is in) and one
per stablecoin issuer whose tokens the thief holds (routed to the member configured for it), with
the addresses, amounts, times, the incident and evidence paths; as JSON and letters (trace.letter)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from trilateral.core.amount import format_units
from trilateral.core.chains import issuers
from trilateral.core.errors import InputError
from trilateral.trace.authorities import Authority, issuer_routes
from trilateral.trace.findings import edges_into, explain
from trilateral.trace.letter import POLICY_WORDS, plain_steps, render_letter, short
from trilateral.trace.model import TraceResult

DEFAULT_MEMBERS = ("US", "KR", "JP")
STATUSES = ("requested", "frozen", "partially_frozen", "refused")
NO_MEMBER = "no member jurisdiction"

ISSUERS: dict[tuple[str, str], tuple[str, str]] = issuers()  # (chain, token contract) -> (issuer, ticker)
ISSUER_JURISDICTION = {"Circle": "US", "Tether": None}  # used when no member is configured for the issuer
MIN_SHARE = 0.001  # a request must cover at least 0.1 % of the stolen value of an asset ...
MIN_USD = Decimal(10_000)  # ... or, when every amount in it has a price, at least USD 10,000

PriceFn = Callable[[str, str, date, int, int], "Decimal | None"]  # chain, asset or contract, day, units, decimals


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "exchange"


def freeze_requests(result: TraceResult, findings: dict[str, Any], members: Iterable[str] = DEFAULT_MEMBERS,
                    requested_at: datetime | None = None, evidence_paths: int = 3, **kw: Any) -> list[dict[str, Any]]:
    """The requests worth sending (at or above the minimum), largest first; see `freeze_plan`."""
    return freeze_plan(result, findings, members, requested_at, evidence_paths, **kw)[0]


def freeze_plan(result: TraceResult, findings: dict[str, Any], members: Iterable[str] = DEFAULT_MEMBERS,
                requested_at: datetime | None = None, evidence_paths: int = 3, *,
                authorities: dict[str, Authority] | None = None, price: PriceFn | None = None,
                min_share: float = MIN_SHARE, min_usd: Decimal = MIN_USD, victim_name: str | None = None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(requests, below_minimum): one request per exchange that received traced funds at its
    deposit addresses, and one per stablecoin issuer whose tokens the thief still holds at addresses
    no exchange controls; each with the routed member's authority block, the incident and distinct
    evidence paths. Requests under the minimum value are returned apart, never as letters."""
    members = {m.upper() for m in members}
    authorities = authorities or {}
    when = requested_at or datetime.now(UTC)
    now = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    basis = {(t["chain"], t["asset"]): int(t["stolen_base_units"]) or int(t["presumed_base_units"])
             for t in findings.get("totals", [])}  # the stolen value (the presumed one for assets only presumed)
    into = edges_into(result)
    victims = {v["address"] for v in findings.get("victims", [])}
    incident = incident_block(result, findings, price, victim_name)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for o in findings["offramps"]:
        groups.setdefault(("exchange", o["entity"] or f"unknown exchange ({o['address']})"), []).append(o)
    for h in findings.get("holdings", []):
        issuer = ISSUERS.get((h["chain"], _contract_key(h.get("contract"))))
        if issuer and not h.get("frozen"):
            groups.setdefault(("issuer", issuer[0]), []).append({**h, "first_seen": h.get("since")})
    requests, below = [], []
    routes = issuer_routes(authorities)
    for (kind, name), offs in groups.items():
        if kind == "issuer":
            juris = ISSUER_JURISDICTION.get(name)
            routed = routes.get(name.lower()) or (juris if juris in members else None)
        else:
            juris = next((o["jurisdiction"] for o in offs if o.get("jurisdiction")), None)
            routed = juris if juris and juris.upper() in members else None
        ident = hashlib.sha256(json.dumps([findings["seeds"], kind, name, findings["policy"]],
                                          sort_keys=True).encode()).hexdigest()[:16]
        deposits = [_deposit(result, o, price, into, victims, evidence_paths) for o in offs]
        share = _share(result, deposits, basis)
        usd = [d["usd"] for d in deposits]
        usd_total = sum((Decimal(u) for u in usd if u is not None), Decimal(0))
        priced = bool(usd) and all(u is not None for u in usd)
        authority = authorities.get(routed) if routed else None
        prefix = authority.reference_prefix if authority else "TRILATERAL"
        request = {
            "id": f"freeze-{_slug(name)}-{ident}", "kind": kind, "exchange": name, "jurisdiction": juris,
            "routed_to": routed, "routing": routed or NO_MEMBER, "policy": findings["policy"],
            "policy_words": POLICY_WORDS.get(findings["policy"], findings["policy"]),
            "seeds": findings["seeds"], "requested_at": now, "status": "requested", "frozen": [],
            "reference": f"{prefix}-{when:%Y%m%d}-{ident[:6].upper()}",
            "respond_by": (when + timedelta(days=authority.deadline_days)).strftime("%Y-%m-%d") if authority else None,
            "authority": authority.as_dict() if authority else None, "incident": incident,
            "share_of_stolen": round(min(share, 1.0), 8), "usd": str(usd_total) if priced else None,
            "has_usd": any(u is not None for u in usd), "deposit_addresses": deposits}
        enough = usd_total >= min_usd if priced else share >= min_share
        (requests if enough else below).append(request)
    for group in (requests, below):
        group.sort(key=lambda r: -r["share_of_stolen"])
    return requests, below


def _share(result: TraceResult, deposits: list[dict[str, Any]], basis: dict[tuple[str, str], int]) -> float:
    """The largest share of an asset's stolen value these deposits hold. Amounts compare by ticker in
    the asset's own units, so USDT stolen on Ethereum and cashed out on Tron (or bridged to BSC with 18
    decimals) is measured against the USDT stolen."""
    def units(chain: str, asset: str, base: int) -> Decimal:
        return Decimal(base) / (Decimal(10) ** result.decimals.get((chain, asset), 18))

    stolen: dict[str, Decimal] = {}
    for (chain, asset), v in basis.items():
        stolen[asset] = stolen.get(asset, Decimal(0)) + units(chain, asset, v)
    held: dict[str, Decimal] = {}
    for d in deposits:
        held[d["asset"]] = held.get(d["asset"], Decimal(0)) + units(d["chain"], d["asset"], int(d["amount_base_units"]))
    return max((float(held.get(a, 0) / v) for a, v in stolen.items() if v), default=0.0)


def _contract_key(contract: str | None) -> str:
    return (contract or "").lower() if (contract or "").startswith("0x") else (contract or "")


def _usd(price: PriceFn | None, chain: str, asset: str, contract: str | None, day: str | None, units: int,
         decimals: int) -> str | None:
    if price is None or not day:
        return None
    when = date.fromisoformat(day[:10])
    value = (price(chain, contract, when, units, decimals) if contract else None) or \
        price(chain, asset, when, units, decimals)
    return None if value is None else str(value.quantize(Decimal("0.01")))


def _deposit(result: TraceResult, o: dict[str, Any], price: PriceFn | None, into, victims: set[str],
             evidence_paths: int) -> dict[str, Any]:
    paths = explain(result, o["address"], limit=evidence_paths, into=into)
    decimals = result.decimals.get((o["chain"], o["asset"]), 18)
    return {"chain": o["chain"], "address": o["address"], "asset": o["asset"], "amount": o["amount"],
            "amount_base_units": o["amount_base_units"], "first_seen": o["first_seen"],
            "confidence": o["confidence"],
            "usd": _usd(price, o["chain"], o["asset"], result.contracts.get((o["chain"], o["asset"])),
                        o["first_seen"], int(o["amount_base_units"]), decimals),
            "evidence": paths, "story": [plain_steps(p["steps"], victims) for p in paths]}


def incident_block(result: TraceResult, findings: dict[str, Any], price: PriceFn | None,
                   victim_name: str | None) -> dict[str, Any]:
    """Name, victim, theft transactions, time and value of the theft, for the letter's first part."""
    victims = {v["address"] for v in findings.get("victims", [])}
    txs = {s["tx_hash"] for s in findings["seeds"] if s.get("tx_hash")} | \
        {e.tx_hash for e in result.edges if e.source in victims}
    theft = findings.get("theft_time")
    value = []
    for s in findings.get("stolen", []):
        units = int(s["amount_base_units"])
        decimals = result.decimals.get((s["chain"], s["asset"]), 18)
        value.append({"chain": s["chain"], "asset": s["asset"], "amount_base_units": str(units),
                      "amount": format_units(units, decimals),
                      "usd": _usd(price, s["chain"], s["asset"], result.contracts.get((s["chain"], s["asset"])),
                                  theft, units, decimals)})
    victim = victim_name or (", ".join(f"the owner of {short(a)}" for a in sorted(victims)) if victims else None)
    return {"name": findings.get("incident"), "victim": victim, "victim_addresses": sorted(victims),
            "theft_transactions": sorted(txs), "time": (theft or "").replace("T", " ").replace("Z", " UTC") or None,
            "value": value}


def write_freeze_requests(requests: list[dict[str, Any]], out_dir: Path, pdf: bool = False,
                          below_minimum: list[dict[str, Any]] | None = None) -> list[Path]:
    """freeze_requests.json (with the requests under the minimum listed apart, without letters) and
    one HTML letter per request (and its PDF with WeasyPrint when `pdf`); each file is written
    whole, then renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"requests": requests, "below_minimum": [{k: r[k] for k in ("id", "kind", "exchange", "share_of_stolen",
                                                                       "usd", "deposit_addresses")}
                                                   for r in below_minimum or []]}
    written = [_atomic(out_dir / "freeze_requests.json", json.dumps(doc, indent=2))]
    for r in requests:
        html = render_letter(r)
        written.append(_atomic(out_dir / f"{_slug(r['exchange'])}.html", html))
        if pdf:
            from weasyprint import HTML

            target = out_dir / f"{_slug(r['exchange'])}.pdf"
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.")
            os.close(fd)
            HTML(string=html).write_pdf(tmp)
            os.replace(tmp, target)
            written.append(target)
    return written


def update_status(path: Path, exchange: str, status: str, frozen: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Record an exchange's answer: status and the amounts frozen [(chain, asset, base units)]."""
    if status not in STATUSES:
        raise InputError(f"status {status!r} unknown: use one of {', '.join(STATUSES)}")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read freeze requests ({exc})") from None
    matches = [r for r in doc.get("requests", []) if exchange.lower() in (r["exchange"].lower(), r["id"].lower())]
    if not matches:
        names = ", ".join(r["exchange"] for r in doc.get("requests", []))
        raise InputError(f"{path}: no freeze request for exchange {exchange!r} (have: {names or 'none'})")
    req = matches[0]
    req["status"] = status
    req["frozen"] = [{"chain": c, "asset": a, "amount_base_units": str(v)} for c, a, v in frozen]
    req["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _atomic(path, json.dumps(doc, indent=2))
    return req


def _atomic(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def amount_text(base_units: int, decimals: int) -> str:
    return format_units(base_units, decimals)
