"""Hub errors beyond trilateral.core.errors; the TAXII layer maps NotFound to HTTP 404."""

from trilateral.core.errors import AuthenticationError, InputError, PermissionDenied, TrilateralError


class NotFound(TrilateralError):
    """No such collection, status or object for this principal (hidden and absent look the same)."""


class CollectionNotFound(NotFound):
    pass


class StatusNotFound(NotFound):
    pass


class InvalidCursor(InputError):
    """A paging cursor that is forged, from another principal, or from a different query."""


__all__ = ["AuthenticationError", "CollectionNotFound", "InputError", "InvalidCursor", "NotFound",
           "PermissionDenied", "StatusNotFound", "TrilateralError"]
