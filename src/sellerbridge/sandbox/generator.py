"""Realistic European orders from a seed. (Being built.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sellerbridge.sandbox.order_records import Order

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox, Seller


def generate_orders(
    sandbox: Sandbox, seller: Seller, count: int, *, anchor: datetime
) -> list[Order]:
    """Generate ``count`` orders for ``seller``, dated back from ``anchor``."""
    raise NotImplementedError("the order generator is being built")
