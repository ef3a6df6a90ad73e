"""Sales orders: their states, the moves between them, and how their amounts are computed.

    on hold ⇄ open ⇄ released → partially shipped → shipped → completed
        └───────┴────────┴──→ cancelled

An order waits *on hold* while something needs a person (a reason is always recorded: an
unknown SKU, an address that cannot be shipped to, a manual stop). Once nothing holds it, it is
*open*; when its stock is reserved it can be *released* to the warehouse. Shipping makes it
(partially) *shipped*; *completed* closes it. Anything not yet shipped can be *cancelled*.
Completed and cancelled are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sellerbridge.core.errors import IllegalTransition, InvalidInput
from sellerbridge.core.money import MINOR_UNITS, ZERO, check_places
from sellerbridge.core.tax import TaxSplit, check_rate, split_gross, split_net


class OrderState(StrEnum):
    ON_HOLD = "on_hold"
    OPEN = "open"
    RELEASED = "released"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.ON_HOLD: frozenset({_S.OPEN, _S.CANCELLED}),
    _S.OPEN: frozenset({_S.ON_HOLD, _S.RELEASED, _S.CANCELLED}),
    _S.RELEASED: frozenset({_S.OPEN, _S.ON_HOLD, _S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
    _S.PARTIALLY_SHIPPED: frozenset({_S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def check_transition(order_number: str, current: OrderState, target: OrderState) -> None:
    """Raise :class:`IllegalTransition` unless an order may move from ``current`` to ``target``."""
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if target == current:
        raise IllegalTransition(f"Order {order_number} is {current.label} already.")
    if not allowed:
        hint = f"A {current.label} order cannot change any more."
    else:
        choices = " or ".join(sorted(state.label for state in allowed))
        hint = f"From {current.label} it can only become {choices}."
    raise IllegalTransition(
        f"Order {order_number} is {current.label} and cannot become {target.label}.", hint=hint
    )


EXTERNAL_REFERENCE_MAX = 64
NOTE_MAX = 1000
"""Longest hold reason, cancellation reason or timeline note."""
UNIT_PRICE_PLACES = 4
"""Unit prices may have up to four decimals (B2B net prices such as 0.0125 per screw)."""

HOLD_MANUAL = "manual"
"""An order stopped by a person."""
HOLD_UNKNOWN_ARTICLE = "unknown_article"
"""A line names a product (a marketplace SKU) no article is known for."""
HOLD_TOTALS_MISMATCH = "totals_mismatch"
"""The order's lines and charges do not add up to the total the channel charged."""
HOLD_ADDRESS_INCOMPLETE = "address_incomplete"
"""The delivery address lacks what shipping or the invoice needs."""
HOLD_CANCEL_REQUEST = "cancel_request"
"""The buyer asked to cancel; the merchant decides whether to cancel or to ship."""
HOLD_SHIPPED_ELSEWHERE = "shipped_elsewhere"
"""The channel reports the order shipped, but sellerbridge did not ship it. Releasing the
order marks it shipped and gives back its reservations; stock is not booked out."""
HOLD_PARTLY_SHIPPED = "partly_shipped"
"""Part of the order was shipped outside sellerbridge before it arrived here."""
HOLD_CHANGED_BY_CHANNEL = "changed_by_channel"
"""The channel changed the order's lines, amounts or address after it arrived."""


class ChargeKind(StrEnum):
    SHIPPING = "shipping"
    GIFT_WRAP = "gift_wrap"
    COD = "cod"
    OTHER = "other"


@dataclass(frozen=True)
class LineDraft:
    """An order line as entered: the unit price is gross or net as the order says."""

    article_number: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    discount: Decimal = ZERO  # on the whole line, in the same terms (gross or net) as the price
    description: str | None = None


@dataclass(frozen=True)
class ChargeDraft:
    kind: ChargeKind
    amount: Decimal
    tax_rate: Decimal
    description: str | None = None


@dataclass(frozen=True)
class LinePrice:
    """A line's amounts: unit prices both ways, and the line total split into net and tax."""

    unit_net: Decimal
    unit_gross: Decimal
    discount: Decimal
    total: TaxSplit


def _split(amount: Decimal, rate: Decimal, currency: str, *, includes_tax: bool) -> TaxSplit:
    return (split_gross if includes_tax else split_net)(amount, rate, currency)


def price_line(line: LineDraft, currency: str, *, prices_include_tax: bool) -> LinePrice:
    """Compute a line's amounts.

    The line total is computed from the price as entered (quantity × unit price − discount),
    rounded to the currency and split once, so net + tax = gross holds exactly for every line.
    The unit price of the other kind (net for gross prices, gross for net ones) is derived to
    four decimals and informative only.
    """
    if line.quantity <= 0:
        raise InvalidInput("quantity", f"{line.quantity} must be at least 1")
    if line.unit_price < 0:
        raise InvalidInput("unit_price", f"{line.unit_price} must not be negative")
    check_places(line.unit_price, UNIT_PRICE_PLACES, field="unit_price")
    check_places(line.discount, MINOR_UNITS[currency], field="discount")
    check_rate(line.tax_rate)
    amount = line.unit_price * line.quantity - line.discount
    if line.discount < 0 or amount < 0:
        raise InvalidInput(
            "discount",
            f"{line.discount} must be between 0 and the line amount {amount + line.discount}",
        )
    total = _split(amount, line.tax_rate, currency, includes_tax=prices_include_tax)
    other_unit = (
        line.unit_price * 100 / (100 + line.tax_rate)
        if prices_include_tax
        else line.unit_price * (100 + line.tax_rate) / 100
    ).quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES), rounding=ROUND_HALF_UP)
    unit_net, unit_gross = (
        (other_unit, line.unit_price) if prices_include_tax else (line.unit_price, other_unit)
    )
    return LinePrice(unit_net=unit_net, unit_gross=unit_gross, discount=line.discount, total=total)


def price_charge(charge: ChargeDraft, currency: str, *, prices_include_tax: bool) -> TaxSplit:
    """Split a charge (shipping, gift wrap, ...) into net and tax; discounts may be negative."""
    check_places(charge.amount, MINOR_UNITS[currency], field=charge.kind.value)
    check_rate(charge.tax_rate)
    return _split(charge.amount, charge.tax_rate, currency, includes_tax=prices_include_tax)


@dataclass(frozen=True)
class OrderTotals:
    net: Decimal
    tax: Decimal
    gross: Decimal

    @classmethod
    def of(cls, splits: list[TaxSplit]) -> OrderTotals:
        return cls(
            net=sum((split.net for split in splits), ZERO),
            tax=sum((split.tax for split in splits), ZERO),
            gross=sum((split.gross for split in splits), ZERO),
        )


def default_charge_rate(line_rates: list[Decimal]) -> Decimal:
    """The VAT rate of a charge that follows its order: the highest rate among the lines.

    Shipping shares the tax treatment of the goods it delivers; with several rates on one order
    the highest one is the choice that never under-declares VAT.
    """
    return max(line_rates, default=ZERO)
