"""One exception hierarchy for linli.

Every error a user can trigger is a :class:`LinliError`; subclasses also inherit the matching
built-in so that ``except ValueError`` keeps working for callers who do not know linli.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class LinliError(Exception):
    """Base class of all errors raised by linli."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is, what was expected and what was found."""

    source: str
    """The file (or layer) the problem is in."""
    expected: str
    found: str
    where: str = ""
    """Row, feature or field, e.g. ``"row 12, field 'households'"``."""

    def __str__(self) -> str:
        place = f"{self.source}" + (f", {self.where}" if self.where else "")
        return f"{place}: expected {self.expected}; found {self.found}"


class InputError(LinliError, ValueError):
    """An input file or argument is unusable.

    The message names the file, the row or feature, the field, what was expected and what
    was found. Several problems may be reported at once (see :attr:`problems`).
    """

    def __init__(self, message: str | None = None, *, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        if message is None:
            message = _join(self.problems)
        elif self.problems:
            message = message + "\n" + _join(self.problems)
        super().__init__(message)


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or cannot be right for the data."""


class CoverageError(InputError):
    """A raster or area does not cover the data it must (e.g. a DEM smaller than the network)."""


class StandardError(LinliError, ValueError):
    """A standards profile is missing, malformed or inconsistent."""


class SolverError(LinliError, RuntimeError):
    """An optimisation solver failed or is not installed."""


def _join(problems: Sequence[Problem], limit: int = 20) -> str:
    lines = [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  … and {len(problems) - limit} more")
    head = f"{len(problems)} problem(s) found:" if len(problems) != 1 else "1 problem found:"
    return "\n".join([head, *lines])
