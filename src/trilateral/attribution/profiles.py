"""Which canonical actors attribution scores, and with which technique profile and register history.

Pure. An actor with its own ATT&CK intrusion set is scored on that profile. An actor without one
(TraderTraitor) is scored when the register attributes incidents to it and a source links it to an
actor that has a profile: its umbrella first, else a cluster the galaxy calls similar. It borrows
that profile at `INHERITED_SHARE` (model.py) and is told apart by its register history. Every other
actor (galaxy-only names with no techniques and no incidents) is listed as not scored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from trilateral.attribution.actors import Actor, ActorCatalog, AttackGroupRecord, build_actors
from trilateral.attribution.history import (
    HistoryModel,
    IncidentFeatures,
    loss_bin,
    routes_from_roles,
    victim_index,
    victim_sector,
)
from trilateral.refdata.catalog import AttackCatalog, GroupProfile
from trilateral.refdata.register import RegisterIncident


@dataclass
class RegisterData:
    """The register rows plus what refines them (address roles -> routes, GraphSense names -> sectors)."""

    incidents: list[RegisterIncident] = field(default_factory=list)
    address_roles: list[dict] = field(default_factory=list)
    victims: list[dict] = field(default_factory=list)

    def labelled(self, actors: ActorCatalog, exclude: Iterable[str] = ()) -> list[tuple[RegisterIncident, str, IncidentFeatures]]:
        """(row, actor id, features) for every row whose cluster names an actor, minus excluded incident names."""
        skip = {e.casefold() for e in exclude}
        routes = routes_from_roles(self.address_roles)
        index = victim_index(self.victims)
        out = []
        for row in self.incidents:
            actor = actors.resolve(row.cluster)
            if actor is None or row.incident.casefold() in skip:
                continue
            r = routes.get(row.incident, set())
            out.append((row, actor.id, IncidentFeatures(
                sector=victim_sector(row.incident, index), loss=loss_bin(row.amount_usd), period=str(row.year),
                routes=frozenset(r), routes_known=bool(r))))
        return out


@dataclass
class ScoringCatalog:
    """The actors attribution ranks: one GroupProfile row per scored actor (attack_id = actor id)."""

    actors: ActorCatalog
    catalog: AttackCatalog
    inherited: dict[str, str]  # actor id -> id of the actor whose ATT&CK profile it borrows
    unscored: list[Actor]
    history: HistoryModel

    @property
    def inherited_rows(self) -> np.ndarray:
        return np.array([g.attack_id in self.inherited for g in self.catalog.groups], dtype=bool)


def actors_for(catalog: AttackCatalog, actors: ActorCatalog | None) -> ActorCatalog:
    """The given actors plus an actor for every ATT&CK group of the catalog they do not cover yet."""
    covered = {gid for a in actors or () for gid in a.attack_ids}
    missing = [g for g in catalog.groups if g.attack_id not in covered]
    if actors is not None and not missing:
        return actors
    extra = build_actors(AttackGroupRecord(g.attack_id, g.name, g.aliases, g.dprk, g.former_ids) for g in missing)
    return ActorCatalog(sorted([*(actors or ()), *extra], key=lambda a: a.id))


def build_scoring(catalog: AttackCatalog, actors: ActorCatalog | None = None,
                  register: RegisterData | None = None, exclude: Iterable[str] = ()) -> ScoringCatalog:
    """Profiles for every scoreable actor; `exclude` leaves register incidents out (evaluation, tests)."""
    actors = actors_for(catalog, actors)
    labelled = register.labelled(actors, exclude) if register else []
    history = HistoryModel.fit(((aid, f) for _row, aid, f in labelled), actors)
    by_attack = {g.attack_id: g for g in catalog.groups}

    def own(actor: Actor) -> GroupProfile | None:
        return next((by_attack[a] for a in actor.attack_ids if a in by_attack), None)

    rows: list[GroupProfile] = []
    inherited: dict[str, str] = {}
    unscored: list[Actor] = []
    for actor in actors:
        group = own(actor)
        source_actor = actor
        if group is None and history.knows(actor.id):
            links = [actors.get(actor.parent)] if actor.parent else []
            links += [actors.get(r) for r in actor.related]
            source_actor = next((a for a in links if a is not None and own(a) is not None), None)
            group = own(source_actor) if source_actor else None
            if group is not None:
                inherited[actor.id] = source_actor.id
        if group is None:
            unscored.append(actor)
            continue
        rows.append(GroupProfile(
            attack_id=actor.id, stix_id=group.stix_id if source_actor is actor else "", name=actor.name,
            aliases=actor.names, dprk=actor.dprk, techniques=group.techniques, software=group.software,
            campaigns=group.campaigns if source_actor is actor else (), former_ids=group.former_ids))
    scored = AttackCatalog(rows, catalog.techniques, catalog.software, catalog.source, catalog.spec_version,
                           catalog.attack_version)
    return ScoringCatalog(actors, scored, inherited, unscored, history)
