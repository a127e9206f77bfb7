"""ActorPack actors in the label store, and how they meet tags: an ActorPack labels no address itself.

GraphSense ActorPacks describe actors (an exchange, a mixer: name, categories, jurisdictions); tags of
TagPacks name an actor in their `actor:` field and take its facts at look-up time. An import of
either side therefore reports how the two meet, so that "11 actors, no address" is not mistaken
for a failed import, and a TagPack naming actors nobody described is noticed.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trilateral.labels.model import ImportReport, Label

ACTORS_SCHEMA = pa.schema([("id", pa.string()), ("label", pa.string()), ("uri", pa.string()),
                           ("categories", pa.list_(pa.string())), ("jurisdictions", pa.list_(pa.string())),
                           ("dataset", pa.string())])


def write_actors(actors: list[dict[str, Any]], report: ImportReport, target: Path) -> None:
    """Store the ActorPack's actors (replacing an earlier import of the same file) and fill the report:
    how many actors, their jurisdictions, and how many stored tagged addresses name them now."""
    table = pa.Table.from_pylist([{**a, "dataset": report.dataset} for a in actors], schema=ACTORS_SCHEMA)
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    report.actors = len(actors)
    report.actor_jurisdictions = dict(sorted(Counter(j for a in actors for j in a["jurisdictions"][:1]).items()))
    report.actors_without_jurisdiction = sum(1 for a in actors if not a["jurisdictions"])
    report.tagged_addresses = tagged_addresses(target.parent, {a["id"] for a in actors})


def stored_actor_ids(root: Path) -> set[str]:
    """Ids of every actor an imported ActorPack describes."""
    files = sorted(root.glob("actors-*.parquet")) if root.is_dir() else []
    return {i for f in files for i in pq.read_table(f, columns=["id"]).column("id").to_pylist() if i}


def tagged_addresses(root: Path, ids: set[str]) -> int:
    """Distinct (chain, address) of stored tags whose `actor` is one of `ids`."""
    files = sorted(root.glob("labels-*.parquet"))
    if not ids or not files:
        return 0
    value_set = pa.array(sorted(ids), pa.string())
    keys: set[tuple[str, str]] = set()
    for f in files:
        if "actor" not in pq.read_schema(f).names:
            continue
        t = pq.read_table(f, columns=["chain", "address", "actor"])
        t = t.filter(pc.is_in(t.column("actor"), value_set=value_set))
        keys.update(zip(t.column("chain").to_pylist(), t.column("address").to_pylist(), strict=True))
    return len(keys)


def note_tag_actors(labels: list[Label], report: ImportReport, root: Path) -> None:
    """For a TagPack: how many of its tags name an actor, and which named actors no ActorPack describes
    (those tags get no jurisdiction until one is imported)."""
    named = {lab.actor for lab in labels if lab.actor}
    report.tags_naming_actors = sum(1 for lab in labels if lab.actor)
    report.undescribed_actors = sorted(named - stored_actor_ids(root)) if named else []
