"""The processed ATT&CK catalog: group profiles, techniques and software, stored as one JSON file.

Attribution and screening read this instead of the 40 MB STIX bundle, so loading takes milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings

CATALOG_FILE = "attack_catalog.json"
CATALOG_FORMAT = 1

# Intrusion sets ATT&CK itself describes as North Korean (checked against v18.1); the loader also finds
# any other set whose text attributes it to North Korea, so new ATT&CK releases need no code change.
KNOWN_DPRK_GROUPS = frozenset({"G0032", "G0082", "G0138", "G0094", "G0067", "G1036", "G1049", "G1052"})

# Attribution wording, not mere mention: "targeted organisations in North Korea" (Higaisa) must not match.
_DPRK_TEXT = re.compile(
    r"North Korean|North Korea[- ](?:based|linked|nexus|sponsored|attributed|aligned)|"
    r"\bDPRK\b|Democratic People's Republic of Korea|attributed to North Korea|Reconnaissance General Bureau",
    re.IGNORECASE,
)

TECHNIQUE_ID = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")


def is_dprk_text(*texts: str) -> bool:
    """True when any text attributes the actor to North Korea."""
    return any(_DPRK_TEXT.search(t or "") for t in texts)


def parent_technique(technique_id: str) -> str:
    """T1059.001 -> T1059; a parent is its own parent."""
    return technique_id.split(".", 1)[0]


@dataclass(frozen=True)
class GroupProfile:
    """One ATT&CK intrusion set as attribution sees it."""

    attack_id: str
    stix_id: str
    name: str
    aliases: tuple[str, ...]
    dprk: bool
    techniques: tuple[str, ...]
    software: tuple[str, ...]
    campaigns: tuple[str, ...] = ()
    former_ids: tuple[str, ...] = ()  # revoked sets (and their STIX ids) that now point here

    @property
    def url(self) -> str:
        return f"https://attack.mitre.org/groups/{self.attack_id}"


@dataclass(frozen=True)
class TechniqueInfo:
    attack_id: str
    name: str
    stix_id: str = ""


@dataclass(frozen=True)
class SoftwareInfo:
    attack_id: str
    name: str
    kind: str  # malware | tool
    aliases: tuple[str, ...] = ()
    stix_id: str = ""


@dataclass
class AttackCatalog:
    """Every non-revoked intrusion set with its techniques and software, plus look-up tables."""

    groups: list[GroupProfile]
    techniques: dict[str, TechniqueInfo] = field(default_factory=dict)
    software: dict[str, SoftwareInfo] = field(default_factory=dict)
    source: str = ""
    spec_version: str = ""
    attack_version: str = ""

    def group(self, key: str) -> GroupProfile:
        """By ATT&CK id, STIX id (also of a revoked set), name or alias, case-insensitive."""
        found = self._group_index().get(key.casefold())
        if found is None:
            raise InputError(f"no intrusion set {key!r} in the ATT&CK catalog ({self.source})")
        return found

    def find_group(self, key: str) -> GroupProfile | None:
        return self._group_index().get(key.casefold())

    def _group_index(self) -> dict[str, GroupProfile]:
        index = getattr(self, "_gidx", None)
        if index is None:
            index = {}
            for g in self.groups:
                for k in (*g.aliases, g.name, *g.former_ids, g.stix_id, g.attack_id):
                    if k:
                        index[k.casefold()] = g
            self._gidx = index
        return index

    def software_by_name(self) -> dict[str, str]:
        """casefolded name / alias / STIX id -> software ATT&CK id."""
        index: dict[str, str] = {}
        for s in self.software.values():
            for k in (*s.aliases, s.name, s.stix_id, s.attack_id):
                if k:
                    index[k.casefold()] = s.attack_id
        return index

    def technique_by_stix_id(self) -> dict[str, str]:
        return {t.stix_id: t.attack_id for t in self.techniques.values() if t.stix_id}

    @property
    def dprk_groups(self) -> list[GroupProfile]:
        return [g for g in self.groups if g.dprk]

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "format": CATALOG_FORMAT,
            "source": self.source,
            "spec_version": self.spec_version,
            "attack_version": self.attack_version,
            "groups": [asdict(g) for g in self.groups],
            "techniques": [asdict(t) for t in self.techniques.values()],
            "software": [asdict(s) for s in self.software.values()],
        }

    @classmethod
    def from_json(cls, doc: dict) -> AttackCatalog:
        if doc.get("format") != CATALOG_FORMAT:
            raise InputError("the stored ATT&CK catalog has an unknown format: run `trilateral refdata import PATH`")
        tup = ("aliases", "techniques", "software", "campaigns", "former_ids")
        groups = [GroupProfile(**{k: tuple(v) if k in tup else v for k, v in g.items()}) for g in doc["groups"]]
        techniques = {t["attack_id"]: TechniqueInfo(**t) for t in doc["techniques"]}
        software = {s["attack_id"]: SoftwareInfo(**{**s, "aliases": tuple(s["aliases"])}) for s in doc["software"]}
        return cls(groups, techniques, software, doc.get("source", ""), doc.get("spec_version", ""),
                   doc.get("attack_version", ""))

    def save(self, refdata_dir: Path) -> Path:
        """Write atomically: a failed import leaves the previous catalog in place."""
        refdata_dir.mkdir(parents=True, exist_ok=True)
        target = refdata_dir / CATALOG_FILE
        fd, tmp = tempfile.mkstemp(dir=refdata_dir, prefix=".catalog-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_json(), fh, separators=(",", ":"))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target


def load_catalog(settings: Settings | None = None) -> AttackCatalog:
    """The catalog imported into this data dir; a clear error when none was imported yet."""
    settings = settings or Settings.from_env()
    path = settings.refdata_dir / CATALOG_FILE
    if not path.is_file():
        raise InputError(
            f"no ATT&CK reference data in {settings.refdata_dir}: run `trilateral refdata import PATH` "
            "(enterprise-attack.json) or `trilateral refdata update`"
        )
    with path.open(encoding="utf-8") as fh:
        return AttackCatalog.from_json(json.load(fh))


def stored_source(settings: Settings | None = None) -> Path | None:
    """The ATT&CK file or directory this data dir's catalog was built from (`refdata update` keeps its
    download under refdata/downloads/), when it still exists; None without a catalog or source."""
    settings = settings or Settings.from_env()
    path = settings.refdata_dir / CATALOG_FILE
    if not path.is_file():
        return None
    try:
        with path.open(encoding="utf-8") as fh:
            source = json.load(fh).get("source") or ""
    except (OSError, ValueError, AttributeError):
        return None
    found = Path(source) if source else None
    return found if found is not None and found.is_absolute() and found.exists() else None

