"""Reference data on disk for the actor model: the MISP galaxy, the incident register, the actor catalogue.

`refdata import` stores each source as processed JSON under `refdata/` and rebuilds `actors.json`
from everything stored so far (ATT&CK catalog + galaxy + register), so importing in any order gives
the same actors. `load_actors` is what every command calls.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from trilateral.attribution.actors import ActorCatalog, AttackGroupRecord, build_actors
from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.refdata.catalog import CATALOG_FILE, AttackCatalog
from trilateral.refdata.register import RegisterIncident

ACTORS_FILE = "actors.json"
MISP_FILE = "misp_threat_actors.json"
REGISTER_FILE = "incident_register.json"
ADDRESSES_FILE = "incident_addresses.json"
VICTIMS_FILE = "victim_entities.json"
ATTACK_NAMES_FILE = "attack_names.json"


def read_misp_galaxy(path: Path) -> list[dict]:
    """The `values` of a MISP galaxy cluster file (threat-actor.json or a subset of it)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    values = doc.get("values") if isinstance(doc, dict) else None
    if not isinstance(values, list):
        raise InputError(f"{path}: not a MISP galaxy cluster file (expected an object with \"values\": [...])")
    for i, v in enumerate(values):
        if not isinstance(v, dict) or not isinstance(v.get("value"), str):
            raise InputError(f"{path}: values[{i}] has no \"value\" name")
    return values


def attack_names(catalog: AttackCatalog, known: dict[str, dict] | None = None) -> dict[str, dict]:
    """ATT&CK id -> {aliases, former_ids}, merged over every ATT&CK source imported: a groups-techniques
    CSV carries no aliases, so the names a STIX bundle taught stay known after the CSV replaces it."""
    names = {gid: {k: list(v) for k, v in entry.items()} for gid, entry in (known or {}).items()}
    for g in catalog.groups:
        entry = names.setdefault(g.attack_id, {"aliases": [], "former_ids": []})
        entry["aliases"] = list(dict.fromkeys([*entry["aliases"], *g.aliases]))
        entry["former_ids"] = list(dict.fromkeys([*entry["former_ids"], *g.former_ids]))
    return names


def attack_records(catalog: AttackCatalog, names: dict[str, dict] | None = None) -> list[AttackGroupRecord]:
    names = names or {}
    return [AttackGroupRecord(g.attack_id, g.name,
                              tuple(dict.fromkeys([*g.aliases, *names.get(g.attack_id, {}).get("aliases", ())])),
                              g.dprk,
                              tuple(dict.fromkeys([*g.former_ids, *names.get(g.attack_id, {}).get("former_ids", ())])))
            for g in catalog.groups]


def build_from(catalog: AttackCatalog | None, misp_values: list[dict] | None,
               register: list[RegisterIncident] | None, names: dict[str, dict] | None = None) -> ActorCatalog:
    """The actor catalogue of whatever sources are given (pure)."""
    return build_actors(attack_records(catalog, names) if catalog else (), misp_values or (),
                        [(r.cluster, r.suggested_attack_group) for r in register or ()])


def _write_json(refdata_dir: Path, name: str, doc: object) -> Path:
    """Atomic write: a failed import leaves the previous file in place."""
    refdata_dir.mkdir(parents=True, exist_ok=True)
    target = refdata_dir / name
    fd, tmp = tempfile.mkstemp(dir=refdata_dir, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"), ensure_ascii=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _read_json(path: Path) -> object | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def stored_catalog(settings: Settings) -> AttackCatalog | None:
    doc = _read_json(settings.refdata_dir / CATALOG_FILE)
    return AttackCatalog.from_json(doc) if doc else None


def stored_misp(settings: Settings) -> list[dict]:
    return _read_json(settings.refdata_dir / MISP_FILE) or []


def stored_register(settings: Settings) -> list[RegisterIncident]:
    return [RegisterIncident(**r) for r in _read_json(settings.refdata_dir / REGISTER_FILE) or []]


def save_json(settings: Settings, name: str, doc: object) -> Path:
    return _write_json(settings.refdata_dir, name, doc)


def stored_json(settings: Settings, name: str) -> list:
    return _read_json(settings.refdata_dir / name) or []


def save_misp(values: list[dict], settings: Settings) -> Path:
    return _write_json(settings.refdata_dir, MISP_FILE, values)


def save_register(rows: list[RegisterIncident], settings: Settings) -> Path:
    return _write_json(settings.refdata_dir, REGISTER_FILE, [asdict(r) for r in rows])


def rebuild_actors(settings: Settings) -> tuple[ActorCatalog, Path]:
    """Rebuild actors.json from every stored source; called after each import."""
    actors = build_from(stored_catalog(settings), stored_misp(settings), stored_register(settings),
                        _read_json(settings.refdata_dir / ATTACK_NAMES_FILE) or {})
    return actors, _write_json(settings.refdata_dir, ACTORS_FILE, actors.to_json())


def remember_attack_names(catalog: AttackCatalog, settings: Settings) -> Path:
    """Add this catalog's group names and aliases to those earlier ATT&CK imports taught."""
    known = _read_json(settings.refdata_dir / ATTACK_NAMES_FILE) or {}
    return _write_json(settings.refdata_dir, ATTACK_NAMES_FILE, attack_names(catalog, known))


def load_actors(settings: Settings | None = None) -> ActorCatalog:
    """The canonical actors of this data dir (empty when no reference data was imported)."""
    settings = settings or Settings.from_env()
    doc = _read_json(settings.refdata_dir / ACTORS_FILE)
    if doc is None:
        return build_from(stored_catalog(settings), stored_misp(settings), stored_register(settings),
                          _read_json(settings.refdata_dir / ATTACK_NAMES_FILE) or {})
    try:
        return ActorCatalog.from_json(doc)
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{settings.refdata_dir / ACTORS_FILE}: unknown format: re-run `trilateral refdata import`"
                         ) from None
