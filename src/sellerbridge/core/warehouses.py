"""Warehouses: the merchant's own, and Amazon's fulfilment centres per country (FBA).

Stock in an FBA warehouse belongs to the merchant but is counted by Amazon; sellerbridge only
mirrors Amazon's figures there, so nobody may book it by hand.
"""

from __future__ import annotations

from enum import StrEnum

from sellerbridge.core.errors import ReadOnlyWarehouse


class WarehouseKind(StrEnum):
    OWN = "own"
    FBA = "fba"


def check_bookable_by_hand(code: str, *, read_only: bool) -> None:
    if read_only:
        raise ReadOnlyWarehouse(
            f"Warehouse {code} is read-only: its stock is managed by Amazon.",
            hint="Its quantities are imported from Amazon; book stock in your own warehouse.",
        )
