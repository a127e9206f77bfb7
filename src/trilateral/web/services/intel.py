"""The Intel screen: a feed of what the principal may read (through Hub.query, whose SQL is the
policy's twin), an object's versions, provenance and sightings, and sharing new objects (Hub.submit)."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub.recipients import with_recipients

PAGE = 50
SCAN_BATCH = 200
SCAN_BATCHES = 25  # a filtered feed reads at most 5,000 visible objects per screen, then offers "more"
SCAN_SECONDS = 0.08  # ... or stops after this long: a screen stays fast, "next page" continues the scan
DEFAULT_WINDOW = timedelta(days=7)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
INDICATOR_KINDS = {
    "wallet": "[cryptocurrency-wallet:address = '{v}']",
    "ipv4": "[ipv4-addr:value = '{v}']",
    "domain": "[domain-name:value = '{v}']",
    "url": "[url:value = '{v}']",
    "sha256": "[file:hashes.'SHA-256' = '{v}']",
}


@dataclass
class FeedQuery:
    """Filters of the feed. Type and time go to the hub's SQL; TLP, submitter and text are applied to
    the visible objects the hub returns (never to anything else)."""

    collection: str | None = "shared"
    types: list[str] = field(default_factory=list)
    tlps: list[Tlp] = field(default_factory=list)
    submitter: str = ""
    since: datetime | None = None
    text: str = ""
    cursor: str | None = None

    @property
    def filters_in_python(self) -> bool:
        return bool(self.tlps or self.submitter or self.text)


@dataclass(frozen=True)
class FeedItem:
    id: str
    type: str
    name: str
    tlp: Tlp
    submitter: str
    date_added: datetime
    version: str
    collection: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "tlp": self.tlp.label,
                "submitter": self.submitter, "date_added": self.date_added.isoformat(),
                "version": self.version, "collection": self.collection, "detail": self.detail}


@dataclass
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None
    scanned: int


def parse_since(text: str | None, now: datetime | None = None) -> datetime:
    """'24h', '7d', an ISO date/time, or empty (the last 7 days)."""
    now = now or datetime.now(UTC)
    text = (text or "").strip()
    if not text:
        return now - DEFAULT_WINDOW
    match = re.fullmatch(r"(\d{1,5})\s*([hd])", text)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        return now - (timedelta(hours=n) if unit == "h" else timedelta(days=n))
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"'since' {text!r} is not a time: use 24h, 7d or an ISO date") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def describe(obj: dict[str, Any]) -> tuple[str, str]:
    """A display name and one line of detail for any STIX object."""
    name = obj.get("name") or obj.get("value") or obj.get("exchange") or obj.get("relationship_type") or obj["id"]
    detail = obj.get("pattern") or obj.get("description") or ""
    if obj.get("type") == "sighting":
        detail = f"sighting of {obj.get('sighting_of_ref', '')}"
    elif obj.get("type") == "relationship":
        detail = f"{obj.get('source_ref', '')} → {obj.get('target_ref', '')}"
    return str(name), str(detail)[:300]


def item(rec: Any) -> FeedItem:
    obj = rec.object
    name, detail = describe(obj)
    return FeedItem(rec.id, obj.get("type", ""), name, rec.tlp, rec.submitted_by, rec.date_added, rec.modified,
                    rec.collection, detail)


def matches(it: FeedItem, q: FeedQuery) -> bool:
    if q.tlps and it.tlp not in q.tlps:
        return False
    if q.submitter and it.submitter != q.submitter.upper():
        return False
    if q.text:
        needle = q.text.casefold()
        return needle in it.name.casefold() or needle in it.detail.casefold() or needle in it.id.casefold()
    return True


def feed(hub: Any, principal: Principal, q: FeedQuery) -> FeedPage:
    """One screen of the feed, oldest first from `since`; the next cursor continues where it stopped."""
    out: list[FeedItem] = []
    cursor, scanned, started = q.cursor, 0, time.perf_counter()
    batches = SCAN_BATCHES if q.filters_in_python else 1
    for _ in range(batches):
        page = hub.query(principal, collection=q.collection, added_after=q.since, types=q.types or None,
                         limit=SCAN_BATCH if q.filters_in_python else PAGE, cursor=cursor)
        scanned += len(page.records)
        out.extend(it for it in map(item, page.records) if matches(it, q))
        cursor = page.next_cursor if page.more else None
        if cursor is None or len(out) >= PAGE or time.perf_counter() - started > SCAN_SECONDS:
            break
    return FeedPage(out, cursor, scanned)


@dataclass
class ObjectView:
    id: str
    versions: list[dict[str, Any]]
    latest: dict[str, Any]
    tlp: Tlp
    submitter: str
    collection: str
    date_added: datetime
    recipients: list[str]


def object_view(hub: Any, principal: Principal, object_id: str) -> ObjectView | None:
    """Every version the principal may read, newest last; None when it may read none (so a hidden
    object and a missing one look the same)."""
    records = []
    for c in hub.collections(principal):  # one index probe per collection: (collection, stix_id) leads it
        records.extend(hub.query(principal, collection=c.id, ids=[object_id], versions=("all",), limit=1000).records)
    if not records:
        return None
    recs = sorted(records, key=lambda r: (r.modified, r.date_added))
    latest = recs[-1]
    ext = (latest.object.get("extensions") or {})
    recipients = sorted({c for e in ext.values() if isinstance(e, dict)
                         for c in (e.get("x_trilateral_recipients") or [])})
    versions = [{"version": r.modified, "date_added": r.date_added, "submitter": r.submitted_by,
                 "tlp": r.tlp, "collection": r.collection,
                 "json": orjson.dumps(r.object, option=orjson.OPT_INDENT_2).decode()} for r in recs]
    return ObjectView(object_id, versions, latest.object, latest.tlp, latest.submitted_by, latest.collection,
                      recs[0].date_added, recipients)


def sightings(hub: Any, principal: Principal, object_id: str) -> dict[str, int]:
    """Sightings per member the principal may read (empty when it may not read the indicator). Loaded
    after the object page: at a million objects the hub's count takes most of a second."""
    return hub.sighting_counts(principal, object_id)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_recipients(text: str) -> list[str]:
    return sorted({c.strip().upper() for c in re.split(r"[\s,;]+", text or "") if c.strip()})


