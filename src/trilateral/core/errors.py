"""User-facing errors: each carries one line that says what failed and what to do."""


class TrilateralError(Exception):
    """An error the CLI prints as one line on stderr (no traceback) before exiting non-zero."""

    exit_code = 1


class ConfigurationError(TrilateralError):
    """A setting (home directory, database URL, port) cannot be used as given."""


class InputError(TrilateralError):
    """Input data (file, bundle, row) is malformed; the message names where and what."""


class AuthenticationError(TrilateralError):
    """Unknown principal, bad or revoked token."""


class PermissionDenied(TrilateralError):
    """The principal is known but may not do this."""
