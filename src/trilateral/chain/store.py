"""Read side of the chain store: committed Parquet parts as Arrow tables, DuckDB views and stats.

Only files listed in a chain's `_manifest.json` are read, so a half-finished ingest is never seen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trilateral.chain.coverage import Coverage
from trilateral.chain.schema import ASSETS, empty_select, model_of, tables_of
from trilateral.chain.writer import read_manifest, sql_list
from trilateral.core.chains import CHAINS, tron_to_base58, tron_to_hex
from trilateral.core.errors import InputError

CROSSCHAIN = "crosschain"
TRANSFER_ORDER = ("block_number, tx_index, CASE WHEN log_index = -1 THEN 0 WHEN log_index < -1 THEN 1 ELSE 2 END, "
                  "abs(log_index)")


def _duckdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")  # stdout belongs to --json output
    return con


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tron_key(address: str) -> str:
    """The stored form (0x + 40 hex) of a written Tron address; itself when it is not one."""
    try:
        return tron_to_hex(address)
    except InputError:
        return address


def shown_tron(stored: str) -> str:
    """A stored Tron address as users write it (`T…`); placeholders that are not 20 bytes stay as they are."""
    return tron_to_base58(stored) if len(stored) == 42 and stored.startswith("0x") else stored


class ChainStore:
    """Committed chain data under `root` (Settings.chain_dir)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._dict_cache: dict[str, tuple[float, pa.Array, pa.Array]] = {}

    # ---- catalogue ----------------------------------------------------------------------------
    def _manifest(self, name: str) -> dict[str, Any]:
        manifest = read_manifest(self.root / name)
        if manifest is None:
            raise KeyError(f"no {name} data in {self.root}")
        return manifest

    def chains(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and p.name != CROSSCHAIN and (p / "_manifest.json").exists())

    def model(self, chain: str) -> str:
        """'account' or 'utxo' (known chains answer even before anything is ingested)."""
        manifest = read_manifest(self.root / chain)
        return manifest["model"] if manifest else model_of(chain)

    def files(self, name: str, table: str) -> list[str]:
        """Absolute paths of the committed parts of one table (for Spark or other engines)."""
        manifest = read_manifest(self.root / name)
        if manifest is None:
            return []
        return [str(self.root / name / f) for f in manifest["tables"].get(table, [])]

    def _query(self, sql: str) -> pa.Table:
        con = _duckdb()
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.close()

    def _table(self, name: str, table: str, order: str | None = None, where: str = "",
               columns: list[str] | None = None) -> pa.Table:
        model = "crosschain" if name == CROSSCHAIN else self.model(name)
        schema = tables_of(model)[table]
        if columns:
            unknown = [c for c in columns if c not in schema.names]
            if unknown:
                raise KeyError(f"{table} has no column(s) {', '.join(unknown)}")
            schema = pa.schema([schema.field(c) for c in columns])
        files = self.files(name, table)
        if not files:
            return schema.empty_table()
        select = ", ".join(schema.names)
        union = ", union_by_name=true" if name == CROSSCHAIN else ""  # parts written before a column was added
        sql = f"SELECT {select} FROM read_parquet({sql_list(files)}{union}) {where}" + (f" ORDER BY {order}" if order else "")
        return self._query(sql).cast(schema)

    # ---- address dictionary -------------------------------------------------------------------
    def _dictionary(self, chain: str) -> tuple[pa.Array, pa.Array]:
        """(addresses ordered by id, ids) — ids are dense, so position == id."""
        path = self.root / chain / "_manifest.json"
        mtime = path.stat().st_mtime if path.exists() else 0.0
        cached = self._dict_cache.get(chain)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        files = self.files(chain, "addresses")
        if files:
            table = pa.concat_tables([pq.read_table(f) for f in files]).sort_by("address_id")
        else:
            table = tables_of("account")["addresses"].empty_table()
        addresses = table.column("address").combine_chunks()
        ids = table.column("address_id").combine_chunks()
        self._dict_cache[chain] = (mtime, addresses, ids)
        return addresses, ids

    def address_ids(self, chain: str, addresses: list[str] | np.ndarray | pa.Array) -> np.ndarray:
        """Ids of `addresses` (EVM addresses compared lower-case, Tron `T…`/`41…` as its 20 bytes);
        -1 for addresses not in the store."""
        known, _ = self._dictionary(chain)
        spec = CHAINS.get(chain)
        if spec is not None and spec.address_format == "tron":
            addresses = [_tron_key(a) for a in (addresses.to_pylist() if isinstance(addresses, pa.Array)
                                                else list(addresses))]
        query = pa.array(addresses, type=pa.string()) if not isinstance(addresses, pa.Array) else addresses
        if spec is not None and spec.address_format in ("evm", "tron"):
            query = pc.utf8_lower(query)
        # ids are dense and the dictionary is ordered by id, so a position in it is the id
        pos = pc.index_in(query, value_set=known)
        return pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)

    def addresses(self, chain: str, ids: list[int] | np.ndarray) -> list[str]:
        """Address strings of dense ids, as users write them (Tron `T…`); IndexError for an unknown id."""
        known, _ = self._dictionary(chain)
        idx = np.asarray(ids, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(known)):
            raise IndexError(f"address id out of range 0..{len(known) - 1}")
        texts = pc.take(known, pa.array(idx)).to_pylist()
        spec = CHAINS.get(chain)
        if spec is not None and spec.address_format == "tron":
            return [shown_tron(t) for t in texts]
        return texts

    # ---- tables -------------------------------------------------------------------------------
    def transfers(self, chain: str, columns: list[str] | None = None, since: int | None = None,
                  until: int | None = None) -> pa.Table:
        """Account-model value moves, time-ordered (block, tx, native → internal → token logs)."""
        conds = []
        if since is not None:
            conds.append(f"timestamp >= {int(since)}")
        if until is not None:
            conds.append(f"timestamp < {int(until)}")
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        return self._table(chain, "transfers", order=TRANSFER_ORDER, where=where, columns=columns)

    def outputs(self, chain: str) -> pa.Table:
        return self._table(chain, "outputs", order="block_number, tx_hash, output_index")

    def inputs(self, chain: str) -> pa.Table:
        return self._table(chain, "inputs", order="block_number, tx_hash, input_index")

    def utxo_transactions(self, chain: str) -> pa.Table:
        return self._table(chain, "transactions", order="block_number, tx_hash")

    def blocks(self, chain: str) -> pa.Table:
        return self._table(chain, "blocks", order="block_number")

    def events(self, chain: str) -> pa.Table:
        return self._table(chain, "events", order="block_number, log_index")

    def assets(self, chain: str) -> pa.Table:
        path = self.root / chain / "assets.parquet"
        if not path.exists():
            return ASSETS.empty_table()
        table = pq.read_table(path).cast(ASSETS)
        manifest = read_manifest(self.root / chain)
        limit = manifest["next_asset_id"] if manifest else 1
        return table.filter(pc.less(table.column("asset_id"), limit)).sort_by("asset_id")

    def crosschain_links(self) -> pa.Table:
        if read_manifest(self.root / CROSSCHAIN) is None:
            return tables_of("crosschain")["links"].empty_table()
        return self._table(CROSSCHAIN, "links", order="timestamp, in_tx")

    # ---- DuckDB -------------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """In-memory DuckDB with views <chain>_<table> (and crosschain_links) over committed parts."""
        con = _duckdb()
        for chain in self.chains():
            model = self.model(chain)
            for table, schema in tables_of(model).items():
                files = self.files(chain, table)
                src = f"SELECT * FROM read_parquet({sql_list(files)})" if files else empty_select(schema)
                con.execute(f"CREATE VIEW {chain}_{table} AS {src}")
            assets = self.root / chain / "assets.parquet"
            con.execute(f"CREATE VIEW {chain}_assets AS " + (
                f"SELECT * FROM read_parquet('{assets}') WHERE asset_id < {self._manifest(chain)['next_asset_id']}"
                if assets.exists() else empty_select(ASSETS)))
        links = self.files(CROSSCHAIN, "links")
        con.execute("CREATE VIEW crosschain_links AS " + (
            f"SELECT * FROM read_parquet({sql_list(links)}, union_by_name=true)" if links else empty_select(tables_of("crosschain")["links"])))
        return con

    # ---- coverage -----------------------------------------------------------------------------
    def coverage(self, chain: str) -> Coverage:
        """Which addresses' histories are complete over which time spans (see chain.coverage)."""
        manifest = read_manifest(self.root / chain)
        if manifest is None:
            return Coverage()
        last = max((b["last_time"] for b in manifest["batches"].values() if b.get("last_time") is not None),
                   default=None)
        return Coverage.from_doc(manifest.get("coverage"), last)

    # ---- stats --------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """The `chain stats --json` document: per chain what the store holds (from the manifests)."""
        chains: dict[str, Any] = {}
        for chain in self.chains():
            manifest = self._manifest(chain)
            totals: dict[str, int] = {}
            first = last = None
            for batch in manifest["batches"].values():
                for k, v in batch.get("counts", {}).items():
                    totals[k] = totals.get(k, 0) + int(v)
                if batch.get("first_time") is not None:
                    first = batch["first_time"] if first is None else min(first, batch["first_time"])
                if batch.get("last_time") is not None:
                    last = batch["last_time"] if last is None else max(last, batch["last_time"])
            model = manifest["model"]
            spec = CHAINS.get(chain)
            entry: dict[str, Any] = {
                "model": model,
                "chain_id": spec.chain_id if spec else None,
                "native": spec.native if spec else None,
                "blocks": totals.get("blocks", 0),
                "transactions": totals.get("transactions", 0),
                "transfers": totals.get("transfers", 0) if model == "account" else totals.get("outputs", 0),
                "addresses": int(manifest["next_address_id"]),
                "first_time": _iso(first),
                "last_time": _iso(last),
                "block_ranges": manifest["block_ranges"],
                "assets": int(manifest["next_asset_id"]),
                "batches": len(manifest["batches"]),
            }
            if model == "account":
                entry["events"] = totals.get("events", 0)
            else:
                entry["inputs"] = totals.get("inputs", 0)
                entry["outputs"] = totals.get("outputs", 0)
            chains[chain] = entry
        links = read_manifest(self.root / CROSSCHAIN)
        n_links = sum(int(b.get("counts", {}).get("links", 0)) for b in links["batches"].values()) if links else 0
        return {"chain_dir": str(self.root), "chains": chains, "crosschain": {"links": n_links}}
