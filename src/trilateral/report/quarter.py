"""Calendar quarters (2026Q3): parsing, bounds in UTC, and the trailing quarters a report compares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from trilateral.core.errors import InputError

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    """One calendar quarter; `start` inclusive, `end` exclusive (both UTC midnight)."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Accept '2026Q3', '2026-Q3' or '2026q3'."""
        match = _QUARTER_RE.match(text or "")
        if not match:
            raise InputError(f"quarter {text!r} is not of the form 2026Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: date | datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @cached_property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @cached_property
    def end(self) -> datetime:
        return self.next().start

    @property
    def months(self) -> list[str]:
        """The three months as 'YYYY-MM'."""
        return [f"{self.year}-{m:02d}" for m in range(3 * self.number - 2, 3 * self.number + 1)]

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def trailing(self, count: int = 4) -> list[Quarter]:
        """The `count` quarters ending with this one, oldest first (the trailing four quarters)."""
        quarters = [self]
        while len(quarters) < count:
            quarters.append(quarters[-1].previous())
        return list(reversed(quarters))

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end
