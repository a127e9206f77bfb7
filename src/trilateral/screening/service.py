"""Screen addresses: direct hits (sanctions and other labels, hub indicators) and indirect exposure.

Output per address, exactly: {"address", "chain", "hits": [{"source", "entity", "programs", "category"}],
"exposure": float}. Labels come only from trilateral.labels; hub intel only through Hub.query with the
caller's principal (so the TLP policy decides what the caller sees); chain data only from ChainStore.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.screening.exposure import account_exposure, max_ratio, utxo_exposure

_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BITCOIN = re.compile(r"^(?:bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$")
_TRON = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
_WALLET = re.compile(r"cryptocurrency-wallet:address\s*=\s*'((?:[^'\\]|\\.)+)'")


def guess_chain(address: str) -> str:
    """The most likely chain of an address written alone (EVM hex -> ethereum); 'unknown' if unsure."""
    address = address.strip()
    if _EVM.match(address):
        return "ethereum"
    if _BITCOIN.match(address):
        return "bitcoin"
    if _TRON.match(address):
        return "tron"
    return "unknown"


def normalise(chain: str, address: str) -> str:
    from trilateral.labels.model import normalise_address

    return normalise_address(chain, address)


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


def is_exposure_source(label) -> bool:
    """Sanctioned, or attributed to the DPRK (a DPRK programme, or a label/entity naming a DPRK actor)."""
    if label.category == "sanctioned":
        return True
    if any(str(p).upper().startswith("DPRK") for p in (label.programs or ())):
        return True
    from trilateral.refdata.catalog import is_dprk_text

    return is_dprk_text(label.entity or "", label.label or "") or (label.entity or "").casefold() in _dprk_names()


_DPRK_NAMES: set[str] | None = None


def _dprk_names() -> set[str]:
    """Names and aliases of DPRK intrusion sets from the imported ATT&CK data (empty if none imported)."""
    global _DPRK_NAMES
    if _DPRK_NAMES is None:
        try:
            from trilateral.refdata.catalog import load_catalog

            catalog = load_catalog()
            _DPRK_NAMES = {a.casefold() for g in catalog.dprk_groups for a in (g.name, *g.aliases)}
        except InputError:
            _DPRK_NAMES = {"lazarus group", "lazarus", "apt38", "bluenoroff", "andariel", "kimsuky", "apt37"}
    return _DPRK_NAMES


class Screener:
    """Reusable across requests: label store, chain store and the caller's hub indicator index."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        from trilateral.labels import LabelStore

        self.labels = LabelStore(self.settings)
        self._chain_store = None
        self._sources: dict[str, np.ndarray] = {}
        self._label_chains: list[str] | None = None

    # ---- direct hits ---------------------------------------------------------------------------
    def hub_index(self, hub, principal) -> dict[str, list[dict]]:
        """Address (EVM lower-cased) -> hits from wallet indicators the principal may read."""
        index: dict[str, list[dict]] = defaultdict(list)
        cursor = None
        while True:
            page = hub.query(principal, collection=None, types=["indicator"], cursor=cursor)
            for rec in page.records:
                obj = rec.object
                for address in _WALLET.findall(str(obj.get("pattern", ""))):
                    index[normalise(guess_chain(address), address)].append({
                        "source": f"hub:{rec.submitted_by}", "entity": obj.get("name") or obj["id"],
                        "programs": [], "category": "indicator"})
            if not page.more:
                return dict(index)
            cursor = page.next_cursor

    def label_chains(self) -> list[str]:
        """Chains the label store knows, each once (read once per screener)."""
        if self._label_chains is None:
            import pyarrow.compute as pc

            self._label_chains = sorted(pc.unique(self.labels.table().column("chain")).to_pylist())
        return self._label_chains

    def candidate_chains(self, guessed: str) -> list[str]:
        """Where to look for an address given without --chain: its guessed chain first, then every other
        chain of the same address family (an 0x address may be labelled on bsc or arbitrum)."""
        from trilateral.labels.model import EVM_CHAINS

        evm = guessed == "ethereum"
        others = [c for c in self.label_chains() if c != guessed and (c in EVM_CHAINS) == evm]
        return [guessed, *others]

    def direct_hits(self, chain: str, addresses: list[str],
                    hub_index: dict[str, list[dict]] | None = None) -> list[list[dict]]:
        """Per address: label hits on `chain` (sanctions first), then hub indicator hits."""
        labels = self.labels.lookup(chain, addresses) if addresses else []
        out = []
        for address, found in zip(addresses, labels, strict=True):
            hits = [_hit(lab) for lab in sorted(found, key=lambda x: (x.category != "sanctioned", x.source))]
            if hub_index:
                hits.extend(hub_index.get(address, ()))
            out.append(_dedupe(hits))
        return out

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
            if known:
                for i, found in enumerate(self.labels.lookup(chain, known)):
                    mask[i] = any(is_exposure_source(x) for x in found)
            self._sources[chain] = mask
        return self._sources[chain]

    def _all_addresses(self, chain: str) -> list[str]:
        """Every address of the chain, position = dense id (read from the store's Parquet layout)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = self.chain_store.files(chain, "addresses")
        if not files:
            return []
        table = pa.concat_tables([pq.read_table(f, columns=["address_id", "address"]) for f in files])
        table = table.sort_by("address_id")
        ids = table.column("address_id").to_numpy()
        if not np.array_equal(ids, np.arange(len(ids))):
            raise InputError(f"{self.settings.chain_dir / chain}: address ids are not dense; re-ingest the chain")
        return table.column("address").to_pylist()

    def exposure(self, chain: str, addresses: list[str], hops: int) -> list[float]:
        """Exposure per address (0.0 when the chain is not ingested or the address received nothing)."""
        if hops <= 0 or chain not in self.chain_store.chains():
            return [0.0] * len(addresses)
        ids = self.chain_store.address_ids(chain, addresses)
        is_source = self.source_mask(chain)
        targets = ids[ids >= 0]
        if self.chain_store.model(chain) == "account":
            t = self.chain_store.transfers(chain, columns=["from_id", "to_id", "asset_id", "amount_hi", "amount_lo"])
            arrays = {c: t.column(c).to_numpy() for c in t.column_names}
            per = account_exposure(arrays, is_source, targets, hops)
        else:
            per = utxo_exposure(*self._utxo_arrays(chain), is_source, targets, hops)
        return [max_ratio(per.get(int(i), [])) if i >= 0 else 0.0 for i in ids]

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
               hub_index: dict[str, list[dict]] | None = None) -> list[dict]:
        """[{"address", "chain", "hits", "exposure"}] in input order."""
        raw = [a.strip() for a in addresses]
        if chain is not None:
            rows = [(chain, normalise(chain, a)) for a in raw]
            hits = dict(enumerate(self.direct_hits(chain, [a for _, a in rows], hub_index)))
        else:
            rows, hits = self._resolve_chains(raw, hub_index)
        results: list[dict] = [{"address": a, "chain": c, "hits": hits[i], "exposure": 0.0}
                               for i, (c, a) in enumerate(rows)]
        by_chain: dict[str, list[int]] = defaultdict(list)
        for i, (c, _) in enumerate(rows):
            by_chain[c].append(i)
        for c, idx in by_chain.items():
            for i, e in zip(idx, self.exposure(c, [rows[i][1] for i in idx], hops), strict=True):
                results[i]["exposure"] = e
        return results

    def _resolve_chains(self, raw: list[str], hub_index) -> tuple[list[tuple[str, str]], dict[int, list[dict]]]:
        """Without --chain: look on the guessed chain and its family; report the first chain with a hit."""
        guessed = [guess_chain(a) for a in raw]
        rows = [(g, normalise(g, a)) for g, a in zip(guessed, raw, strict=True)]
        hits: dict[int, list[dict]] = {i: [] for i in range(len(raw))}
        found_on: dict[int, str] = {}
        by_guess: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(guessed):
            by_guess[g].append(i)
        for g, idx in by_guess.items():
            for c in self.candidate_chains(g):
                addrs = [normalise(c, raw[i]) for i in idx]
                for i, h in zip(idx, self.direct_hits(c, addrs, hub_index if c == g else None), strict=True):
                    if h:
                        hits[i] = _dedupe(hits[i] + h)
                        found_on.setdefault(i, c)
        rows = [(found_on.get(i, c), normalise(found_on.get(i, c), raw[i])) for i, (c, _) in enumerate(rows)]
        return rows, hits


def _hit(label) -> dict:
    return {"source": label.source, "entity": label.entity, "programs": list(label.programs or ()),
            "category": label.category}


def _dedupe(hits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for h in hits:
        key = (h["source"], h["entity"], tuple(h["programs"]), h["category"])
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def screen_addresses(addresses: list[str], *, chain: str | None = None, hops: int = 3,
                     reader_code: str | None = None, settings: Settings | None = None) -> list[dict]:
    """The `screen` command: hub indicators count only when a reader (`--as CODE`) is named."""
    settings = settings or Settings.from_env()
    screener = Screener(settings)
    hub_index = None
    if reader_code:
        from trilateral.hub import Hub

        hub = Hub.open(settings)
        try:
            hub_index = screener.hub_index(hub, hub.principal(reader_code))
        finally:
            hub.close()
    return screener.screen(addresses, chain=chain, hops=hops, hub_index=hub_index)
