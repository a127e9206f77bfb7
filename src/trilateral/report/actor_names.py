"""Actors named canonically in the report, through the one actor catalogue (trilateral.attribution.actors).

"Contagious Interview" and "Contagious Interview (G1052)", or "Jade Sleet" and "TraderTraitor", are one
actor: the report counts and names them through `ActorCatalog.resolve`. Without imported reference
data, a catalogue is built from the register clusters the audience can read, so the register's own
labels still merge ("TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)" is TraderTraitor).
"""

from __future__ import annotations

from dataclasses import dataclass

from trilateral.attribution.actors import Actor, ActorCatalog, build_actors
from trilateral.report.records import Record, by_type


@dataclass(frozen=True)
class NamedActor:
    name: str                 # canonical name, or the text as given when no actor matches
    actor: Actor | None
    aliases: tuple[str, ...] = ()
    umbrella: str | None = None

    @property
    def dprk(self) -> bool:
        return self.actor is not None and self.actor.dprk

    @property
    def description(self) -> str:
        """'aka Jade Sleet, UNC4899, Slow Pisces; a unit of Lazarus Group' (empty when nothing to add)."""
        parts = []
        if self.aliases:
            parts.append("aka " + ", ".join(self.aliases[:4]))
        if self.umbrella:
            parts.append(f"a unit of {self.umbrella}")
        return "; ".join(parts)


def report_catalog(records: list[Record], catalog: ActorCatalog | None) -> ActorCatalog:
    """The imported catalogue; else one built from the readable incidents' register clusters."""
    if catalog is not None and len(catalog):
        return catalog
    clusters = [(str(r.object.get("x_trilateral_cluster") or ""), str(r.object.get("x_trilateral_suggested_group") or ""))
                for r in by_type(records).get("incident", []) if r.object.get("x_trilateral_cluster")]
    return build_actors(register_clusters=clusters)


class ActorNamer:
    """Memoised `resolve` for the thousands of incident rows of a quarter."""

    def __init__(self, catalog: ActorCatalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, NamedActor] = {}

    def __call__(self, *candidates: str | None) -> NamedActor | None:
        """The first candidate text that resolves; else the first non-empty text as given; else None."""
        texts = [str(c).strip() for c in candidates if c and str(c).strip()]
        for text in texts:
            named = self._resolve(text)
            if named.actor is not None:
                return named
        return NamedActor(texts[0], None) if texts else None

    def _resolve(self, text: str) -> NamedActor:
        named = self._cache.get(text)
        if named is None:
            actor = self.catalog.resolve(text)
            if actor is None:
                named = NamedActor(text, None)
            else:
                top = self.catalog.umbrella(actor)
                named = NamedActor(actor.name, actor, tuple(actor.aliases), top.name if top else None)
            self._cache[text] = named
        return named
