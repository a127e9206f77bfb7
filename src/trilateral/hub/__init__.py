"""Intel hub: STIX 2.1 store with TLP 2.0 sharing policy, correlation, sightings and audit log."""

from trilateral.hub.errors import CollectionNotFound, InvalidCursor, NotFound, StatusNotFound
from trilateral.hub.hub import SHARED, Hub
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.types import (
    AuditVerdict,
    CollectionInfo,
    Correlation,
    ManifestRecord,
    PrincipalInfo,
    QueryPage,
    StatusDetail,
    StatusRecord,
    StoredObject,
    SubmitResult,
    format_timestamp,
)

__all__ = ["SHARED", "AuditVerdict", "CollectionInfo", "CollectionNotFound", "Correlation", "Hub", "InvalidCursor",
           "ManifestRecord", "NotFound", "ObjectMeta", "PrincipalInfo", "QueryPage", "StatusDetail", "StatusNotFound",
           "StatusRecord", "StoredObject", "SubmitResult", "format_timestamp", "may_read"]
