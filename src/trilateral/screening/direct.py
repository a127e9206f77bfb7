"""Direct hits, vectorised: which chain an address is on, and its labels and hub indicators.

Addresses stay in one Arrow array; only the few that hit become Python objects, so 100,000
addresses screen in well under a second.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EVM = r"^0x[0-9a-fA-F]{40}$"
_BITCOIN = r"^(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$"
_TRON = r"^T[1-9A-HJ-NP-Za-km-z]{33}$"
_FAMILIES = (("ethereum", _EVM), ("bitcoin", _BITCOIN), ("tron", _TRON))
WALLET_PATTERN = re.compile(r"cryptocurrency-wallet:address\s*=\s*'((?:[^'\\]|\\.)+)'")


def guess_chain(address: str) -> str:
    """The most likely chain of an address written alone (EVM hex -> ethereum); 'unknown' if unsure."""
    return str(guess_chains(pa.array([address.strip()]))[0])


def guess_chains(addresses: pa.Array) -> np.ndarray:
    """Per address: ethereum | bitcoin | tron | unknown (object array)."""
    out = np.full(len(addresses), "unknown", dtype=object)
    for chain, pattern in reversed(_FAMILIES):
        mask = pc.match_substring_regex(addresses, pattern).fill_null(False).to_numpy(zero_copy_only=False)
        out[mask] = chain
    return out


def normalise_array(chain: str, addresses: pa.Array) -> pa.Array:
    """Trimmed; EVM chains lower-case, Tron `T…` (as trilateral.labels stores them)."""
    from trilateral.labels.model import EVM_CHAINS, normalise_address

    trimmed = pc.utf8_trim_whitespace(addresses)
    if chain == "tron":
        return pa.array([normalise_address("tron", a) if a else a for a in trimmed.to_pylist()], type=pa.string())
    return pc.utf8_lower(trimmed) if chain in EVM_CHAINS or chain == "ethereum" else trimmed


def label_hit(label) -> dict:
    return {"source": label.source, "entity": label.entity, "programs": list(label.programs or ()),
            "category": label.category}


def dedupe(hits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for h in hits:
        key = (h["source"], h["entity"], tuple(h["programs"]), h["category"])
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def label_hits(labels, chain: str, addresses: pa.Array) -> dict[int, list[dict]]:
    """Position -> hits (sanctions first) for the addresses labelled on `chain`; others absent."""
    idx = labels.lookup_indices(chain, addresses)
    positions = np.flatnonzero(idx >= 0)
    if positions.size == 0:
        return {}
    found = labels.lookup(chain, addresses.take(pa.array(positions)))
    return {int(p): sorted_hits(labs) for p, labs in zip(positions.tolist(), found, strict=True)}


def sorted_hits(labels: list) -> list[dict]:
    """Hit dicts of one address's labels, sanctions first, duplicates dropped."""
    return dedupe([label_hit(x) for x in sorted(labels, key=lambda x: (x.category != "sanctioned", x.source))])


def hub_hits(hub_index: dict[str, list[dict]], addresses: list[str]) -> dict[int, list[dict]]:
    if not hub_index:
        return {}
    return {i: hub_index[a] for i, a in enumerate(addresses) if a in hub_index}


@dataclass
class HubIntel:
    """What the caller may read in the hub: wallet indicator hits, and the wallets it links to the DPRK."""

    hits: dict[str, list[dict]] = field(default_factory=dict)
    dprk_addresses: set[str] = field(default_factory=set)


def _wallets(pattern: str) -> list[str]:
    out = []
    for address in WALLET_PATTERN.findall(pattern):
        address = address.strip()
        out.append(address.lower() if re.match(_EVM, address) else address)
    return out


def build_hub_intel(hub, principal, dprk_names: frozenset[str] = frozenset(),
                    dprk_ids: frozenset[str] = frozenset()) -> HubIntel:
    """Wallet indicators `principal` may read; those that `indicates` a DPRK intrusion set (by STIX id,
    name or alias, or attribution wording), directly or via an incident / campaign `attributed-to`
    one, also make their wallets exposure sources."""
    from trilateral.refdata.catalog import is_dprk_text

    intel = HubIntel(defaultdict(list))
    patterns: dict[str, list[str]] = {}
    relationships: list[dict] = []
    dprk = set(dprk_ids)
    cursor = None
    while True:
        page = hub.query(principal, collection=None, types=["indicator", "relationship", "intrusion-set"],
                         cursor=cursor)
        for rec in page.records:
            obj = rec.object
            if obj["type"] == "indicator":
                patterns[obj["id"]] = _wallets(str(obj.get("pattern", "")))
                for key in patterns[obj["id"]]:
                    intel.hits[key].append({"source": f"hub:{rec.submitted_by}",
                                            "entity": obj.get("name") or obj["id"], "programs": [],
                                            "category": "indicator"})
            elif obj["type"] == "relationship":
                relationships.append(obj)
            elif any(n.casefold() in dprk_names for n in (obj.get("name", ""), *(obj.get("aliases") or ()))) \
                    or is_dprk_text(str(obj.get("description", ""))):
                dprk.add(obj["id"])
        if not page.more:
            break
        cursor = page.next_cursor
    targets = dprk | {r.get("source_ref") for r in relationships
                      if r.get("relationship_type") == "attributed-to" and r.get("target_ref") in dprk}
    for r in relationships:
        if r.get("relationship_type") == "indicates" and r.get("target_ref") in targets:
            intel.dprk_addresses.update(patterns.get(r.get("source_ref", ""), ()))
    intel.hits = dict(intel.hits)
    return intel
