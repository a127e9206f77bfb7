"""What an incident bundle shows: ATT&CK techniques, software, wallet addresses and indicator patterns."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from trilateral.core.chains import TRON_BASE58
from trilateral.core.errors import InputError
from trilateral.refdata.attack import attack_id
from trilateral.refdata.catalog import TECHNIQUE_ID, AttackCatalog

_SOFTWARE_ID = re.compile(r"^S\d{4}$")
_WALLET = re.compile(r"cryptocurrency-wallet:address\s*=\s*'((?:[^'\\]|\\.)+)'")
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")


def guess_chain(address: str) -> str:
    """EVM hex -> ethereum, `T…` base58check -> tron, anything else -> bitcoin."""
    if _EVM.match(address):
        return "ethereum"
    return "tron" if TRON_BASE58.match(address) else "bitcoin"


def normalise_address(address: str) -> str:
    return address.lower() if _EVM.match(address) else address


@dataclass
class Observation:
    """The evidence attribution reads from one incident bundle."""

    techniques: set[str] = field(default_factory=set)
    software: set[str] = field(default_factory=set)
    addresses: set[tuple[str, str]] = field(default_factory=set)  # (chain, address)
    patterns: set[str] = field(default_factory=set)  # every indicator pattern, for overlap with the hub
    incident: dict | None = None
    unknown: list[str] = field(default_factory=list)  # names we could not map to ATT&CK


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def read_bundle(path: Path, max_bytes: int = 64 * 1024 * 1024) -> list[dict]:
    """Objects of a STIX bundle (or TAXII envelope) file; a clear error for anything else."""
    path = Path(path)
    try:
        if path.stat().st_size > max_bytes:
            raise InputError(f"{path}: larger than {max_bytes} bytes (TRILATERAL_MAX_BUNDLE_BYTES)")
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):
        return [o for o in doc["objects"] if isinstance(o, dict)]
    if isinstance(doc, dict) and "type" in doc:
        return [doc]
    raise InputError(f"{path}: not a STIX bundle (expected {{\"type\": \"bundle\", \"objects\": [...]}})")


def observe(objects: list[dict], catalog: AttackCatalog) -> Observation:
    """Map the bundle's objects onto ATT&CK ids; names are matched case-insensitively, ids exactly."""
    obs = Observation()
    tech_by_stix = catalog.technique_by_stix_id()
    tech_by_name = {t.name.casefold(): t.attack_id for t in catalog.techniques.values()}
    soft_by_key = catalog.software_by_name()

    def add_id(value: str) -> None:
        if TECHNIQUE_ID.fullmatch(value):
            obs.techniques.add(value)
        elif _SOFTWARE_ID.match(value):
            obs.software.add(value)

    for o in objects:
        kind = o.get("type")
        aid = attack_id(o)
        if kind == "incident" and obs.incident is None:
            obs.incident = o
        if kind == "attack-pattern":
            tid = aid or tech_by_stix.get(o.get("id", "")) or tech_by_name.get(str(o.get("name", "")).casefold())
            if tid:
                obs.techniques.add(tid)
            else:
                obs.unknown.append(f"attack-pattern {o.get('name') or o.get('id')}")
        elif kind in ("malware", "tool"):
            keys = [aid or "", o.get("id", ""), *_strings(o.get("name")), *_strings(o.get("aliases")),
                    *_strings(o.get("x_mitre_aliases"))]
            sid = next((soft_by_key[k.casefold()] for k in keys if k and k.casefold() in soft_by_key), None)
            if sid:
                obs.software.add(sid)
            else:
                obs.unknown.append(f"{kind} {o.get('name') or o.get('id')}")
        elif kind == "indicator":
            pattern = str(o.get("pattern", ""))
            obs.patterns.add(" ".join(pattern.split()))
            for address in _WALLET.findall(pattern):
                obs.addresses.add((guess_chain(address), normalise_address(address)))
        elif kind == "cryptocurrency-wallet" and isinstance(o.get("address"), str):
            obs.addresses.add((guess_chain(o["address"]), normalise_address(o["address"])))
        elif kind == "relationship":
            for ref in (o.get("source_ref", ""), o.get("target_ref", "")):
                if ref in tech_by_stix:
                    obs.techniques.add(tech_by_stix[ref])
                elif ref.split("--")[0] in ("malware", "tool") and ref.casefold() in soft_by_key:
                    obs.software.add(soft_by_key[ref.casefold()])
        # technique ids carried elsewhere: labels ("attack.t1059.001" or "T1059"), x_mitre_* lists,
        # and mitre-attack external references of any object (an incident, a note, a report)
        if kind not in ("attack-pattern", "malware", "tool") and aid:
            add_id(aid)
        for key, value in o.items():
            if key == "labels" or key.startswith("x_mitre") or key.startswith("x_trilateral_techniques"):
                for s in _strings(value):
                    for m in TECHNIQUE_ID.findall(s.upper()):
                        obs.techniques.add(m)
    return obs
