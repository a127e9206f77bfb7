"""Labels of addresses: GraphSense TagPacks/ActorPacks, OFAC SDN (CSV and advanced XML), OpenSanctions."""

from trilateral.labels.model import ImportReport, Label
from trilateral.labels.store import LabelStore

__all__ = ["ImportReport", "Label", "LabelStore"]
