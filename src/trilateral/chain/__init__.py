"""Chain data layer: ingest of chain formats into a columnar Parquet store with dense address ids."""

from trilateral.chain.common import BadRow, IngestReport
from trilateral.chain.store import ChainStore

__all__ = ["BadRow", "ChainStore", "IngestReport"]
