"""The incident register: DPRK thefts as STIX `incident` objects in the hub, idempotent by source row."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.report.amounts import base_units_of
from trilateral.report.stix import marking, query_all, submit_all

INCIDENT_NAMESPACE = uuid.UUID("4f0d6e51-7d1c-5f2e-9a4b-1c7e2a9d3b60")
SOURCE_REPO_URL = "https://github.com/tayvano/lazarus-bluenoroff-research/blob/main/"
# Fields that define an incident's content; a re-import with the same content stores nothing.
CONTENT_KEYS = ("name", "x_trilateral_date", "x_trilateral_usd_stolen", "x_trilateral_cluster",
                "x_trilateral_stolen", "x_trilateral_suggested_group", "external_references", "object_marking_refs",
                "description", "x_trilateral_date_precision")


def incident_id(day: date | str, name: str) -> str:
    """Deterministic id: the same (date as written, name) always maps to the same incident."""
    text = day.isoformat() if isinstance(day, date) else day.strip()
    return f"incident--{uuid.uuid5(INCIDENT_NAMESPACE, f'{text}|{name.strip()}')}"


def parse_register_date(text: str, quarter: str = "") -> tuple[date, str]:
    """(date, precision): '2018-06-??' is month precision (the 1st); '2018-??-??' takes the quarter column."""
    text = text.strip()
    try:
        return date.fromisoformat(text), "day"
    except ValueError:
        pass
    parts = text.split("-")
    if len(parts) == 3 and parts[0].isdigit() and len(parts[0]) == 4:
        if parts[1].isdigit() and 1 <= int(parts[1]) <= 12 and set(parts[2]) <= {"?", "x", "X"}:
            return date(int(parts[0]), int(parts[1]), 1), "month"
        q = quarter.strip().upper().replace("-", "")
        if q.startswith(parts[0] + "Q") and q[-1] in "1234":
            return date(int(parts[0]), 3 * int(q[-1]) - 2, 1), "quarter"
    raise ValueError(text)


def make_incident(*, name: str, day: date, usd_stolen: str | None = None, cluster: str | None = None,
                  stolen: Iterable[dict[str, Any]] = (), references: Iterable[dict[str, str]] = (),
                  suggested_group: str | None = None, description: str | None = None,
                  tlp: Tlp = Tlp.CLEAR, date_as_written: str | None = None,
                  date_precision: str = "day") -> dict[str, Any]:
    """An `incident` with the register's properties (docs/interfaces.md)."""
    if not name.strip():
        raise InputError("an incident needs a name")
    if usd_stolen not in (None, ""):
        try:
            if Decimal(str(usd_stolen)) < 0:
                raise InvalidOperation
        except InvalidOperation:
            raise InputError(f"incident {name!r}: USD stolen {usd_stolen!r} is not a non-negative number") from None
    stamp = f"{day.isoformat()}T00:00:00.000Z"
    entries = [{"chain": str(e["chain"]), "asset": str(e["asset"]), "amount_base_units": str(base_units_of(e))}
               for e in stolen]
    obj: dict[str, Any] = {
        "type": "incident", "spec_version": "2.1", "id": incident_id(date_as_written or day, name),
        "created": stamp, "modified": stamp, "name": name.strip(),
        "x_trilateral_date": day.isoformat(), "object_marking_refs": marking(tlp),
    }
    if date_precision != "day":
        obj["x_trilateral_date_precision"] = date_precision
    if entries:  # STIX forbids empty lists and nulls: absent means "no amounts recorded"
        obj["x_trilateral_stolen"] = entries
    if usd_stolen not in (None, ""):
        obj["x_trilateral_usd_stolen"] = str(Decimal(str(usd_stolen)))
    if cluster:
        obj["x_trilateral_cluster"] = cluster
    if suggested_group:
        obj["x_trilateral_suggested_group"] = suggested_group
    if description:
        obj["description"] = description
    refs = list(references)
    if refs:
        obj["external_references"] = refs
    return obj


