"""Process-wide settings for the commands that run long and write a lot (worker, order import)."""

from __future__ import annotations

import gc

GC_YOUNG_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (CPython's default: 700)."""


def tune_gc() -> None:
    """Make CPython's cyclic garbage collector cheap for bulk writes; call once at start-up.

    A page of imported orders creates some 20,000 tracked objects (ORM instances with their
    state) that live until the page is committed. With the default thresholds they survive
    dozens of young collections each, and every few pages a full collection walks every object
    of the process again: a third of the import's time. Start-up objects (modules, classes,
    mappers) are frozen, so full collections skip them; young collections run less often.
    Memory is unaffected: garbage is still collected, a little later.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
