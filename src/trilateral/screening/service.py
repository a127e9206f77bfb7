"""Screen addresses: direct hits (sanctions and other labels, hub indicators) and indirect exposure.

Output per address, exactly: {"address", "chain", "hits": [hit], "exposure": float}, a hit being
screening.direct.label_hit (what the list wrote, its confidence, list, entry, version and status). Labels come only from trilateral.labels; hub intel only through Hub.query with the
caller's principal (so the TLP policy decides what the caller sees); chain data only from ChainStore.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from trilateral.core.chains import CHAINS, EVM_CHAINS
from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.screening import MAX_HOPS
from trilateral.screening.direct import (
    HubIntel,
    build_hub_intel,
    dedupe,
    guess_chains,
    label_hits,
    normalise_array,
    sorted_hits,
)
from trilateral.screening.exposure import account_exposure, max_ratio, utxo_exposure

SMALL_BATCH = 1_000


def read_address_file(path: Path) -> list[str]:
    """One address a line; blank lines and '#' comments skipped; a CSV's first column is taken."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    out = []
    for line in text.splitlines():
        value = line.split(",", 1)[0].strip()
        if value and not value.startswith("#") and value.lower() != "address":
            out.append(value)
    return out


# Used when no ATT&CK data is imported: the names under which DPRK units appear on labels.
FALLBACK_DPRK_NAMES = frozenset({"lazarus group", "lazarus", "apt38", "bluenoroff", "andariel", "kimsuky",
                                 "apt37", "hidden cobra"})


def dprk_actor_refs(settings: Settings) -> tuple[frozenset[str], frozenset[str]]:
    """(casefolded names and aliases, STIX ids) of the DPRK intrusion sets in this data dir's catalog."""
    from trilateral.refdata.catalog import load_catalog

    try:
        catalog = load_catalog(settings)
    except InputError:
        return FALLBACK_DPRK_NAMES, frozenset()
    names = frozenset(a.casefold() for g in catalog.dprk_groups for a in (g.name, *g.aliases))
    return names, frozenset(g.stix_id for g in catalog.dprk_groups if g.stix_id)


def is_exposure_source(label, dprk_names: frozenset[str] = FALLBACK_DPRK_NAMES) -> bool:
    """Sanctioned, or attributed to the DPRK (a DPRK programme, or a label/entity naming a DPRK actor)."""
    from trilateral.refdata.catalog import is_dprk_text

    if label.category == "sanctioned" or any(str(p).upper().startswith("DPRK") for p in (label.programs or ())):
        return True
    entity = (label.entity or "").casefold()
    return entity in dprk_names or (label.actor or "").casefold() in dprk_names or \
        is_dprk_text(label.entity or "", label.label or "")


def known_chain(name: str) -> str:
    """`name` as labels store it; a typo ("etherium") would otherwise screen every address as clean."""
    from trilateral.labels.addresscsv import CHAIN_NAMES
    from trilateral.labels.model import CURRENCY_CHAINS

    known = {*CHAINS, *CURRENCY_CHAINS.values(), *CHAIN_NAMES}
    chain = name.strip().lower()
    if chain not in known:
        raise InputError(f"unknown chain {name!r}; known: {', '.join(sorted(known))}")
    return chain


def check_hops(hops: int) -> int:
    """`hops` if within 0..MAX_HOPS, else an InputError naming the allowed range."""
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= MAX_HOPS:
        raise InputError(f"hops must be between 0 and {MAX_HOPS} (got {hops!r})")
    return hops


