"""OpenSanctions FollowTheMoney JSON lines: CryptoWallet entities, their holders and sanctions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trilateral.core.errors import InputError
from trilateral.labels.countries import country_code
from trilateral.labels.model import Label, chain_of, normalise_address

SOURCE = "OpenSanctions"


def read_ftm(path: Path) -> tuple[list[Label], list[str]]:
    """Two passes over the lines: entities by id, then one label per wallet with its holder's facts."""
    entities: dict[str, dict[str, Any]] = {}
    programs: dict[str, list[str]] = {}
    skipped: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                ent = json.loads(line)
            except json.JSONDecodeError as exc:
                skipped.append(f"{path}:{line_no}: not JSON ({exc.msg})")
                continue
            if not isinstance(ent, dict) or "id" not in ent or "schema" not in ent:
                skipped.append(f"{path}:{line_no}: not a FollowTheMoney entity (no id/schema)")
                continue
            entities[ent["id"]] = ent
            if ent["schema"] == "Sanction":
                props = ent.get("properties", {})
                progs = props.get("programId") or props.get("program") or []
                for target in props.get("entity", []):
                    programs.setdefault(target, []).extend(progs)
    if not entities:
        raise InputError(f"{path}: no FollowTheMoney entities (expected JSON lines)")
    labels = []
    for ent in entities.values():
        if ent["schema"] != "CryptoWallet":
            continue
        props = ent.get("properties", {})
        holder_ids = props.get("holder", [])
        holder = entities.get(holder_ids[0]) if holder_ids else None
        hprops = (holder or {}).get("properties", {})
        topics = set(props.get("topics", [])) | set(hprops.get("topics", [])) | set(ent.get("topics", []))
        name = (hprops.get("name") or [None])[0] or (holder or {}).get("caption") or ent.get("caption")
        country = next((c for c in (country_code(x) for x in hprops.get("country", []) +
                                    hprops.get("nationality", []) + hprops.get("jurisdiction", [])) if c), None)
        progs = tuple(dict.fromkeys(programs.get(holder_ids[0], []) if holder_ids else []) or
                      dict.fromkeys(programs.get(ent["id"], [])))
        currency = (props.get("currency") or [None])[0]
        for key in props.get("publicKey", []):
            chain = chain_of(currency, key)
            sanctioned = "sanction" in topics or bool(progs)
            labels.append(Label(address=normalise_address(chain, key), chain=chain, entity=name,
                                category="sanctioned" if sanctioned else "user", jurisdiction=country, source=SOURCE,
                                confidence=0.9, programs=progs, label=name, actor=holder_ids[0] if holder_ids else None,
                                abuse="sanction" if sanctioned else None,
                                extra={"ftm_id": ent["id"], "topics": ",".join(sorted(topics))},
                                entry_id=ent["id"]))
    return labels, skipped
