"""The quantity a sales channel may offer of an article: what is free in the warehouse, less a
safety buffer, within caps.

``available`` is on-hand minus the reservations of *all* channels in the warehouses that ship
the channel's orders (an order from a shop or entered by hand takes stock from Amazon too). The
rule then keeps a buffer back — units and a percentage, rounded up so a buffer never offers
more than it should — offers nothing below a threshold (the last few units are better kept for
the channel that sells them at the best price, or for a stock count that is off), and caps the
result. A minimum is offered only for an article that may be sold without stock (backorder):
for others a minimum above the free stock would sell what is not there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from sellerbridge.core.errors import InvalidInput

ZERO_PERCENT = Decimal(0)


@dataclass(frozen=True, slots=True)
class OfferRule:
    """How much of the free stock a SKU offers."""

    buffer: int = 0
    """Units always kept back."""
    buffer_percent: Decimal = ZERO_PERCENT
    """A share of the free stock kept back, rounded up to whole units."""
    zero_below: int = 0
    """Offer 0 when fewer than this many units would be offered."""
    minimum: int = 0
    """Offered at least, for an article that may be sold without stock."""
    maximum: int | None = None
    """Offered at most."""

    def __post_init__(self) -> None:
        if min(self.buffer, self.zero_below, self.minimum) < 0:
            raise InvalidInput("stock rule", "buffer, threshold and minimum cannot be negative")
        if not ZERO_PERCENT <= self.buffer_percent <= 100:
            raise InvalidInput("buffer_percent", f"{self.buffer_percent} is not 0 to 100")
        if self.maximum is not None and self.maximum < self.minimum:
            raise InvalidInput("maximum", f"{self.maximum} is below the minimum {self.minimum}")


def quantity_to_offer(available: int, rule: OfferRule, *, backorder: bool = False) -> int:
    """The quantity to offer of ``available`` free units under ``rule``."""
    kept = rule.buffer
    if available > 0 and rule.buffer_percent:
        share = Decimal(available) * rule.buffer_percent / 100
        kept += int(share.to_integral_value(rounding=ROUND_CEILING))
    quantity = max(available - kept, 0)
    if quantity < rule.zero_below:
        quantity = 0
    if backorder:
        quantity = max(quantity, rule.minimum)
    if rule.maximum is not None:
        quantity = min(quantity, rule.maximum)
    return quantity


def bundle_available(components: Iterable[tuple[int, int]], free: Mapping[int, int]) -> int:
    """The complete bundles the free stock of its components allows: ``components`` are
    (component article id, units per bundle), ``free`` the free units by article id."""
    return min(
        (max(free.get(article_id, 0), 0) // per_bundle for article_id, per_bundle in components),
        default=0,
    )