class Screener:
    """Reusable across requests: label store, chain store and the caller's hub indicator index."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        from trilateral.labels import LabelStore

        self.labels = LabelStore(self.settings)
        self._chain_store = None
        self._sources: dict[str, np.ndarray] = {}
        self._labelled: tuple[pa.Array, pa.Table] | None = None
        self._labelled_set: set[str] | None = None
        self._graphs: dict[str, tuple[float, object]] = {}
        self._labels_stamp: tuple = ()

    def _refresh(self) -> None:
        """A long-lived screener (the HTTP API) drops what it derived from labels when they change."""
        root = self.labels.root
        stamp = tuple((f.name, f.stat().st_mtime_ns) for f in sorted(root.glob("*.parquet"))) \
            if root.is_dir() else ()
        if stamp != self._labels_stamp:
            self._labels_stamp = stamp
            self._labelled, self._labelled_set, self._sources = None, None, {}

    def _chain_stamp(self, chain: str) -> float:
        manifest = self.settings.chain_dir / chain / "_manifest.json"
        return manifest.stat().st_mtime_ns if manifest.exists() else 0.0

    def _graph(self, chain: str, build):
        """Arrays read from the chain store, kept until the chain's manifest changes."""
        stamp = self._chain_stamp(chain)
        cached = self._graphs.get(chain)
        if cached is None or cached[0] != stamp:
            cached = (stamp, build())
            self._graphs[chain] = cached
            self._sources.pop(chain, None)
        return cached[1]

    # ---- direct hits ---------------------------------------------------------------------------
    def hub_intel(self, hub, principal) -> HubIntel:
        """Wallet indicators the principal may read, and which of them the hub links to the DPRK."""
        names, ids = dprk_actor_refs(self.settings)
        return build_hub_intel(hub, principal, names, ids)

    def direct_hits(self, chain: str, addresses: pa.Array,
                    hub_intel: HubIntel | None = None) -> dict[int, list[dict]]:
        """Position -> hits on `chain` (labels, sanctions first, then hub indicators); clean ones absent."""
        hits = label_hits(self.labels, chain, addresses)
        if hub_intel is not None:
            for i, extra in hub_intel.hits_for(addresses.to_pylist()).items():
                hits[i] = dedupe(hits.get(i, []) + extra)
        return hits

    # ---- exposure --------------------------------------------------------------------------------
    @property
    def chain_store(self):
        if self._chain_store is None:
            from trilateral.chain import ChainStore

            self._chain_store = ChainStore(self.settings.chain_dir)
        return self._chain_store

    def source_mask(self, chain: str) -> np.ndarray:
        """Bool per address id of the chain: sanctioned or DPRK-attributed (cached per screener)."""
        if chain not in self._sources:
            known = self._all_addresses(chain)
            mask = np.zeros(len(known), dtype=bool)
            idx = self.labels.lookup_indices(chain, known)
            labelled = np.flatnonzero(idx >= 0)
            if labelled.size:
                found = self.labels.lookup(chain, known.take(pa.array(labelled)))
                names, _ = dprk_actor_refs(self.settings)
                mask[labelled] = [any(is_exposure_source(x, names) for x in labs) for labs in found]
            self._sources[chain] = mask
        return self._sources[chain]

    def _sources_with(self, chain: str, extra: set[str] | None) -> np.ndarray:
        mask = self.source_mask(chain)
        if not extra:
            return mask
        ids = self.chain_store.address_ids(chain, sorted(extra))
        mask = mask.copy()
        mask[ids[ids >= 0]] = True
        return mask

    def _all_addresses(self, chain: str) -> pa.Array:
        """Every address of the chain, position = dense id (read from the store's Parquet layout)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = self.chain_store.files(chain, "addresses")
        if not files:
            return pa.array([], type=pa.string())
        table = pa.concat_tables([pq.read_table(f, columns=["address_id", "address"]) for f in files])
        table = table.sort_by("address_id")
        ids = table.column("address_id").to_numpy()
        if not np.array_equal(ids, np.arange(len(ids))):
            raise InputError(f"{self.settings.chain_dir / chain}: address ids are not dense; re-ingest the chain")
        addresses = table.column("address").combine_chunks()
        if CHAINS.get(chain) is not None and CHAINS[chain].address_format == "tron":  # labels hold `T…`
            from trilateral.chain.store import shown_tron

            addresses = pa.array([shown_tron(a) for a in addresses.to_pylist()], type=pa.string())
        return addresses

    def exposure(self, chain: str, addresses: list[str], hops: int,
                 extra_sources: set[str] | None = None) -> list[float]:
        """Exposure per address (0.0 when the chain is not ingested or the address received nothing).
        `extra_sources`: addresses the caller's hub intel links to the DPRK, sources for this call only."""
        if hops <= 0 or chain not in self.chain_store.chains():
            return [0.0] * len(addresses)
        ids = self.chain_store.address_ids(chain, addresses)
        targets = ids[ids >= 0]
        if self.chain_store.model(chain) == "account":
            arrays = self._graph(chain, lambda: self._transfer_arrays(chain))  # first: may reset the sources
            per = account_exposure(arrays, self._sources_with(chain, extra_sources), targets, hops)
        else:
            graph = self._graph(chain, lambda: self._utxo_arrays(chain))
            per = utxo_exposure(*graph, self._sources_with(chain, extra_sources), targets, hops)
        return [max_ratio(per.get(int(i), [])) if i >= 0 else 0.0 for i in ids]

    def _transfer_arrays(self, chain: str) -> dict[str, np.ndarray]:
        t = self.chain_store.transfers(chain, columns=["from_id", "to_id", "asset_id", "amount_hi", "amount_lo"])
        return {c: t.column(c).to_numpy() for c in t.column_names}

    def _utxo_arrays(self, chain: str) -> tuple[dict, dict]:
        import pyarrow as pa
        import pyarrow.compute as pc

        outs, ins = self.chain_store.outputs(chain), self.chain_store.inputs(chain)
        hashes = pc.unique(pa.concat_arrays([outs.column("tx_hash").combine_chunks(),
                                             ins.column("tx_hash").combine_chunks()]))

        def tx_ids(col) -> np.ndarray:
            return pc.index_in(col, value_set=hashes).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

        outputs = {"tx": tx_ids(outs.column("tx_hash")), "address_id": outs.column("address_id").to_numpy(),
                   "value": outs.column("value").to_numpy(), "index": outs.column("output_index").to_numpy()}
        spent = tx_ids(ins.column("spent_tx_hash"))
        inputs = {"tx": tx_ids(ins.column("tx_hash")), "address_id": ins.column("address_id").to_numpy(),
                  "spent_tx": np.where(spent >= 0, spent, -2), "spent_index": ins.column("spent_output_index").to_numpy()}
        return outputs, inputs

    # ---- the whole screen ------------------------------------------------------------------------
    def screen(self, addresses: Iterable[str], *, chain: str | None = None, hops: int = 3,
               hub_intel: HubIntel | None = None) -> list[dict]:
        """[{"address", "chain", "hits", "exposure"}] in input order."""
        check_hops(hops)
        if chain is not None:
            chain = known_chain(chain)
        # a batch allocates ~100,000 small dicts at once: cyclic GC passes over the label index would
        # dominate the run, and nothing here makes cycles, so pause the collector for the batch
        paused = gc.isenabled()
        gc.disable()
        try:
            self._refresh()
            return self._screen(addresses, chain=chain, hops=hops, hub_intel=hub_intel or HubIntel())
        finally:
            if paused:
                gc.enable()

    def _screen(self, addresses: Iterable[str], *, chain: str | None, hops: int,
                hub_intel: HubIntel) -> list[dict]:
        raw = pa.array(list(addresses), type=pa.string())
        if chain is not None:
            normalised = normalise_array(chain, raw)
            chains = np.full(len(raw), chain, dtype=object)
            hits = self.direct_hits(chain, normalised, hub_intel)
            texts = normalised.to_pylist()
        else:
            chains, texts, hits = self._resolve_chains(raw, hub_intel)
        results = [{"address": a, "chain": c, "hits": hits.get(i, []), "exposure": 0.0}
                   for i, (a, c) in enumerate(zip(texts, chains.tolist(), strict=True))]
        if hops > 0:
            by_chain: dict[str, list[int]] = defaultdict(list)
            for i, c in enumerate(chains.tolist()):
                by_chain[c].append(i)
            for c, idx in by_chain.items():
                # an EVM address written alone may live on any EVM chain: the highest exposure counts
                family = [c] + ([e for e in EVM_CHAINS if e != c and e in self.chain_store.chains()]
                                if chain is None and c in EVM_CHAINS else [])
                for each in family:
                    # the hub's DPRK-linked wallets are looked up only when a chain is there to trace
                    extra = hub_intel.dprk_addresses if each in self.chain_store.chains() else None
                    exposure = self.exposure(each, [texts[i] for i in idx], hops, extra)
                    for i, e in zip(idx, exposure, strict=True):
                        results[i]["exposure"] = max(results[i]["exposure"], e)
        return results

    def _labelled_addresses(self) -> tuple[pa.Array, pa.Table]:
        """Every labelled address string (any chain) and the (chain, address) table: one hash probe per
        batch tells which addresses are labelled anywhere, without a look-up per chain."""
        if self._labelled is None:
            import pyarrow.compute as pc

            table = self.labels.table().select(["chain", "address"])
            self._labelled = (pc.unique(table.column("address")), table)
        return self._labelled

    def _resolve_chains(self, raw: pa.Array, hub_intel: HubIntel) -> tuple[np.ndarray, list[str], dict[int, list[dict]]]:
        """Without --chain: guess from the format; an address labelled on some chain is reported on it
        (the guessed chain first when it is one of them) with the hits of every chain it is labelled on."""
        import pyarrow.compute as pc

        raw = pc.utf8_trim_whitespace(raw)
        guessed = guess_chains(raw)
        evm = guessed == "ethereum"
        query = pc.if_else(pa.array(evm), pc.utf8_lower(raw), raw) if evm.any() else raw
        texts: list[str] = query.to_pylist()
        chains = guessed.copy()
        hits: dict[int, list[dict]] = {}
        unique, table = self._labelled_addresses()
        if len(texts) <= SMALL_BATCH:  # hashing the whole label set for a few addresses costs more than a set
            if self._labelled_set is None:
                self._labelled_set = set(unique.to_pylist())
            positions = np.array([i for i, t in enumerate(texts) if t in self._labelled_set], dtype=np.int64)
        else:
            positions = np.flatnonzero(pc.is_in(query, value_set=unique).fill_null(False)
                                       .to_numpy(zero_copy_only=False))
        if positions.size:
            wanted = query.take(pa.array(positions))
            rows = table.filter(pc.is_in(table.column("address"), value_set=wanted))
            chains_of: dict[str, set[str]] = defaultdict(set)
            for c, a in zip(rows.column("chain").to_pylist(), rows.column("address").to_pylist(), strict=True):
                chains_of[a].add(c)
            per_chain: dict[str, list[int]] = defaultdict(list)
            for p in positions.tolist():
                ordered = sorted(chains_of.get(texts[p], ()), key=lambda c, g=guessed[p]: (c != g, c))
                if ordered:
                    chains[p] = ordered[0]
                for c in ordered:
                    per_chain[c].append(p)
            for c, ps in per_chain.items():
                found = self.labels.lookup(c, pa.array([texts[p] for p in ps], type=pa.string()))
                for p, labs in zip(ps, found, strict=True):
                    hits[p] = dedupe(hits.get(p, []) + sorted_hits(labs))
        for p, extra in hub_intel.hits_for(texts).items():
            hits[p] = dedupe(hits.get(p, []) + extra)
        return chains, texts, hits


