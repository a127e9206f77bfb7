"""Who is asking: a member agency or a client organisation sponsored by one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    MEMBER = "member"
    CLIENT = "client"


@dataclass(frozen=True)
class Principal:
    """A member (national agency) or a client (organisation a member sponsors).

    `sponsor` is the member code for a client and None for a member.
    """

    code: str
    kind: PrincipalKind
    sponsor: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind is PrincipalKind.CLIENT and not self.sponsor:
            raise ValueError(f"client {self.code!r} needs a sponsoring member")
        if self.kind is PrincipalKind.MEMBER and self.sponsor:
            raise ValueError(f"member {self.code!r} cannot have a sponsor")

    @property
    def is_member(self) -> bool:
        return self.kind is PrincipalKind.MEMBER

    @property
    def member_code(self) -> str:
        """The member agency this principal belongs to (itself for a member)."""
        return self.code if self.sponsor is None else self.sponsor


DEFAULT_MEMBERS: tuple[tuple[str, str], ...] = (
    ("US", "United States"),
    ("KR", "Republic of Korea"),
    ("JP", "Japan"),
)
