"""How the demo tells its caller what it is doing, without knowing how that is shown.

The command line shows the steps as numbered sentences and the long ones (the import, the
dispatch, the confirmations, the FBA invoices) as progress bars; a test or a script can pass
:data:`QUIET` and read the returned summary instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Completed = Callable[[float], None]
"""Reports how much of a tracked step is done (out of its total)."""


class Reporter(Protocol):
    def note(self, text: str) -> None:
        """A step is done; ``text`` says what happened, in a sentence or two."""

    def track(self, description: str, total: float | None) -> AbstractContextManager[Completed]:
        """A long step begins; it ends with the block. ``total`` None: its size is unknown."""


class _Quiet:
    def note(self, text: str) -> None:
        return None

    def track(self, description: str, total: float | None) -> AbstractContextManager[Completed]:
        return _nothing()


@contextmanager
def _nothing() -> Iterator[Completed]:
    yield lambda completed: None


QUIET: Reporter = _Quiet()