def chains_without_data(settings: Settings, results: list[dict], *, chain_given: bool) -> list[str]:
    """Known chains of `results` whose exposure had no ingested transfers to look at (reported as 0.0).
    Without --chain an EVM address is measured on every ingested EVM chain, so one of them is enough."""
    from trilateral.chain import ChainStore

    ingested = set(ChainStore(settings.chain_dir).chains())
    missing = set()
    for chain in {r["chain"] for r in results} & set(CHAINS):
        measured = chain in ingested or (not chain_given and chain in EVM_CHAINS and bool(ingested & set(EVM_CHAINS)))
        if not measured:
            missing.add(chain)
    return sorted(missing)


def screen_addresses(addresses: list[str], *, chain: str | None = None, hops: int = 3,
                     reader_code: str | None = None, settings: Settings | None = None) -> list[dict]:
    """The `screen` command: hub indicators count only when a reader (`--as CODE`) is named."""
    settings = settings or Settings.from_env()
    screener = Screener(settings)
    if not reader_code:
        return screener.screen(addresses, chain=chain, hops=hops)
    from trilateral.hub import Hub

    hub = Hub.open(settings)
    try:  # hub intel is looked up during the screen: the hub stays open until it ends
        hub_intel = screener.hub_intel(hub, hub.principal(reader_code))
        return screener.screen(addresses, chain=chain, hops=hops, hub_intel=hub_intel)
    finally:
        hub.close()
