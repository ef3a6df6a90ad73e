"""Money is ``decimal.Decimal``, rounded per currency, never a float.

Amazon rejects an invoice upload whose totals differ from the order by one cent, so every
amount is quantized to its currency's minor unit with the rounding German tax practice uses
(half up, "kaufmännisch runden").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sellerbridge.core.errors import InvalidInput

# ISO 4217 minor units of the currencies sellerbridge handles: the currencies of Amazon's
# European and North American marketplaces and of the EU member states.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "GBP": 2,
    "PLN": 2,
    "SEK": 2,
    "CZK": 2,
    "DKK": 2,
    "HUF": 2,
    "RON": 2,
    "BGN": 2,
    "CHF": 2,
    "NOK": 2,
    "TRY": 2,
    "USD": 2,
    "CAD": 2,
    "MXN": 2,
    "AED": 2,
    "SAR": 2,
    "EGP": 2,
    "JPY": 0,
}

ZERO = Decimal(0)


def check_currency(code: str) -> str:
    """Return the upper-case ISO code, or explain which currencies are supported."""
    normalised = code.strip().upper()
    if normalised not in MINOR_UNITS:
        supported = ", ".join(sorted(MINOR_UNITS))
        raise InvalidInput(
            "currency",
            f"{code!r} is not a supported currency",
            hint=f"Use one of: {supported}.",
        )
    return normalised


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the minor unit of ``currency`` (half up)."""
    exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def check_places(amount: Decimal, places: int, *, field: str) -> Decimal:
    """Refuse ``amount`` if it has more than ``places`` decimals (rather than rounding it away)."""
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(
            field,
            f"{amount} has more than {places} decimals",
            hint="Round it yourself, so the amount on the document is the one you meant.",
        )
    return amount


def parse_decimal(text: str, *, field: str) -> Decimal:
    """Parse a decimal number written with a point or a comma ("19.99", "19,99")."""
    cleaned = text.strip().replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(
            field, f"{text!r} is not a number", hint="Write it like 19.99."
        ) from None
    if not value.is_finite():
        raise InvalidInput(field, f"{text!r} is not a finite number")
    return value
