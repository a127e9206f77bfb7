"""OFAC SDN list in its official formats: legacy SDN.CSV (addresses in remarks) and SDN_ADVANCED.XML."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from lxml import etree

from trilateral.core.errors import InputError
from trilateral.labels.countries import country_code
from trilateral.labels.model import Label, chain_of, normalise_address

SOURCE = "OFAC SDN"
REMARKS_LIMIT = 1000  # legacy SDN.CSV cuts the remarks field at 1,000 characters
ADDRESS_RE = re.compile(r"Digital Currency Address - ([A-Za-z0-9]+)[ :]+([^\s;,.]+)")
NATIONALITY_RE = re.compile(r"(?:nationality|citizen|Nationality of Registration)\s+([^;]+);", re.IGNORECASE)


def _programs(field: str) -> tuple[str, ...]:
    """SDN.CSV writes programmes as 'DPRK3] [CYBER2' (the outer brackets dropped)."""
    return tuple(p.strip(" []") for p in field.split("] [") if p.strip(" []") and p.strip() != "-0-")


def read_sdn_csv(path: Path) -> tuple[list[Label], list[str]]:
    """Each 'Digital Currency Address - XBT 1ABC...' in a row's remarks becomes one sanctioned label."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    labels, skipped = [], []
    for line_no, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not row or (len(row) == 1 and not row[0].strip()) or row[0].strip() == "\x1a":
            continue
        if len(row) < 12 or not row[0].strip().isdigit():
            skipped.append(f"{path}:{line_no}: not an SDN.CSV row ({len(row)} fields)")
            continue
        uid, name, _kind, programs, remarks = row[0].strip(), row[1].strip(), row[2], row[3], row[11]
        nationality = NATIONALITY_RE.search(remarks)
        jurisdiction = country_code(nationality.group(1)) if nationality else None
        cut = len(remarks) >= REMARKS_LIMIT and not remarks.rstrip().endswith(".")
        if cut and "Digital Currency Address" in remarks:
            skipped.append(f"{path}:{line_no}: SDN {uid} remarks cut at {REMARKS_LIMIT} characters; addresses "
                           "past the cut are missing (take the full list from SDN_ADVANCED.XML)")
        for match in ADDRESS_RE.finditer(remarks):
            currency, address = match.groups()
            if cut and match.end() == len(remarks):
                continue  # the address itself is cut short
            chain = chain_of(currency, address)
            labels.append(Label(address=normalise_address(chain, address), chain=chain, entity=name,
                                category="sanctioned", jurisdiction=jurisdiction, source=SOURCE, confidence=1.0,
                                programs=_programs(programs), label=f"SDN {uid}: {name}", abuse="sanction",
                                extra={"sdn_uid": uid, "currency": currency}, entry_id=uid))
    return labels, skipped


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def read_sdn_advanced_xml(path: Path) -> tuple[list[Label], list[str]]:
    """Digital-currency-address features of each profile, with its primary name, programmes and country."""
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{path}:{exc.lineno}: not XML ({exc.msg})") from exc
    ns = root.nsmap.get(None)
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    feature_types = {ft.get("ID"): (ft.text or "") for ft in root.iter(q("FeatureType"))}
    countries = {c.get("ID"): c.get("ISO2") or country_code(c.text) for c in root.iter(q("Country"))}
    locations = {}
    for loc in root.iter(q("Location")):
        lc = loc.find(q("LocationCountry"))
        if lc is not None:
            locations[loc.get("ID")] = countries.get(lc.get("CountryID"))
    program_types = {t.get("ID") for t in root.iter(q("SanctionsType")) if (t.text or "").strip() == "Program"}
    programs_by_profile: dict[str, list[str]] = {}
    for entry in root.iter(q("SanctionsEntry")):
        progs = [c.text.strip() for m in entry.iter(q("SanctionsMeasure"))
                 if not program_types or m.get("SanctionsTypeID") in program_types
                 for c in m.iter(q("Comment")) if c.text and c.text.strip()]
        programs_by_profile.setdefault(entry.get("ProfileID"), []).extend(progs)
    labels, skipped = [], []
    for profile in root.iter(q("Profile")):
        pid = profile.get("ID")
        name = None
        for alias in profile.iter(q("Alias")):
            if alias.get("Primary") == "true":
                name = " ".join(v.text.strip() for v in alias.iter(q("NamePartValue")) if v.text)
                break
        jurisdiction = None
        addresses: list[tuple[str, str]] = []
        for feature in profile.iter(q("Feature")):
            ftype = feature_types.get(feature.get("FeatureTypeID"), "")
            if ftype.startswith("Digital Currency Address - "):
                currency = ftype.removeprefix("Digital Currency Address - ").strip()
                for detail in feature.iter(q("VersionDetail")):
                    if detail.text and detail.text.strip():
                        addresses.append((currency, detail.text.strip()))
            elif ftype in ("Nationality Country", "Citizenship Country", "Nationality of Registration") \
                    and jurisdiction is None:
                for vl in feature.iter(q("VersionLocation")):
                    jurisdiction = locations.get(vl.get("LocationID")) or jurisdiction
        programs = tuple(dict.fromkeys(programs_by_profile.get(pid, [])))
        for currency, address in addresses:
            chain = chain_of(currency, address)
            labels.append(Label(address=normalise_address(chain, address), chain=chain, entity=name,
                                category="sanctioned", jurisdiction=jurisdiction, source=SOURCE, confidence=1.0,
                                programs=programs, label=f"SDN {pid}: {name}", abuse="sanction",
                                extra={"sdn_uid": str(pid), "currency": currency}, entry_id=str(pid)))
    return labels, skipped


ASSET_LIST_RE = re.compile(r"sanctioned_addresses_([A-Za-z0-9]+)\.(?:txt|json)$")


def read_asset_list(path: Path) -> tuple[list[Label], list[str]]:
    """One of the per-asset address lists derived from SDN_ADVANCED.XML by 0xB10C's
    ofac-sanctioned-digital-currency-addresses (`sanctioned_addresses_<ASSET>.txt` one address a line,
    or `.json` an array): the list carries no names, so a hit says only that OFAC lists the address."""
    match = ASSET_LIST_RE.search(path.name)
    if not match:
        raise InputError(f"{path}: an OFAC asset list is named sanctioned_addresses_<ASSET>.txt or .json")
    currency = match.group(1).upper()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
        if not isinstance(values, list):
            raise InputError(f"{path}: expected a JSON array of addresses")
        entries = [(i + 1, str(v).strip()) for i, v in enumerate(values)]
    else:
        entries = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines())]
    labels, skipped = [], []
    for line_no, address in entries:
        if not address or address.startswith("#"):
            continue
        if not re.fullmatch(r"[A-Za-z0-9:]+", address):
            skipped.append(f"{path}:{line_no}: not an address: {address[:60]!r}")
            continue
        chain = chain_of(currency, address)
        labels.append(Label(address=normalise_address(chain, address), chain=chain, entity=None,
                            category="sanctioned", jurisdiction=None, source=SOURCE, confidence=1.0,
                            label=f"OFAC SDN digital currency address ({currency})", abuse="sanction",
                            extra={"currency": currency}))
    return labels, skipped
