"""`refdata import` (a local ATT&CK copy) and `refdata update` (fetch ATT&CK, OFAC SDN, OpenSanctions).

Downloads go to a temporary file and are renamed only when complete, and nothing is imported until
every source has been fetched: an interrupted or offline update leaves the previous data in place.
Sanctions files are parsed by `trilateral.labels` (LabelStore.import_file), never here.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trilateral.core.errors import InputError, TrilateralError
from trilateral.core.settings import Settings
from trilateral.refdata.actor_store import (
    ADDRESSES_FILE,
    VICTIMS_FILE,
    read_misp_galaxy,
    rebuild_actors,
    remember_attack_names,
    save_json,
    save_misp,
    save_register,
)
from trilateral.refdata.attack import catalog_from_uses_csv, load_attack, uses_csv_shape
from trilateral.refdata.catalog import AttackCatalog
from trilateral.refdata.register import (
    is_address_header,
    is_graphsense_actors_header,
    is_register_header,
    read_graphsense_actors,
    read_incident_addresses,
    read_register,
)


@dataclass(frozen=True)
class Source:
    name: str
    env: str  # environment variable that overrides the URL (mirrors, tests)
    default_url: str
    filename: str
    kind: str  # attack | labels

    def url(self, env: dict[str, str] | None = None) -> str:
        return (env if env is not None else os.environ).get(self.env) or self.default_url


SOURCES = (
    Source("MITRE ATT&CK Enterprise", "TRILATERAL_ATTACK_URL",
           "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/"
           "enterprise-attack.json", "enterprise-attack.json", "attack"),
    Source("OFAC SDN (advanced XML)", "TRILATERAL_OFAC_SDN_XML_URL",
           "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_ADVANCED.XML",
           "SDN_ADVANCED.XML", "labels"),
    Source("OFAC SDN (CSV)", "TRILATERAL_OFAC_SDN_CSV_URL",
           "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV",
           "SDN.CSV", "labels"),
    Source("OpenSanctions (sanctions, FtM JSON lines, incl. CryptoWallet)", "TRILATERAL_OPENSANCTIONS_URL",
           "https://data.opensanctions.org/datasets/latest/sanctions/entities.ftm.json",
           "opensanctions-sanctions.ftm.json", "labels"),
)


class OfflineError(TrilateralError):
    """A reference-data source could not be reached."""


def import_attack(path: Path, settings: Settings | None = None) -> tuple[AttackCatalog, Path]:
    """Build profiles from a local ATT&CK bundle, directory or groups-techniques CSV and store them."""
    settings = settings or Settings.from_env()
    path = Path(path).resolve()  # the catalog names its source; absolute, so `stored_source` finds it again
    catalog = catalog_from_uses_csv(path) if path.suffix.lower() == ".csv" else load_attack(path)
    stored = catalog.save(settings.refdata_dir)
    remember_attack_names(catalog, settings)
    rebuild_actors(settings)
    return catalog, stored


def detect_kind(path: Path) -> str:
    """attack (STIX bundle or directory), attack-csv, misp-galaxy, incident-register, graphsense-actors,
    incident-addresses; a clear error for anything else."""
    path = Path(path)
    if path.is_dir():
        return "attack"
    if not path.is_file():
        raise InputError(f"{path}: no such file or directory")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        if uses_csv_shape(header):
            return "attack-csv"
        if is_register_header(header):
            return "incident-register"
        if is_address_header(header):
            return "incident-addresses"
        if is_graphsense_actors_header(header):
            return "graphsense-actors"
        raise InputError(f"{path}: unknown CSV (expected a groups-techniques CSV, the incident register, "
                         "its incident_addresses.csv or a GraphSense actors.csv); header: " + ",".join(header[:8]))
    with path.open("rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", "replace")
    if re.search(r'"values"\s*:\s*\[', head) and '"uuid"' in head and '"type": "bundle"' not in head:
        return "misp-galaxy"
    return "attack"


def import_reference(path: Path, settings: Settings | None = None) -> dict:
    """`refdata import PATH`: store one source, rebuild the actors, and say what was imported."""
    settings = settings or Settings.from_env()
    kind = detect_kind(Path(path))
    summary: dict = {"kind": kind, "path": str(path)}
    if kind in ("attack", "attack-csv"):
        catalog, stored = import_attack(path, settings)
        summary.update(groups=len(catalog.groups), dprk_groups=[g.attack_id for g in catalog.dprk_groups],
                       techniques=len(catalog.techniques), software=len(catalog.software),
                       spec_version=catalog.spec_version, stored=str(stored))
    elif kind == "misp-galaxy":
        values = read_misp_galaxy(path)
        summary.update(clusters=len(values), stored=str(save_misp(values, settings)))
    elif kind == "incident-register":
        rows = read_register(path)
        summary.update(incidents=len(rows), stored=str(save_register(rows, settings)))
    elif kind == "incident-addresses":
        rows = read_incident_addresses(path)
        summary.update(addresses=len(rows), stored=str(save_json(settings, ADDRESSES_FILE, rows)))
    else:
        victims = read_graphsense_actors(path)
        summary.update(entities=len(victims), stored=str(save_json(settings, VICTIMS_FILE, victims)))
    actors, actors_path = rebuild_actors(settings)
    summary["actors"] = {"total": len(actors), "dprk": len(actors.dprk_actors), "stored": str(actors_path)}
    return summary


def download(url: str, target: Path, progress: Callable[[int, int | None], None] | None = None,
             timeout: float = 60.0) -> Path:
    """Stream `url` to `target` atomically; OfflineError with one line when the host is unreachable."""
    import httpx

    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(target.suffix + ".part")
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=True) as r:
            if r.status_code != 200:
                raise OfflineError(f"{url} answered HTTP {r.status_code}: try again later or use "
                                   "`trilateral refdata import PATH` with a local copy")
            total = int(r.headers.get("content-length") or 0) or None
            done = 0
            with part.open("wb") as fh:
                for chunk in r.iter_bytes(1 << 20):
                    fh.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        os.replace(part, target)
    except httpx.TransportError as exc:
        part.unlink(missing_ok=True)
        raise OfflineError(f"cannot reach {url} ({type(exc).__name__}): offline? "
                           "use `trilateral refdata import PATH`") from None
    return target


def update(settings: Settings | None = None, env: dict[str, str] | None = None,
           progress_factory: Callable[[str], Callable[[int, int | None], None]] | None = None) -> dict:
    """Fetch every source, then import them all; returns what was imported (for `--json`)."""
    settings = settings or Settings.from_env()
    downloads = settings.refdata_dir / "downloads"
    fetched: list[tuple[Source, Path]] = []
    for source in SOURCES:
        progress = progress_factory(source.name) if progress_factory else None
        fetched.append((source, download(source.url(env), downloads / source.filename, progress)))
    report: dict = {"sources": []}
    ofac_date = None  # SDN.CSV carries no date: it is the same publication as the XML fetched with it
    for source, path in fetched:
        if source.kind == "attack":
            catalog, stored = import_attack(path, settings)
            report["sources"].append({"name": source.name, "url": source.url(env), "groups": len(catalog.groups),
                                      "dprk_groups": len(catalog.dprk_groups), "stored": str(stored)})
        else:
            from trilateral.labels import LabelStore

            result = LabelStore(settings).import_file(path, list_date=ofac_date if source.filename == "SDN.CSV"
                                                      else None)
            if result.format == "sdn-xml":
                ofac_date = result.list_date
            report["sources"].append({"name": source.name, "url": source.url(env), "format": result.format,
                                      "labels": result.labels, "addresses": result.addresses,
                                      "skipped": len(result.skipped), "list": result.list_name,
                                      "list_date": result.list_date, "delisted": result.delisted,
                                      "nothing_imported": result.nothing_imported})
    return report
