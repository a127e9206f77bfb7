"""Freeze requests: one per exchange entity, routed to the member whose jurisdiction it is in, with
the deposit addresses, amounts, times and evidence paths; as JSON and a short HTML letter."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from trilateral.core.amount import format_units
from trilateral.core.errors import InputError
from trilateral.trace.findings import explain
from trilateral.trace.model import TraceResult

DEFAULT_MEMBERS = ("US", "KR", "JP")
STATUSES = ("requested", "frozen", "partially_frozen", "refused")
NO_MEMBER = "no member jurisdiction"

LETTER = Environment(autoescape=select_autoescape(default=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Freeze request: {{ r.exchange }}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.2em .5em;font-size:.9em}code{font-size:.85em}</style></head><body>
<p><strong>TLP:AMBER</strong> — for the addressee and those who need to know to act on it.</p>
<h1>Request to freeze funds: {{ r.exchange }}</h1>
<p>Date: {{ r.requested_at }}<br>Routed to: {{ r.routed_to or "no member jurisdiction" }}
(exchange jurisdiction: {{ r.jurisdiction or "unknown" }})<br>Reference: <code>{{ r.id }}</code></p>
<p>Funds traced from the theft seeded at {{ seeds }} (policy: {{ r.policy }}) reached the deposit
addresses below at your exchange. We ask you to freeze the balances credited from these deposits and to
preserve the account records of their owners.</p>
<table><tr><th>chain</th><th>deposit address</th><th>asset</th><th>amount</th><th>first seen</th><th>confidence</th></tr>
{% for d in r.deposit_addresses %}<tr><td>{{ d.chain }}</td><td><code>{{ d.address }}</code></td><td>{{ d.asset }}</td>
<td>{{ d.amount }}</td><td>{{ d.first_seen }}</td><td>{{ d.confidence }}</td></tr>{% endfor %}
</table>
<h2>Evidence</h2>
{% for d in r.deposit_addresses %}{% for p in d.evidence %}<p>{{ d.address }} — path of {{ p.hops }} hop(s),
confidence {{ p.confidence }}:</p><ol>{% for s in p.steps %}<li>{{ s.time }} {{ s.kind }} <code>{{ s.from }}</code> →
<code>{{ s.to }}</code>: {{ s.amount }} {{ s.asset }} (tx <code>{{ s.tx_hash }}</code>)</li>{% endfor %}</ol>
{% endfor %}{% endfor %}
<p>Please reply with the amounts frozen, per address and asset.</p></body></html>
""")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "exchange"


def freeze_requests(result: TraceResult, findings: dict[str, Any], members: Iterable[str] = DEFAULT_MEMBERS,
                    requested_at: datetime | None = None, evidence_paths: int = 3) -> list[dict[str, Any]]:
    """One request per exchange entity that received traced funds, largest first."""
    members = {m.upper() for m in members}
    now = (requested_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for o in findings["offramps"]:
        by_entity.setdefault(o["entity"] or f"unknown exchange ({o['address']})", []).append(o)
    requests = []
    for entity, offs in by_entity.items():
        juris = next((o["jurisdiction"] for o in offs if o["jurisdiction"]), None)
        routed = juris if juris and juris.upper() in members else None
        ident = hashlib.sha256(json.dumps([findings["seeds"], entity, findings["policy"]],
                                          sort_keys=True).encode()).hexdigest()[:16]
        deposits = [{"chain": o["chain"], "address": o["address"], "asset": o["asset"], "amount": o["amount"],
                     "amount_base_units": o["amount_base_units"], "first_seen": o["first_seen"],
                     "confidence": o["confidence"], "evidence": explain(result, o["address"], limit=evidence_paths)}
                    for o in offs]
        requests.append({"id": f"freeze-{_slug(entity)}-{ident}", "exchange": entity, "jurisdiction": juris,
                         "routed_to": routed, "routing": routed or NO_MEMBER, "policy": findings["policy"],
                         "seeds": findings["seeds"], "requested_at": now, "status": "requested", "frozen": [],
                         "deposit_addresses": deposits})
    requests.sort(key=lambda r: -sum(int(d["amount_base_units"]) for d in r["deposit_addresses"]))
    return requests


def write_freeze_requests(requests: list[dict[str, Any]], out_dir: Path, pdf: bool = False) -> list[Path]:
    """freeze_requests.json and one HTML letter per exchange (and its PDF with WeasyPrint when
    `pdf`); each file is written whole, then renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [_atomic(out_dir / "freeze_requests.json", json.dumps({"requests": requests}, indent=2))]
    for r in requests:
        seeds = ", ".join(s.get("address") or s.get("tx_hash", "") for s in r["seeds"])
        html = LETTER.render(r=r, seeds=seeds)
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
