"""MITRE ATT&CK Enterprise STIX (2.0 or 2.1; one bundle or mitre/cti's per-object files) -> AttackCatalog."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.refdata.catalog import (
    KNOWN_DPRK_GROUPS,
    AttackCatalog,
    GroupProfile,
    SoftwareInfo,
    TechniqueInfo,
    is_dprk_text,
)
from trilateral.refdata.csvfile import csv_reader

_KEPT_TYPES = {"intrusion-set", "campaign", "attack-pattern", "malware", "tool", "relationship",
               "x-mitre-collection"}


def attack_id(obj: dict) -> str | None:
    """The ATT&CK id (G0032, T1059.001, S0001, C0022) from the mitre-attack external reference."""
    for ref in obj.get("external_references") or ():
        if ref.get("source_name") in ("mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"):
            return ref.get("external_id")
    return None


def _read_json(path: Path) -> object:
    try:
        with path.open("rb") as fh:
            return json.loads(fh.read())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc


def _objects_of(doc: object, where: Path) -> Iterator[dict]:
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        yield from doc.get("objects") or ()
    elif isinstance(doc, dict) and "type" in doc and "id" in doc:
        yield doc
    elif isinstance(doc, list):
        yield from (o for o in doc if isinstance(o, dict))
    else:
        raise InputError(f"{where}: neither a STIX bundle nor a STIX object")


def iter_stix_objects(path: Path) -> Iterator[dict]:
    """Objects of a bundle file, or of every *.json below a directory (mitre/cti layout)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise InputError(f"{path}: directory holds no *.json STIX files")
        for f in files:
            yield from _objects_of(_read_json(f), f)
    elif path.is_file():
        yield from _objects_of(_read_json(path), path)
    else:
        raise InputError(f"{path}: no such file or directory")


def _spec_version(objs: list[dict]) -> str:
    versions = {o.get("spec_version") for o in objs if o.get("spec_version")}
    return "2.1" if "2.1" in versions else "2.0"


def build_catalog(objects: Iterable[dict], source: str = "") -> AttackCatalog:
    """Profiles for every live intrusion set: own uses, uses of campaigns attributed to it, revoked aliases."""
    objs = [o for o in objects if o.get("type") in _KEPT_TYPES]
    by_id: dict[str, dict] = {}
    for o in objs:  # keep the newest version when files repeat an object
        old = by_id.get(o["id"])
        if old is None or (o.get("modified") or "") >= (old.get("modified") or ""):
            by_id[o["id"]] = o
    if not any(o["type"] == "intrusion-set" for o in by_id.values()):
        raise InputError(f"{source or 'input'}: no intrusion-set objects: is this an ATT&CK Enterprise bundle?")

    def dead(o: dict) -> bool:
        return bool(o.get("revoked") or o.get("x_mitre_deprecated"))

    rels = [o for o in by_id.values() if o["type"] == "relationship" and not dead(o)]
    revoked_by = {r["source_ref"]: r["target_ref"] for r in rels if r["relationship_type"] == "revoked-by"}

    def live(ref: str) -> str:
        seen = set()
        while ref in revoked_by and ref not in seen:
            seen.add(ref)
            ref = revoked_by[ref]
        return ref

    techniques: dict[str, TechniqueInfo] = {}
    software: dict[str, SoftwareInfo] = {}
    stix_to_attack: dict[str, str] = {}
    for o in by_id.values():
        aid = attack_id(o)
        if aid is None or dead(o):
            continue
        if o["type"] == "attack-pattern":
            techniques[aid] = TechniqueInfo(aid, o.get("name", ""), o["id"])
        elif o["type"] in ("malware", "tool"):
            aliases = tuple(dict.fromkeys([o.get("name", ""), *(o.get("x_mitre_aliases") or ())]))
            software[aid] = SoftwareInfo(aid, o.get("name", ""), o["type"], aliases, o["id"])
        stix_to_attack[o["id"]] = aid

    campaign_of: dict[str, set[str]] = defaultdict(set)  # intrusion-set stix id -> campaign stix ids
    uses: dict[str, set[str]] = defaultdict(set)
    for r in rels:
        src, tgt = live(r["source_ref"]), live(r["target_ref"])
        if r["relationship_type"] == "attributed-to" and src.startswith("campaign--"):
            campaign_of[tgt].add(src)
        elif r["relationship_type"] == "uses" and src.split("--")[0] in ("intrusion-set", "campaign"):
            target = by_id.get(tgt)
            if target is not None and not dead(target) and tgt in stix_to_attack:
                uses[src].add(stix_to_attack[tgt])

    former: dict[str, list[str]] = defaultdict(list)
    for old, new in revoked_by.items():
        old_obj = by_id.get(old)
        if old_obj is not None and old_obj["type"] == "intrusion-set":
            names = [old, attack_id(old_obj) or "", old_obj.get("name", ""), *(old_obj.get("aliases") or ())]
            former[live(new)].extend(n for n in names if n)

    groups: list[GroupProfile] = []
    for o in by_id.values():
        if o["type"] != "intrusion-set" or dead(o):
            continue
        gid = attack_id(o) or o["id"]
        used = set(uses[o["id"]])
        campaigns = sorted(campaign_of.get(o["id"], ()))
        for c in campaigns:
            if not dead(by_id.get(c, {})):
                used |= uses[c]
        aliases = tuple(dict.fromkeys([o.get("name", ""), *(o.get("aliases") or ())]))
        dprk = gid in KNOWN_DPRK_GROUPS or is_dprk_text(o.get("description", ""), *aliases)
        groups.append(GroupProfile(
            attack_id=gid, stix_id=o["id"], name=o.get("name", gid), aliases=aliases, dprk=dprk,
            techniques=tuple(sorted(u for u in used if u in techniques)),
            software=tuple(sorted(u for u in used if u in software)),
            campaigns=tuple(sorted(attack_id(by_id[c]) or c for c in campaigns if c in by_id)),
            former_ids=tuple(dict.fromkeys(former.get(o["id"], ()))),
        ))
    groups.sort(key=lambda g: g.attack_id)
    collection = next((o for o in by_id.values() if o["type"] == "x-mitre-collection"), {})
    return AttackCatalog(groups, dict(sorted(techniques.items())), dict(sorted(software.items())),
                         source=source, spec_version=_spec_version(list(by_id.values())),
                         attack_version=str(collection.get("x_mitre_version", "")))


