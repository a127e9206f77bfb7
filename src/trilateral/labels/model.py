"""The label record, how chains and confidences are named, and the Parquet schema labels are kept in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from trilateral.core.chains import EVM_CHAINS as CORE_EVM_CHAINS
from trilateral.core.chains import normalise_address as core_normalise

# GraphSense currency codes (and OFAC/OpenSanctions ones) -> our chain names.
CURRENCY_CHAINS = {"ETH": "ethereum", "BTC": "bitcoin", "XBT": "bitcoin", "LTC": "litecoin", "BCH": "bitcoin-cash",
                   "TRX": "tron", "XMR": "monero", "ZEC": "zcash", "DASH": "dash", "ETC": "ethereum-classic",
                   "BSC": "bsc", "BEP20": "bsc", "ARB": "arbitrum", "BTG": "bitcoin-gold", "XVG": "verge",
                   "DOGE": "dogecoin", "EOS": "eos", "BEP2": "binance-chain", "BNB": "binance-chain", "SOL": "solana",
                   "BSV": "bitcoin-sv", "XRP": "xrp", "MATIC": "polygon", "POL": "polygon", "AVAX": "avalanche",
                   "OP": "optimism", "BASE": "base", "TRC20": "tron"}
CHAIN_CURRENCY = {"ethereum": "ETH", "bitcoin": "BTC", "litecoin": "LTC", "bitcoin-cash": "BCH", "tron": "TRX",
                  "monero": "XMR", "zcash": "ZEC", "dash": "DASH", "ethereum-classic": "ETC", "bsc": "BSC",
                  "arbitrum": "ARB", "dogecoin": "DOGE"}
EVM_TOKENS = {"USDT", "USDC", "DAI", "WBTC", "WETH", "BUSD", "TUSD", "PAX", "UNI", "LINK", "SHIB"}
EVM_CHAINS = {*CORE_EVM_CHAINS, "ethereum-classic"}

# Our reading of GraphSense's named confidence levels as 0..1 (documented in docs/labels.md).
CONFIDENCE_LEVELS = {"ownership": 1.0, "authority_data": 0.95, "ledger_immanent": 0.9, "forensic": 0.8,
                     "service_data": 0.75, "web_crawl": 0.5, "untrusted_transaction": 0.2}
DEFAULT_CONFIDENCE = 0.5


def chain_of(currency: str | None, address: str) -> str:
    """Chain name of a tag: by currency, with ERC-20 tickers on a 0x address read as Ethereum."""
    code = (currency or "").strip().upper()
    if code in EVM_TOKENS:  # a token names no chain: the address format does (USDT on Omni is Bitcoin's layer)
        a = address.strip()
        if a.startswith("0x"):
            return "ethereum"
        if a.startswith("T"):
            return "tron"
        if a[:1] in ("1", "3") or a.lower().startswith("bc1"):
            return "bitcoin"
        return code.lower()
    return CURRENCY_CHAINS.get(code, code.lower() or "unknown")


def normalise_address(chain: str, address: str) -> str:
    """EVM addresses compare lower-case; Tron as `T…` (hex `41…` converted); others (base58, bech32) as written."""
    address = address.strip()
    if chain == "tron":
        return core_normalise("tron", address)
    return address.lower() if chain in EVM_CHAINS or address.startswith("0x") else address


def confidence_of(value: Any) -> float:
    """A 0..1 confidence from a GraphSense level name, a 0..100 or a 0..1 number."""
    if value is None or value == "":
        return DEFAULT_CONFIDENCE
    if isinstance(value, str) and value.strip().lower() in CONFIDENCE_LEVELS:
        return CONFIDENCE_LEVELS[value.strip().lower()]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DEFAULT_CONFIDENCE
    return max(0.0, min(1.0, number / 100 if number > 1 else number))


@dataclass(slots=True, unsafe_hash=True)
class Label:
    """What is known about one address from one source (treat as read-only; slots, not frozen,
    because a frozen dataclass costs three times as much to build in a million-address look-up)."""

    address: str
    chain: str
    entity: str | None
    category: str | None
    jurisdiction: str | None
    source: str
    confidence: float
    programs: tuple[str, ...] = ()
    label: str | None = None
    actor: str | None = None
    abuse: str | None = None
    confidence_level: str | None = None
    extra: dict[str, str] | None = field(default=None, compare=False, hash=False)
    # which list said so, and when: set by the store from the import (see labels.lists / labels.versions)
    entry_id: str | None = None
    list_name: str | None = None
    list_date: str | None = None
    status: str = "listed"
    first_listed: str | None = None
    last_listed: str | None = None
    delisted_on: str | None = None
    history: tuple[tuple[str, bool], ...] = field(default=(), compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["programs"] = list(self.programs)
        d["extra"] = dict(self.extra or {})
        d["history"] = self.history_dicts()
        return d

    def history_dicts(self) -> list[dict[str, Any]]:
        """Every version of the list since the entry first appeared: was the entry on it?"""
        return [{"list_date": date, "listed": listed} for date, listed in self.history]


LABELS_SCHEMA = pa.schema([
    ("chain", pa.string()), ("address", pa.string()), ("entity", pa.string()), ("category", pa.string()),
    ("jurisdiction", pa.string()), ("source", pa.string()), ("confidence", pa.float64()),
    ("programs", pa.list_(pa.string())), ("label", pa.string()), ("actor", pa.string()), ("abuse", pa.string()),
    ("confidence_level", pa.string()), ("dataset", pa.string()),
    ("entry_id", pa.string()), ("list_name", pa.string()), ("list_date", pa.string()),
])
STORED_FIELDS = ("address", "chain", "entity", "category", "jurisdiction", "source", "confidence", "programs",
                 "label", "actor", "abuse", "confidence_level", "entry_id")


def labels_table(labels: list[Label], dataset: str, list_name: str | None = None,
                 list_date: str | None = None) -> pa.Table:
    """The stored columns of `labels`; every row carries the list and version it came from."""
    rows = [{**{k: getattr(lab, k) for k in STORED_FIELDS}, "programs": list(lab.programs), "dataset": dataset,
             "list_name": list_name or lab.list_name, "list_date": list_date or lab.list_date} for lab in labels]
    return pa.Table.from_pylist(rows, schema=LABELS_SCHEMA)


@dataclass
class ImportReport:
    """What one `labels import` stored."""

    path: str
    format: str
    dataset: str
    labels: int = 0
    addresses: int = 0
    skipped: list[str] = field(default_factory=list)
    by_chain: dict[str, int] = field(default_factory=dict)
    list_name: str | None = None
    list_date: str | None = None
    date_basis: str | None = None
    previous_version: str | None = None
    delisted: int = 0
    superseded_by: str | None = None
    nothing_imported: str | None = None  # why, when the file gave no label (then the store is unchanged)
    # ActorPacks describe actors and label no address; tags name actors (labels.actors says how they meet)
    actors: int = 0
    actor_jurisdictions: dict[str, int] = field(default_factory=dict)  # first jurisdiction -> actors
    actors_without_jurisdiction: int = 0
    tagged_addresses: int = 0  # stored tagged addresses that name one of this ActorPack's actors
    tags_naming_actors: int = 0  # tags of this TagPack with an `actor`
    undescribed_actors: list[str] = field(default_factory=list)  # actors they name that no ActorPack describes

    @property
    def ok(self) -> bool:
        return self.nothing_imported is None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "dataset": self.dataset, "labels": self.labels,
                "addresses": self.addresses, "by_chain": self.by_chain, "skipped": self.skipped[:100],
                "skipped_count": len(self.skipped), "list": self.list_name, "list_date": self.list_date,
                "list_date_basis": self.date_basis, "previous_version": self.previous_version,
                "delisted": self.delisted, "superseded_by": self.superseded_by,
                "nothing_imported": self.nothing_imported, "actors": self.actors,
                "actor_jurisdictions": self.actor_jurisdictions,
                "actors_without_jurisdiction": self.actors_without_jurisdiction,
                "tagged_addresses": self.tagged_addresses, "tags_naming_actors": self.tags_naming_actors,
                "undescribed_actors": self.undescribed_actors}

    def summary(self) -> str:
        if self.nothing_imported:
            return f"{self.path} ({self.format}): nothing imported: {self.nothing_imported}"
        if self.format == "actorpack":
            return self._actors_summary()
        chains = ", ".join(f"{c} {n:,}" for c, n in sorted(self.by_chain.items()))
        text = f"{self.path} ({self.format}): {self.labels:,} labels on {self.addresses:,} addresses ({chains})"
        if self.list_name:
            text += f"; list {self.list_name!r} version {self.list_date or 'undated'}"
            if self.date_basis:
                text += f" (date from {self.date_basis})"
        if self.previous_version:
            text += f"; supersedes {self.previous_version}: {self.delisted:,} entries no longer listed (delisted)"
        if self.superseded_by:
            text += f"; older than the stored version {self.superseded_by}, so kept as history only"
        if self.skipped:
            text += f"; {len(self.skipped)} entries skipped, first: {self.skipped[0]}"
        if self.undescribed_actors:
            named = ", ".join(self.undescribed_actors[:5]) + (", ..." if len(self.undescribed_actors) > 5 else "")
            text += (f"; {_count(len(self.undescribed_actors), 'actor')} its tags name in no imported ActorPack "
                     f"({named}): import the ActorPack describing them to give those tags a jurisdiction")
        elif self.tags_naming_actors:
            text += f"; {self.tags_naming_actors:,} tags name actors that imported ActorPacks describe"
        return text

    def _actors_summary(self) -> str:
        """An ActorPack labels no address: say what it holds and how it reaches addresses."""
        where = ", ".join(f"{j} {n:,}" for j, n in self.actor_jurisdictions.items())
        if self.actors_without_jurisdiction:
            where += f"{', ' if where else ''}none {self.actors_without_jurisdiction:,}"
        text = (f"{self.path} (actorpack): {_count(self.actors, 'actor')} (jurisdiction: {where}); an ActorPack labels "
                "no address itself: tags naming these actors (`actor:` in a TagPack) take their name, "
                "jurisdiction and category")
        if self.tagged_addresses:
            return text + f"; stored tags of {_count(self.tagged_addresses, 'address')} name them"
        return text + "; no stored tag names them yet: import the TagPack whose tags do"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}{'es' if noun.endswith('s') else 's'}"
