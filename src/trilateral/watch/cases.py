"""Opening a case from a finished trace: its seeds, and the holdings it left as the starting state."""

from __future__ import annotations

import json
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.watch.runner import NATIVES


def trace_seeds_and_holdings(path: Path, chain: str, extra_seeds: str | None
                             ) -> tuple[str, list[tuple[str, str, int, float]]]:
    """Comma-separated seeds of the findings on `chain` (plus `extra_seeds`), and its holdings on
    `chain` as (address, asset key, base units, confidence); a token holding's asset key is its
    contract, looked up in the chain store by ticker."""
    try:
        doc = json.loads(path.read_text())
        found = [s.get("address") or s.get("tx_hash") for s in doc["seeds"] if s.get("chain") == chain]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not trace findings JSON ({exc})") from None
    seeds = ",".join([s for s in found if s] + ([extra_seeds] if extra_seeds else []))
    native = NATIVES.get(chain, ("ETH", 18))[0]
    contracts = _contracts(chain)
    holdings = []
    for k, h in enumerate(doc.get("holdings") or []):
        if h.get("chain") != chain:
            continue
        asset = h.get("asset") or native
        key = asset if asset == native else contracts.get(asset.upper())
        if key is None:
            raise InputError(f"{path}: holdings[{k}]: asset {asset!r} is not in the chain store's {chain} tokens; "
                             "ingest the chain first")
        try:
            amount = int(h["amount_base_units"])
        except (KeyError, ValueError):
            raise InputError(f"{path}: holdings[{k}]: amount_base_units must be an integer string") from None
        holdings.append((h["address"], key, amount, float(h.get("confidence") or 1.0)))
    return seeds, holdings


def _contracts(chain: str) -> dict[str, str]:
    from trilateral.chain import ChainStore
    from trilateral.core.settings import Settings

    store = ChainStore(Settings.from_env().chain_dir)
    if chain not in store.chains():
        return {}
    assets = store.assets(chain).to_pylist()
    return {(a["symbol"] or "").upper(): a["contract"] for a in assets if a.get("contract")}
