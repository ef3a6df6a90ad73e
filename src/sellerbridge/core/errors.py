"""The errors the ERP rules raise.

Every error carries a sentence for the operator: what is wrong and, where we know it, what to do
about it. The CLI and the web app show ``str(error)`` as it is; nothing else is needed to act on
it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class DomainError(Exception):
    """A business rule refused an operation. The message says why and how to fix it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        if hint is None:
            text = message
        else:
            text = f"{message}{'' if message.endswith(('.', '!', '?', ':')) else '.'} {hint}"
        super().__init__(text)


class InvalidInput(DomainError):
    """A value the user gave cannot be used (bad field in a CSV row, a negative quantity, ...)."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}", hint=hint)


class NotFound(DomainError):
    """A record named by the user does not exist."""


class AlreadyExists(DomainError):
    """A record with the same identity exists already."""


class IllegalTransition(DomainError):
    """An order cannot move from its current state to the one asked for."""


class InsufficientStock(DomainError):
    """A stock operation would take more than is there."""


class ReadOnlyWarehouse(DomainError):
    """Stock in this warehouse is managed elsewhere (Amazon's FBA warehouses)."""


class InvalidFields(DomainError):
    """Several fields of one record are invalid; each problem is listed."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class Problems:
    """Runs several checks and gathers what they refuse, so a person sees every problem at once.

    ``check(fn)`` returns ``fn()``, or ``None`` if it raised :class:`InvalidInput` or
    :class:`InvalidFields` (remembering why); ``raise_if_any()`` raises them all together.
    """

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def check(self, check: Callable[[], _T]) -> _T | None:
        try:
            return check()
        except InvalidFields as invalid:
            self.found.extend(invalid.problems)
        except InvalidInput as problem:
            self.found.append(problem)
        return None

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidFields(self.found)