def load_attack(path: Path) -> AttackCatalog:
    """Read enterprise-attack.json (or a mitre/cti directory) and build the catalog."""
    return build_catalog(iter_stix_objects(Path(path)), source=str(path))


_USES_SHAPES = {  # header -> (group id column, group name column, group type column or None)
    "all_groups_uses": ("group_attack_id", "group_name", None),
    "dprk_uses": ("source_attack_id", "source_name", "source_type"),
}
_USES_NEEDS = ("target_attack_id", "target_type", "target_name")


def uses_csv_shape(header: list[str]) -> str | None:
    """'all_groups_uses' or 'dprk_uses' when the header is a groups-techniques CSV, else None."""
    for shape, (gid, gname, _) in _USES_SHAPES.items():
        if all(c in header for c in (gid, gname, *_USES_NEEDS)):
            return shape
    return None


def catalog_from_uses_csv(path: Path) -> AttackCatalog:
    """A groups-techniques CSV as a catalog: all_groups_uses.csv (group, is_dprk, target) or dprk_uses.csv
    (source group or campaign, target). Campaign rows are skipped: the CSV does not say whose they are.
    Groups are DPRK by the CSV's is_dprk column, else by ATT&CK's own list (KNOWN_DPRK_GROUPS)."""
    path = Path(path)
    groups: dict[str, dict] = {}
    techniques: dict[str, TechniqueInfo] = {}
    software: dict[str, SoftwareInfo] = {}
    with csv_reader(path) as reader:
        shape = uses_csv_shape(reader.fieldnames or [])
        if shape is None:
            raise InputError(f"{path}: not a groups-techniques CSV (needs group_attack_id or source_attack_id, "
                             f"and {', '.join(_USES_NEEDS)})")
        gid_col, name_col, type_col = _USES_SHAPES[shape]
        for line, row in enumerate(reader, start=2):
            if type_col and row.get(type_col) != "intrusion-set":
                continue
            gid, tid, kind = row.get(gid_col) or "", row.get("target_attack_id") or "", row.get("target_type")
            if not re.fullmatch(r"G\d{4}", gid) or not tid:
                raise InputError(f"{path}:{line}: {gid_col} {gid!r} / target_attack_id {tid!r} is not an ATT&CK id")
            if kind not in ("attack-pattern", "malware", "tool"):
                raise InputError(f"{path}:{line}: target_type {kind!r} is not attack-pattern, malware or tool")
            g = groups.setdefault(gid, {"name": row.get(name_col) or gid, "dprk": row.get("is_dprk") == "True",
                                        "t": set(), "s": set()})
            if kind == "attack-pattern":
                g["t"].add(tid)
                techniques.setdefault(tid, TechniqueInfo(tid, row.get("target_name") or ""))
            else:
                g["s"].add(tid)
                software.setdefault(tid, SoftwareInfo(tid, row.get("target_name") or "", kind,
                                                      (row.get("target_name") or "",)))
    if not groups:
        raise InputError(f"{path}: no intrusion-set rows")
    profiles = [GroupProfile(gid, "", g["name"], (g["name"],), g["dprk"] or gid in KNOWN_DPRK_GROUPS,
                             tuple(sorted(g["t"])), tuple(sorted(g["s"])))
                for gid, g in sorted(groups.items())]
    return AttackCatalog(profiles, techniques, software, source=str(path), spec_version="csv")
