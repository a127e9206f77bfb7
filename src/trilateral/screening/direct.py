"""Direct hits, vectorised: which chain an address is on, and its labels and hub indicators.

Addresses stay in one Arrow array; only the few that hit become Python objects, so 100,000
addresses screen in well under a second.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EVM = r"^0x[0-9a-fA-F]{40}$"
_BITCOIN = r"^(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$"
_TRON = r"^T[1-9A-HJ-NP-Za-km-z]{33}$"
_FAMILIES = (("ethereum", _EVM), ("bitcoin", _BITCOIN), ("tron", _TRON))


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
    """What an analyst needs to audit a hit: the label as the list wrote it, how sure, which list and
    entry, which version, and whether the newest version still lists it (labels.versions)."""
    return {"source": label.source, "entity": label.entity, "programs": list(label.programs or ()),
            "category": label.category, "label": label.label, "confidence": label.confidence,
            "list": label.list_name, "entry_id": label.entry_id, "list_date": label.list_date,
            "abuse": label.abuse, "status": label.status, "first_listed": label.first_listed,
            "last_listed": label.last_listed, "delisted_on": label.delisted_on,
            "history": label.history_dicts()}


def indicator_hit(submitter: str, obj: dict) -> dict:
    """A hub wallet indicator as a hit of the same shape: the hub is the list, the indicator the entry."""
    return {"source": f"hub:{submitter}", "entity": obj.get("name") or obj["id"], "programs": [],
            "category": "indicator", "label": obj.get("name") or obj.get("description"),
            "confidence": obj.get("confidence") / 100 if isinstance(obj.get("confidence"), int) else None,
            "list": f"hub:{submitter}", "entry_id": obj["id"], "list_date": str(obj.get("modified") or "")[:10] or None,
            "abuse": None, "status": "revoked" if obj.get("revoked") else "listed",
            "first_listed": str(obj.get("created") or "")[:10] or None, "last_listed": None, "delisted_on": None,
            "history": []}


def dedupe(hits: list[dict]) -> list[dict]:
    """One hit per list entry: the same entry met again (another chain, another path) is dropped."""
    seen, out = set(), []
    for h in hits:
        key = (h["source"], h.get("list"), h.get("entry_id") or h.get("label"), h["entity"], tuple(h["programs"]),
               h["category"], h.get("status"))
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
    """Hit dicts of one address's labels, listed sanctions first, delisted entries after listed ones,
    duplicates dropped."""
    return dedupe([label_hit(x) for x in sorted(labels, key=lambda x: (x.status != "listed",
                                                                       x.category != "sanctioned", x.source))])


class HubIntel:
    """What the caller may read in the hub, looked up on demand through the hub's indexes
    (trilateral.hub.lookups): indicator hits for the addresses screened, and the wallets the caller's
    intel links to the DPRK (exposure sources, computed only when exposure needs them).

    Without a hub (`HubIntel()`) there is no hub intel: no hits, no extra sources.
    """

    def __init__(self, hub=None, principal=None, dprk_names: frozenset[str] = frozenset(),
                 dprk_ids: frozenset[str] = frozenset()) -> None:
        self.hub, self.principal = hub, principal
        self.dprk_names, self.dprk_ids = dprk_names, dprk_ids
        self._dprk_addresses: set[str] | None = None

    def hits_for(self, addresses: list[str]) -> dict[int, list[dict]]:
        """Position -> hub indicator hits for the addresses the caller may read an indicator about."""
        if self.hub is None or not addresses:
            return {}
        from trilateral.hub.lookups import indicators_naming
        from trilateral.hub.observables import normalise

        keys = [normalise("wallet", a) for a in addresses]
        found = indicators_naming(self.hub, self.principal, "wallet", [k for k in keys if k is not None])
        hits = {value: [indicator_hit(rec.submitted_by, rec.object) for rec in records]
                for value, records in found.items()}
        return {i: hits[k] for i, k in enumerate(keys) if k in hits}

    @property
    def dprk_addresses(self) -> set[str]:
        if self._dprk_addresses is None:
            self._dprk_addresses = set() if self.hub is None else dprk_linked_wallets(
                self.hub, self.principal, self.dprk_names, self.dprk_ids)
        return self._dprk_addresses


def dprk_linked_wallets(hub, principal, dprk_names: frozenset[str], dprk_ids: frozenset[str]) -> set[str]:
    """Wallets of readable indicators that `indicates` a DPRK intrusion set (by STIX id, name or
    alias, or attribution wording), directly or via an incident / campaign `attributed-to` one."""
    from trilateral.hub.lookups import readable_of_type, relationships_to, wallets_of_indicators
    from trilateral.refdata.catalog import is_dprk_text

    dprk = set(dprk_ids)
    for rec in readable_of_type(hub, principal, "intrusion-set"):
        obj = rec.object
        if any(str(n).casefold() in dprk_names for n in (obj.get("name", ""), *(obj.get("aliases") or ()))) \
                or is_dprk_text(str(obj.get("description", ""))):
            dprk.add(obj["id"])
    if not dprk:
        return set()
    targets = dprk | {r.get("source_ref") for r in relationships_to(hub, principal, dprk, "attributed-to")}
    indicators = {r.get("source_ref") for r in relationships_to(hub, principal, targets, "indicates")}
    return wallets_of_indicators(hub, principal, indicators)


def build_hub_intel(hub, principal, dprk_names: frozenset[str] = frozenset(),
                    dprk_ids: frozenset[str] = frozenset()) -> HubIntel:
    """The caller's hub intel for one screening call (look-ups happen when the screen asks)."""
    return HubIntel(hub, principal, dprk_names, dprk_ids)
