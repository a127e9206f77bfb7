"""One entry point for every ingest format: locks the store, runs the format's batches, reports."""

from __future__ import annotations

from pathlib import Path

from trilateral.chain.common import IngestReport, progress_bar
from trilateral.chain.schema import model_of
from trilateral.chain.writer import TableWriter, store_lock
from trilateral.core.chains import EVM_CHAINS
from trilateral.core.chains import chain as chain_named
from trilateral.core.errors import InputError

FORMATS = ("etl", "rpc", "core-json", "midgard", "etherscan", "trongrid", "tron-node")
EVM_FORMATS = ("etl", "rpc", "etherscan")
TRON_FORMATS = ("trongrid", "tron-node")


def ingest(chain_dir: Path, *, fmt: str, source: str, chain: str | None = None, strict: bool = False,
           show_progress: bool = True, **options: object) -> IngestReport:
    """Ingest `source` (file, directory or URL) in `fmt` into the store at `chain_dir`."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fmt == "midgard":
        chain = "crosschain"
    elif chain is None:
        raise InputError(f"--chain is required for --format {fmt}")
    else:
        model_of(chain)
    spec = chain_named(chain) if chain != "crosschain" else None
    chain = spec.name if spec is not None else chain
    if spec is not None and spec.address_format == "tron" and fmt not in TRON_FORMATS:
        raise InputError(f"--chain tron reads {' or '.join(TRON_FORMATS)} (TronGrid API responses, full-node "
                         f"block dumps), not --format {fmt}")
    if spec is not None and spec.address_format != "tron" and fmt in TRON_FORMATS:
        raise InputError(f"--format {fmt} is Tron data: use --chain tron")
    with store_lock(chain_dir):
        if fmt in TRON_FORMATS:
            from trilateral.chain.tron import ingest_tron

            return ingest_tron(chain_dir, Path(source), fmt=fmt, strict=strict, show_progress=show_progress,
                               **options)  # type: ignore[arg-type]
        if fmt == "etl" and spec is not None and spec.evm:
            return _etl_evm(chain_dir, chain, Path(source), strict, show_progress)
        if fmt == "etl" and chain == "bitcoin":
            from trilateral.chain.bitcoin import ingest_bitcoin_etl

            return ingest_bitcoin_etl(chain_dir, Path(source), strict=strict, show_progress=show_progress)
        if fmt == "core-json":
            if chain != "bitcoin":
                raise InputError("--format core-json is Bitcoin Core getblock output: use --chain bitcoin")
            from trilateral.chain.bitcoin import ingest_core_json

            return ingest_core_json(chain_dir, Path(source), strict=strict, show_progress=show_progress)
        if fmt == "midgard":
            from trilateral.chain.midgard import ingest_midgard

            return ingest_midgard(chain_dir, Path(source), strict=strict, show_progress=show_progress)
        if fmt == "etherscan":
            if spec is None or not spec.evm:
                raise InputError(f"--format etherscan reads Etherscan/Blockscout data: use an EVM --chain "
                                 f"({', '.join(EVM_CHAINS)})")
            from trilateral.chain.etherscan import ingest_etherscan

            return ingest_etherscan(chain_dir, Path(source), strict=strict, show_progress=show_progress,
                                    chain=chain, **options)  # type: ignore[arg-type]
        if fmt == "rpc":
            if spec is None or not spec.evm:
                raise InputError(f"--format rpc reads an EVM node: use an EVM --chain ({', '.join(EVM_CHAINS)})")
            from trilateral.chain.rpc import ingest_rpc

            return ingest_rpc(chain_dir, source, strict=strict, show_progress=show_progress, chain=chain,
                              **options)  # type: ignore[arg-type]
    raise InputError(f"--format {fmt} is not supported for --chain {chain}")


def _etl_evm(chain_dir: Path, chain: str, root: Path, strict: bool, show_progress: bool) -> IngestReport:
    """ethereum-etl's layout is the EVM family's (bsc-etl, polygon-etl, … export the same tables)."""
    from trilateral.chain.ethereum_etl import STEPS_PER_BATCH, EtlIngest, discover_batches

    batches = discover_batches(root)
    writer = TableWriter(chain_dir, chain, "account")
    report = IngestReport(chain, str(root))
    if show_progress:
        with progress_bar(f"ingest {chain} etl", len(batches) * STEPS_PER_BATCH) as progress:
            EtlIngest(writer, report, strict=strict, progress=progress).run(batches)
    else:
        EtlIngest(writer, report, strict=strict, progress=None).run(batches)
    return report
