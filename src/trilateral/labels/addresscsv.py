"""Address label CSVs with a header row: Etherscan-family explorer scrapes (`chain, address, name_tag,
labels`), flattened TagPacks, and OFAC SDN address rows flattened from SDN_ADVANCED.XML
(`address, asset, sdn_uid, sdn_name, programs, ...`)."""

from __future__ import annotations

import csv
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.labels.model import Label, chain_of, confidence_of, normalise_address
from trilateral.labels.ofac import SOURCE as OFAC_SOURCE

CHAIN_COLUMNS = ("chain", "currency", "asset")
LABEL_COLUMNS = ("label", "name_tag", "name", "sdn_name")
CHAIN_NAMES = {"ethereum", "bsc", "polygon", "optimism", "arbitrum", "fantom", "avalanche", "base", "celo",
               "gnosis", "bitcoin", "tron", "litecoin"}
# Etherscan label slugs -> (GraphSense category, GraphSense abuse); others stay in the label text only.
EXCHANGES = {"exchange", "upbit", "bithumb", "korbit", "coinone", "gopax", "binance", "huobi", "okx", "okex",
             "kraken", "coinbase", "kucoin", "bitfinex", "bybit", "gate-io", "crypto-com", "bitflyer", "coincheck",
             "bitbank", "ftx", "poloniex", "bittrex", "gemini", "bitstamp", "mexc", "htx"}
SLUGS = {"tornado-cash": ("mixing_service", None), "mixer": ("mixing_service", None), "bridge": ("bridge", None),
         "dex": ("defi_dex", None), "ofac-sanctions-lists": ("sanctioned", "sanction"), "blocked": ("black_list", None),
         "heist": (None, "service_hack"), "exploit": (None, "service_hack"), "phish-hack": (None, "phishing"),
         "scam": (None, "scam")}
EXPLORER_CONFIDENCE = "web_crawl"  # scraped explorer labels: GraphSense's level for crawled web data


def looks_like_address_csv(head: str) -> bool:
    """A header row with an `address` column."""
    first = head.splitlines()[0] if head else ""
    return "address" in [c.strip().lower() for c in first.split(",")]


def _slug_facts(slugs: list[str]) -> tuple[str | None, str | None]:
    category = abuse = None
    for slug in slugs:
        if slug in EXCHANGES and category is None:
            category = "exchange"
        cat, ab = SLUGS.get(slug, (None, None))
        category = category if category == "sanctioned" else (cat or category)
        abuse = abuse or ab
    return category, abuse


def read_address_csv(path: Path) -> tuple[list[Label], list[str]]:
    """One label per row; rows without an address, or whose chain cannot be told, are skipped by line."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "address" not in columns:
            raise InputError(f"{path}:1: no `address` column in the header ({', '.join(columns[:8])})")
        reader.fieldnames = columns
        sdn = "sdn_uid" in columns
        labels, skipped = [], []
        for line_no, row in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            address = row.get("address", "")
            if not address:
                skipped.append(f"{path}:{line_no}: no address")
                continue
            where = next((row[c] for c in CHAIN_COLUMNS if row.get(c)), "")
            chain = where.lower() if where.lower() in CHAIN_NAMES else chain_of(where or None, address)
            if chain == "unknown":
                skipped.append(f"{path}:{line_no}: no chain/currency for {address}")
                continue
            slugs = [s.strip() for s in (row.get("labels") or "").split("|") if s.strip()]
            text = next((row[c] for c in LABEL_COLUMNS if row.get(c)), "") or ", ".join(slugs) or None
            programs = tuple(p for p in (row.get("programs") or "").split("|") if p)
            if sdn:
                uid = row.get("sdn_uid") or None
                labels.append(Label(
                    address=normalise_address(chain, address), chain=chain, entity=row.get("sdn_name") or None,
                    category="sanctioned", jurisdiction=None, source=OFAC_SOURCE, confidence=1.0, programs=programs,
                    label=f"SDN {uid}: {row.get('sdn_name')}", abuse="sanction", entry_id=uid,
                    extra={"currency": where}))
                continue
            category, abuse = _slug_facts(slugs)
            level = row.get("confidence") or EXPLORER_CONFIDENCE
            labels.append(Label(
                address=normalise_address(chain, address), chain=chain, entity=row.get("actor") or text,
                category=row.get("category") or category, jurisdiction=None, source=row.get("source") or path.stem,
                confidence=confidence_of(level), programs=programs, label=text, actor=row.get("actor") or None,
                abuse=row.get("abuse") or abuse, confidence_level=level if not level[:1].isdigit() else None,
                entry_id=row.get("entry_id") or row.get("id") or None,
                extra={"labels": "|".join(slugs)} if slugs else None))
    return labels, skipped
