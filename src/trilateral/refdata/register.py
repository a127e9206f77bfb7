"""The DPRK incident register (incidents.csv: date, incident, amount, cluster) as typed rows.

The cluster is the register's attribution ("TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)");
`suggested_attack_group` the ATT&CK group the import mapped it to (an umbrella for TraderTraitor).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.refdata.csvfile import csv_reader

REGISTER_COLUMNS = ("date", "incident", "amount_stolen_usd", "cluster")


@dataclass(frozen=True)
class RegisterIncident:
    date: str  # YYYY-MM-DD
    incident: str
    amount_usd: int | None  # whole dollars; None when published as unknown
    cluster: str
    suggested_attack_group: str = ""
    source_page: str = ""

    @property
    def year(self) -> int:
        return int(self.date[:4])


def is_register_header(header: list[str]) -> bool:
    return all(c in header for c in REGISTER_COLUMNS)


def read_register(path: Path) -> list[RegisterIncident]:
    """Every row, or one InputError naming the file and line of the first bad row."""
    rows: list[RegisterIncident] = []
    with csv_reader(path) as reader:
        if not is_register_header(reader.fieldnames or []):
            raise InputError(f"{path}: not an incident register (needs columns {', '.join(REGISTER_COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            amount = (row.get("amount_stolen_usd") or "").strip()
            date = (row.get("date") or "").strip()
            if len(date) < 10 or not date[:4].isdigit():
                raise InputError(f"{path}:{line}: date {date!r} is not YYYY-MM-DD")
            if amount and not amount.isdigit():
                raise InputError(f"{path}:{line}: amount_stolen_usd {amount!r} is not a whole number of dollars")
            rows.append(RegisterIncident(date[:10], (row.get("incident") or "").strip(),
                                         int(amount) if amount else None, (row.get("cluster") or "").strip(),
                                         (row.get("suggested_attack_group") or "").strip(),
                                         (row.get("source_page") or "").strip()))
    if not rows:
        raise InputError(f"{path}: the register has no rows")
    return rows


ADDRESS_COLUMNS = ("incident", "chain", "address", "role_as_published", "role_class")
GRAPHSENSE_ACTOR_COLUMNS = ("actor_id", "label", "categories")


def is_address_header(header: list[str]) -> bool:
    return all(c in header for c in ADDRESS_COLUMNS)


def is_graphsense_actors_header(header: list[str]) -> bool:
    return all(c in header for c in GRAPHSENSE_ACTOR_COLUMNS)


def _read_rows(path: Path, columns: tuple[str, ...], what: str) -> list[dict]:
    with csv_reader(path) as reader:
        if not all(c in (reader.fieldnames or []) for c in columns):
            raise InputError(f"{path}: not {what} (needs columns {', '.join(columns)})")
        rows = [{c: (row.get(c) or "").strip() for c in columns} for row in reader]
    if not rows:
        raise InputError(f"{path}: {what} has no rows")
    return rows


def read_incident_addresses(path: Path) -> list[dict]:
    """The register's per-incident address roles (incident_addresses.csv): where laundering routes come from."""
    return _read_rows(path, ADDRESS_COLUMNS, "an incident address list")


def read_graphsense_actors(path: Path) -> list[dict]:
    """GraphSense ActorPack rows (label, categories): the victim sector of register incidents by name."""
    return _read_rows(path, GRAPHSENSE_ACTOR_COLUMNS, "a GraphSense actors.csv")
