"""GraphSense TagPack and ActorPack YAML: read into labels/actors, and write labels back as a TagPack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from trilateral.core.errors import InputError
from trilateral.labels.model import (
    CHAIN_CURRENCY,
    CONFIDENCE_LEVELS,
    Label,
    chain_of,
    confidence_of,
    normalise_address,
)

TAG_FIELDS = ("address", "currency", "label", "category", "abuse", "actor", "source", "confidence", "context",
              "is_cluster_definer", "lastmod")
HEADER_FIELDS = ("title", "creator", "description", "is_public", "lastmod", "label", "currency", "category",
                 "abuse", "actor", "source", "confidence", "context")


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise InputError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a TagPack/ActorPack is a YAML mapping with `tags:` or `actors:`")
    return doc


def read_tagpack(path: Path, doc: dict[str, Any]) -> tuple[list[Label], list[str]]:
    """Tags inherit every header field they do not set themselves (TagPack semantics)."""
    header = {k: v for k, v in doc.items() if k != "tags"}
    labels, skipped = [], []
    for i, tag in enumerate(doc.get("tags") or []):
        if not isinstance(tag, dict) or not tag.get("address"):
            skipped.append(f"{path}: tags[{i}] has no address")
            continue
        t = {**{k: header.get(k) for k in HEADER_FIELDS if k in header}, **tag}
        address = str(t["address"])
        chain = chain_of(t.get("currency"), address)
        level = t.get("confidence")
        labels.append(Label(
            address=normalise_address(chain, address), chain=chain, entity=t.get("actor") or t.get("label"),
            category=t.get("category"), jurisdiction=None, source=str(t.get("source") or header.get("title") or path.name),
            confidence=confidence_of(level), programs=(), label=t.get("label"), actor=t.get("actor"),
            abuse=t.get("abuse"), confidence_level=str(level) if isinstance(level, str) else None))
    return labels, skipped


def read_actorpack(path: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """ActorPack `actors:` as rows: id, label, uri, categories, jurisdictions (ISO alpha-2)."""
    rows = []
    for i, actor in enumerate(doc.get("actors") or []):
        if not isinstance(actor, dict) or not actor.get("id"):
            raise InputError(f"{path}: actors[{i}] has no id")
        rows.append({"id": str(actor["id"]), "label": actor.get("label"), "uri": actor.get("uri"),
                     "categories": [str(c) for c in actor.get("categories") or []],
                     "jurisdictions": [str(j).upper() for j in actor.get("jurisdictions") or []]})
    return rows


def _level_of(confidence: float, level: str | None) -> str:
    if level:
        return level
    return min(CONFIDENCE_LEVELS, key=lambda k: abs(CONFIDENCE_LEVELS[k] - confidence))


def write_tagpack(path: Path, labels: list[dict[str, Any]], *, title: str = "Trilateral label export",
                  creator: str = "trilateral") -> int:
    """Write label rows as one TagPack (confidence as a GraphSense level name)."""
    tags = []
    for row in labels:
        tag = {"address": row["address"], "currency": CHAIN_CURRENCY.get(row["chain"], row["chain"].upper()),
               "label": row.get("label") or row.get("entity") or "", "source": row["source"],
               "confidence": _level_of(row["confidence"], row.get("confidence_level"))}
        for key in ("category", "abuse", "actor"):
            if row.get(key):
                tag[key] = row[key]
        if row.get("programs"):
            tag["context"] = yaml.safe_dump({"programs": list(row["programs"])}, default_flow_style=True).strip()
        tags.append(tag)
    doc = {"title": title, "creator": creator, "description": "Exported from the Trilateral label store",
           "is_public": False, "tags": tags}
    tmp = path.with_name(path.name + ".tmp")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    tmp.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True))
    tmp.replace(path)
    return len(tags)