def incident_from_row(row: dict[str, str], where: str, tlp: Tlp) -> dict[str, Any]:
    """One incidents.csv row (date, incident, amount_stolen_usd, cluster, ...) as an incident."""
    raw_date = (row.get("date") or "").strip()
    try:
        day, precision = parse_register_date(raw_date, row.get("quarter") or "")
    except ValueError:
        raise InputError(f"{where}: date {raw_date!r} is not YYYY-MM-DD (or YYYY-MM-?? with the quarter column)") from None
    name = (row.get("incident") or "").strip()
    if not name:
        raise InputError(f"{where}: the incident column is empty")
    usd = (row.get("amount_stolen_usd") or "").strip().replace(",", "").lstrip("$")
    refs = []
    if (row.get("source_page") or "").strip():
        refs.append({"source_name": "lazarus-bluenoroff-research", "url": SOURCE_REPO_URL + row["source_page"].strip(),
                     "description": f"published amount: {(row.get('amount_as_published') or '').strip() or 'n/a'}"})
    try:
        return make_incident(name=name, day=day, usd_stolen=usd or None, cluster=(row.get("cluster") or "").strip(),
                             references=refs, suggested_group=(row.get("suggested_attack_group") or "").strip() or None,
                             tlp=tlp, date_as_written=raw_date if precision != "day" else None,
                             date_precision=precision)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def read_incidents_csv(path: Path, tlp: Tlp = Tlp.CLEAR) -> list[dict[str, Any]]:
    """Every row as an incident, or an error naming the first bad line (nothing half-read)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = {"date", "incident"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"{path}: header lacks {', '.join(sorted(missing))} (expected the incidents.csv layout: "
                             "date,year,quarter,incident,amount_stolen_usd,...)")
        objects = [incident_from_row(row, f"{path}:{line}", tlp) for line, row in enumerate(reader, start=2)]
    seen: dict[str, int] = {}
    for n, obj in enumerate(objects, start=2):
        if obj["id"] in seen:
            raise InputError(f"{path}:{n}: same date and incident name as line {seen[obj['id']]}")
        seen[obj["id"]] = n
    return objects


@dataclass
class RegisterResult:
    stored: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"stored": len(self.stored), "updated": len(self.updated), "unchanged": len(self.unchanged)}


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: obj.get(k) for k in CONTENT_KEYS}


def store_incidents(hub: Any, principal: Principal, objects: list[dict[str, Any]]) -> RegisterResult:
    """Submit what is new; a changed incident gets a new version (modified now); the same content nothing."""
    from trilateral.report.stix import stix_time

    existing: dict[str, dict[str, Any]] = {}
    ids = [o["id"] for o in objects]
    for start in range(0, len(ids), 500):
        for rec in query_all(hub, principal, ids=ids[start:start + 500], types=["incident"]):
            existing[rec.id] = rec.object
    result, to_submit = RegisterResult(), []
    for obj in objects:
        old = existing.get(obj["id"])
        if old is None:
            result.stored.append(obj["id"])
            to_submit.append(obj)
        elif _content(old) == _content(obj):
            result.unchanged.append(obj["id"])
        else:
            new = dict(obj, created=old.get("created", obj["created"]), modified=stix_time())
            result.updated.append(obj["id"])
            to_submit.append(new)
    submit_all(hub, principal, to_submit, "incidents")
    return result


def import_incidents_csv(hub: Any, principal: Principal, path: Path, tlp: Tlp = Tlp.CLEAR) -> RegisterResult:
    """`trilateral incidents import CSV`: read all rows first, then store them in one submission."""
    return store_incidents(hub, principal, read_incidents_csv(path, tlp))


def parse_stolen(specs: Iterable[str]) -> list[dict[str, str]]:
    """'ethereum:ETH:1500000000000000000' (base units) entries of `incidents add --stolen`."""
    out = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 3 or not parts[2].strip().isdigit():
            raise InputError(f"--stolen {spec!r}: use CHAIN:ASSET:BASE_UNITS, e.g. ethereum:ETH:1500000000000000000")
        out.append({"chain": parts[0].strip(), "asset": parts[1].strip(), "amount_base_units": parts[2].strip()})
    return out


def find_incident(hub: Any, principal: Principal, text: str, theft_time: Any = None) -> dict[str, Any] | None:
    """The hub incident `trace --incident TEXT` names: an `incident--…` id the principal may read, else the
    readable incident whose name is TEXT (or shares a distinctive word with it) nearest the theft's date.
    None when nothing matches (the trace then shares an incident of its own under that name)."""
    from trilateral.report.dedup import DAY_WINDOW, name_words
    from trilateral.report.records import parse_time

    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("incident--"):
        found = list(query_all(hub, principal, ids=[text], types=["incident"]))
        if not found:
            raise InputError(f"--incident {text}: no such incident readable by {principal.code}")
        return found[0].object
    when = parse_time(theft_time)
    words, exact = name_words(text), text.casefold()
    best: tuple[float, dict[str, Any]] | None = None
    for rec in query_all(hub, principal, types=["incident"]):
        obj = rec.object
        name = str(obj.get("name", ""))
        if name.casefold() != exact and not (words and words & name_words(name)):
            continue
        day = parse_time(obj.get("x_trilateral_date")) or parse_time(obj.get("first_seen"))
        gap = abs((day - when).total_seconds()) if day is not None and when is not None else 0.0
        if when is not None and day is not None and gap > (DAY_WINDOW + 1) * 86400:
            continue
        rank = gap - (1 if name.casefold() == exact else 0)
        if best is None or rank < best[0]:
            best = (rank, obj)
    return best[1] if best else None
