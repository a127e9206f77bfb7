"""Canonical threat actors: one record per actor merged from ATT&CK, the MISP galaxy and the incident register.

Pure (no I/O): `build_actors` takes already-parsed inputs; `trilateral.refdata.actor_store` reads and
writes them. Every command names an actor through `ActorCatalog.resolve`, so "Jade Sleet", "UNC4899",
"Slow Pisces" and "TraderTraitor" are one actor, and "Contagious Interview (G1052)" is Contagious
Interview. An actor may sit under an umbrella (`parent`): Lazarus Group over APT38, Andariel,
TraderTraitor and the other units the galaxy or the register place under it.

Merge rules (order matters, and is the same on every import so ids stay stable):
1. every ATT&CK intrusion set is an actor (names index before aliases, so a name wins a collision);
2. each register cluster ("TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)") resolves by its names,
   else by the register's suggested ATT&CK group; names that resolve to nothing become aliases; when
   the cluster is its own actor and the suggested group another, the suggested group is its umbrella;
3. a galaxy cluster merges into the actor its *value* (name) resolves to, else it is a new actor; its
   synonyms that name a different actor make the merged actor their umbrella (the galaxy's Lazarus
   lists Andariel, APT38, Moonstone Sleet...), `part-of` sets a parent, `similar`/`linked-to` relate.
Ids: the ATT&CK id when the actor has one (G0032), else `misp--<galaxy uuid>`, else `register--<slug>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

ACTORS_FORMAT = 1
_ATTACK_GROUP = re.compile(r"^G\d{4}$", re.IGNORECASE)
_PARENS = re.compile(r"\(([^()]*)\)")
_SPLIT = re.compile(r"\s*(?:/|,|;|\baka\b|\(|\))\s*", re.IGNORECASE)
_UNCLUSTERED = re.compile(r"^(?:unclustered|no cluster|unknown|unattributed)\b", re.IGNORECASE)


def name_key(name: str) -> str:
    """Case-, space- and punctuation-insensitive key: 'APT 38' == 'apt38', 'Subgroup: Andariel' == 'andariel'."""
    text = str(name or "").casefold().strip()
    text = re.sub(r"^subgroup\s*:\s*", "", text)
    return re.sub(r"[\W_]+", "", text)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).casefold()).strip("-") or "actor"


@dataclass(frozen=True)
class Actor:
    """One canonical actor; `aliases` never repeats `name`; `sources` say where each fact came from."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None  # ISO-3166 alpha-2 ("KP"), None when no source states one
    parent: str | None = None  # id of the umbrella actor
    attack_ids: tuple[str, ...] = ()
    misp_uuids: tuple[str, ...] = ()
    register_clusters: tuple[str, ...] = ()  # the register's cluster labels that name this actor
    related: tuple[str, ...] = ()  # ids of actors a source calls similar / linked
    sources: tuple[str, ...] = ()  # "attack:G0032", "misp:<uuid>", "register:<cluster label>"

    @property
    def dprk(self) -> bool:
        return self.country == "KP"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class ActorCatalog:
    """All actors, looked up by id or by any name, alias, ATT&CK id or register cluster label."""

    actors: list[Actor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {a.id: a for a in self.actors}
        index: dict[str, Actor] = {}
        # weakest first, so stronger keys overwrite: cluster labels < aliases < ATT&CK ids < names < ids
        for a in self.actors:
            for label in a.register_clusters:
                index.setdefault(name_key(label), a)
        for a in self.actors:
            for alias in a.aliases:
                index.setdefault(name_key(alias), a)
        for a in self.actors:
            for gid in a.attack_ids:
                index[name_key(gid)] = a
            for u in a.misp_uuids:
                index[name_key(u)] = a
        for a in self.actors:
            index[name_key(a.name)] = a
            index[name_key(a.id)] = a
        index.pop("", None)
        self._index = index

    def __len__(self) -> int:
        return len(self.actors)

    def __iter__(self):
        return iter(self.actors)

    def get(self, actor_id: str) -> Actor | None:
        return self._by_id.get(actor_id)

    def resolve(self, name_or_alias: str | None) -> Actor | None:
        """The actor a name, alias, ATT&CK id, galaxy uuid or cluster label denotes; None when unknown.

        Tries the whole text (with or without a trailing "group"), then the text without parentheses ("Contagious Interview (G1052)"),
        then what is inside them, then each part of a "A / B, C" list.
        """
        text = str(name_or_alias or "").strip()
        if not text:
            return None
        key = name_key(text)
        found = self._index.get(key) or self._index.get(key + "group") or \
            (self._index.get(key[:-5]) if key.endswith("group") and len(key) > 5 else None)
        if found is not None:  # "Lazarus" is Lazarus Group, "Kimsuky group" is Kimsuky
            return found
        outside = _PARENS.sub(" ", text).strip()
        if outside and outside != text and (found := self._index.get(name_key(outside))):
            return found
        for inside in _PARENS.findall(text):
            for part in _SPLIT.split(inside):
                if part and (found := self._index.get(name_key(part))):
                    return found
        for part in _SPLIT.split(text):
            if part and (found := self._index.get(name_key(part))):
                return found
        return None

    def canonical_name(self, name: str) -> str:
        """The canonical name of what `name` denotes, or `name` unchanged when no actor matches."""
        actor = self.resolve(name)
        return actor.name if actor else name

    def umbrella(self, actor: Actor | str) -> Actor | None:
        """The top-most parent (Lazarus Group for TraderTraitor); None for an actor under no umbrella."""
        current = self.get(actor) if isinstance(actor, str) else actor
        seen: set[str] = set()
        top = None
        while current is not None and current.parent and current.parent not in seen:
            seen.add(current.parent)
            top = self.get(current.parent)
            current = top
        return top

    def units(self, actor: Actor | str) -> list[Actor]:
        """Actors directly under this umbrella, by name."""
        aid = actor if isinstance(actor, str) else actor.id
        return sorted((a for a in self.actors if a.parent == aid), key=lambda a: a.name)

    @property
    def dprk_actors(self) -> list[Actor]:
        return [a for a in self.actors if a.dprk]

    def to_json(self) -> dict:
        return {"format": ACTORS_FORMAT, "actors": [asdict(a) for a in self.actors]}

    @classmethod
    def from_json(cls, doc: dict) -> ActorCatalog:
        if doc.get("format") != ACTORS_FORMAT:
            raise ValueError("unknown actor catalogue format")
        tuples = ("aliases", "attack_ids", "misp_uuids", "register_clusters", "related", "sources")
        return cls([Actor(**{k: tuple(v) if k in tuples else v for k, v in a.items()}) for a in doc["actors"]])


# -- building -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttackGroupRecord:
    """What the actor model needs of an ATT&CK intrusion set."""

    attack_id: str
    name: str
    aliases: tuple[str, ...] = ()
    dprk: bool = False
    former_ids: tuple[str, ...] = ()


@dataclass
class _Draft:
    name: str
    aliases: list[str] = field(default_factory=list)
    country: str | None = None
    parent: _Draft | None = None
    attack_ids: list[str] = field(default_factory=list)
    misp_uuids: list[str] = field(default_factory=list)
    register_clusters: list[str] = field(default_factory=list)
    related: list[_Draft] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add_alias(self, alias: str) -> None:
        alias = alias.strip()
        if alias and name_key(alias) not in {name_key(a) for a in (self.name, *self.aliases)}:
            self.aliases.append(alias)

    @property
    def actor_id(self) -> str:
        if self.attack_ids:
            return self.attack_ids[0]
        if self.misp_uuids:
            return f"misp--{self.misp_uuids[0]}"
        return f"register--{slug(self.name)}"


class _Builder:
    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.index: dict[str, _Draft] = {}

    def key(self, draft: _Draft, name: str, strong: bool = False) -> None:
        k = name_key(name)
        if k and (strong or k not in self.index):
            self.index[k] = draft

    def find(self, name: str) -> _Draft | None:
        return self.index.get(name_key(name)) if name_key(name) else None

    def new(self, name: str) -> _Draft:
        draft = _Draft(name)
        self.drafts.append(draft)
        self.key(draft, name)
        return draft

    def attack(self, groups: Iterable[AttackGroupRecord]) -> None:
        groups = sorted(groups, key=lambda g: g.attack_id)
        made = []
        for g in groups:
            d = self.new(g.name)
            d.attack_ids.append(g.attack_id)
            d.country = "KP" if g.dprk else None
            d.sources.append(f"attack:{g.attack_id}")
            for alias in g.aliases:
                d.add_alias(alias)
            self.key(d, g.attack_id, strong=True)
            for fid in g.former_ids:  # revoked sets' ids and names (Stolen Pencil, G0086 -> Kimsuky)
                if _ATTACK_GROUP.match(fid):
                    d.attack_ids.append(fid)
                    self.key(d, fid, strong=True)
                elif "--" not in fid:
                    d.add_alias(fid)
            made.append(d)
        for d in made:  # aliases after every name, so a group's own name always wins
            for alias in d.aliases:
                self.key(d, alias)

    def register(self, clusters: Iterable[tuple[str, str]]) -> None:
        """(cluster label, suggested ATT&CK group id or '') pairs, in register order."""
        for label, suggested in dict.fromkeys((c.strip(), (s or "").strip()) for c, s in clusters):
            if not label or _UNCLUSTERED.match(label):
                continue
            parts = [p for p in _SPLIT.split(label) if p]
            own = self.find(label) or next((d for p in parts if (d := self.find(p))), None)
            umbrella = self.find(suggested) if suggested else None
            if own is None:
                qualified = bool(parts) and parts[0].casefold().endswith(("-aligned", "-adjacent"))
                own = umbrella if umbrella is not None and qualified else self.new(parts[0] if parts else label)
            if umbrella is not None and umbrella is not own and own.parent is None:
                own.parent = umbrella
            own.country = own.country or "KP"  # the register lists DPRK thefts only
            own.register_clusters.append(label)
            own.sources.append(f"register:{label}")
            self.key(own, label)
            for p in parts:
                if self.find(p) is None and not p.casefold().endswith(("-aligned", "-adjacent")):
                    own.add_alias(p)
                    self.key(own, p)

    def misp(self, values: Iterable[dict]) -> None:
        values = [v for v in values if isinstance(v, dict) and v.get("value")]
        by_uuid: dict[str, _Draft] = {}
        for v in values:
            meta = v.get("meta") or {}
            merged = self.find(v["value"])
            d = merged or self.new(v["value"])
            by_uuid[str(v.get("uuid", ""))] = d
            if v.get("uuid"):
                d.misp_uuids.append(str(v["uuid"]))
                d.sources.append(f"misp:{v['uuid']}")
            if meta.get("country") and not d.country:
                d.country = str(meta["country"]).upper()
            d.add_alias(v["value"])
            self.key(d, v["value"])
            for syn in meta.get("synonyms") or ():
                other = self.find(syn)
                if other is None:
                    d.add_alias(syn)
                    self.key(d, syn)
                elif other is d:
                    continue
                elif merged is not None and _ATTACK_GROUP.match(syn.strip()) is None and other.parent is None \
                        and d.parent is None:
                    other.parent = d  # the galaxy files a known unit's name under d: d is its umbrella
                elif other not in d.related:
                    d.related.append(other)
        for v in values:
            d = by_uuid.get(str(v.get("uuid", "")))
            for rel in v.get("related") or ():
                target = by_uuid.get(str(rel.get("dest-uuid", "")))
                if d is None or target is None or target is d:
                    continue
                if rel.get("type") == "part-of" and d.parent is None and target.parent is not d:
                    d.parent = target
                elif target not in d.related:
                    d.related.append(target)

    def finish(self) -> ActorCatalog:
        actors = []
        for d in self.drafts:
            parent = d.parent.actor_id if d.parent is not None and d.parent is not d else None
            actors.append(Actor(
                id=d.actor_id, name=d.name,
                aliases=tuple(a for a in dict.fromkeys(d.aliases) if name_key(a) != name_key(d.name)),
                country=d.country, parent=parent, attack_ids=tuple(d.attack_ids),
                misp_uuids=tuple(d.misp_uuids), register_clusters=tuple(dict.fromkeys(d.register_clusters)),
                related=tuple(dict.fromkeys(r.actor_id for r in d.related  # umbrella links are not "related"
                                            if r is not d and r is not d.parent and r.parent is not d)),
                sources=tuple(dict.fromkeys(d.sources))))
        return ActorCatalog(sorted(actors, key=lambda a: a.id))


def build_actors(attack_groups: Iterable[AttackGroupRecord] = (), misp_values: Iterable[dict] = (),
                 register_clusters: Iterable[tuple[str, str]] = ()) -> ActorCatalog:
    """Merge the three sources into canonical actors (see the module docstring for the rules)."""
    b = _Builder()
    b.attack(attack_groups)
    b.register(register_clusters)
    b.misp(misp_values)
    return b.finish()
