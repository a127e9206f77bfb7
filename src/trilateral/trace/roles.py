"""Address roles from labels, and inferred exchange deposit addresses (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from trilateral.trace.model import OFFRAMP_CATEGORIES, Role

DEX_CATEGORIES = frozenset({"defi_dex", "dex"})
MIXER_CATEGORIES = frozenset({"mixing_service", "mixer"})
BRIDGE_CATEGORIES = frozenset({"bridge", "defi_bridge"})
THIEF_CATEGORIES = frozenset({"hacker", "hack", "heist", "exploit", "theft", "scam", "phish-hack", "phishing",
                              "ransomware", "sanctioned", "perpetrator"})
DEPOSIT_CONFIDENCE = 0.9  # an inferred deposit address is that exchange's with this confidence
DEPOSIT_WINDOW = 3 * 86_400  # "forwards within a short time": first sweep within 3 days of receipt


class LabelSource(Protocol):
    def lookup(self, chain: str, addresses: Sequence[str]) -> list[list[Any]]: ...


class StaticLabels:
    """Labels given as a dict {(chain, address): [(category, entity, jurisdiction)]} (tests, benches)."""

    def __init__(self, entries: dict[tuple[str, str], list[tuple[str, str | None, str | None]]]) -> None:
        self.entries = {(c, a.lower() if a.startswith("0x") else a): v for (c, a), v in entries.items()}

    def lookup(self, chain: str, addresses: Sequence[str]) -> list[list[Any]]:
        from types import SimpleNamespace

        out = []
        for a in addresses:
            key = (chain, a.lower() if a.startswith("0x") else a)
            out.append([SimpleNamespace(category=c, entity=e, jurisdiction=j, confidence=1.0)
                        for c, e, j in self.entries.get(key, [])])
        return out


def is_thief_label(label: Any) -> bool:
    """A label that says the address belongs to a thief (or a sanctioned actor), not a service."""
    words = {(getattr(label, k, None) or "").lower() for k in ("category", "abuse")}
    actor = (getattr(label, "actor", None) or "").lower()
    return bool(words & THIEF_CATEGORIES) or "lazarus" in actor


def role_from_labels(labels: Sequence[Any]) -> Role | None:
    """The role the best label gives an address; off-ramps win over laundering services."""
    best: tuple[int, float, Role] | None = None
    for label in labels:
        category = (getattr(label, "category", None) or "").lower()
        conf = float(getattr(label, "confidence", 1.0) or 1.0)
        if category in OFFRAMP_CATEGORIES:
            rank, kind = 4, "exchange"
        elif category in MIXER_CATEGORIES:
            rank, kind = 3, "mixer"
        elif category in BRIDGE_CATEGORIES:
            rank, kind = 2, "bridge"
        elif category in DEX_CATEGORIES:
            rank, kind = 1, "dex"
        else:
            continue
        role = Role(kind, getattr(label, "entity", None), category, getattr(label, "jurisdiction", None),
                    min(max(conf, 0.0), 1.0) if kind == "exchange" else 1.0)
        if best is None or (rank, conf) > best[:2]:
            best = (rank, conf, role)
    return best[2] if best else None


def infer_deposit_addresses(outflows: dict[int, list[tuple[int, int, int]]], first_in: dict[int, int],
                            roles: dict[int, Role], exclude: set[int], texts: dict[int, str]
                            ) -> dict[int, Role]:
    """Unlabelled addresses that send everything they send to one exchange's labelled addresses,
    the first time within DEPOSIT_WINDOW of first receiving: that exchange's deposit addresses.

    outflows: address -> [(time, to_id, amount)] with amount > 0; first_in: address -> first receipt."""
    found: dict[int, Role] = {}
    for address, sends in outflows.items():
        if address in roles or address in exclude or not sends:
            continue
        targets = [roles.get(to) for _, to, _ in sends]
        if any(t is None or t.kind != "exchange" for t in targets):
            continue
        entities = {t.entity for t in targets if t is not None}
        if len(entities) != 1:
            continue
        first_send = min(ts for ts, _, _ in sends)
        received = first_in.get(address)
        if received is None or first_send - received > DEPOSIT_WINDOW:
            continue
        hot = targets[0]
        assert hot is not None
        found[address] = Role("deposit", hot.entity, hot.category, hot.jurisdiction,
                              DEPOSIT_CONFIDENCE * hot.confidence, texts.get(sends[0][1]))
    return found
