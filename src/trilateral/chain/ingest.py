"""One entry point for every ingest format: locks the store, runs the format's batches, reports."""

from __future__ import annotations

from pathlib import Path

from trilateral.chain.common import IngestReport, progress_bar
from trilateral.chain.schema import model_of
from trilateral.chain.writer import TableWriter, store_lock
from trilateral.core.errors import InputError

FORMATS = ("etl", "rpc", "core-json", "midgard", "etherscan")


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
    with store_lock(chain_dir):
        if fmt == "etl" and chain == "ethereum":
            return _etl_ethereum(chain_dir, Path(source), strict, show_progress)
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
            if chain != "ethereum":
                raise InputError("--format etherscan reads Etherscan/Blockscout data: use --chain ethereum")
            from trilateral.chain.etherscan import ingest_etherscan

            return ingest_etherscan(chain_dir, Path(source), strict=strict, show_progress=show_progress,
                                    **options)  # type: ignore[arg-type]
        if fmt == "rpc":
            if chain != "ethereum":
                raise InputError("--format rpc reads an EVM node: use --chain ethereum")
            from trilateral.chain.rpc import ingest_rpc

            return ingest_rpc(chain_dir, source, strict=strict, show_progress=show_progress, **options)
    raise InputError(f"--format {fmt} is not supported for --chain {chain}")


def _etl_ethereum(chain_dir: Path, root: Path, strict: bool, show_progress: bool) -> IngestReport:
    from trilateral.chain.ethereum_etl import STEPS_PER_BATCH, EtlIngest, discover_batches

    batches = discover_batches(root)
    writer = TableWriter(chain_dir, "ethereum", "account")
    report = IngestReport("ethereum", str(root))
    if show_progress:
        with progress_bar("ingest ethereum-etl", len(batches) * STEPS_PER_BATCH) as progress:
            EtlIngest(writer, report, strict=strict, progress=progress).run(batches)
    else:
        EtlIngest(writer, report, strict=strict, progress=None).run(batches)
    return report