def marked(obj: dict[str, Any], tlp: Tlp, recipients: list[str]) -> dict[str, Any]:
    """The object with the chosen TLP marking (unless it carries TLP markings of its own) and recipients."""
    out = dict(obj)
    if obj.get("type") != "marking-definition" and not obj.get("object_marking_refs"):
        out["object_marking_refs"] = [TLP2_MARKING_IDS[tlp]]
    return with_recipients(out, recipients) if recipients and obj.get("type") != "marking-definition" else out


def indicator_from_form(kind: str, value: str, name: str, description: str) -> dict[str, Any]:
    """A STIX 2.1 indicator for one observable entered in the share form."""
    if kind not in INDICATOR_KINDS:
        raise InputError(f"unknown indicator kind {kind!r}: use one of {', '.join(INDICATOR_KINDS)}")
    value = value.strip()
    if not value or "'" in value or "\\" in value:
        raise InputError("the value is empty or contains a quote or backslash")
    now = _now()
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": now,
           "modified": now, "name": name.strip() or value, "pattern_type": "stix",
           "pattern": INDICATOR_KINDS[kind].format(v=value), "valid_from": now,
           "indicator_types": ["malicious-activity"]}
    if description.strip():
        obj["description"] = description.strip()
    return obj


def objects_from_file(data: bytes, filename: str) -> list[dict[str, Any]]:
    """The objects of an uploaded STIX 2.1 bundle, envelope or single object."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{filename}: {len(data):,} bytes is more than the console takes "
                         f"({MAX_UPLOAD_BYTES:,}); import large bundles with `trilateral intel import` or TAXII")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{filename}: not JSON ({exc})") from None
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):
        return doc["objects"]
    if isinstance(doc, dict) and "type" in doc:
        return [doc]
    raise InputError(f"{filename}: expected a STIX bundle, a TAXII envelope or one STIX object")


def share(hub: Any, principal: Principal, objects: list[dict[str, Any]], tlp: Tlp, recipients: list[str],
          collection: str) -> Any:
    """Submit through the hub (validation, policy columns, audit); returns its SubmitResult."""
    if tlp == Tlp.RED and not recipients:
        raise InputError("TLP:RED needs at least one recipient (member or client code)")
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
              "objects": [marked(o, tlp, recipients) for o in objects if isinstance(o, dict)]}
    return hub.submit(principal, bundle, collection=collection, source="console")
