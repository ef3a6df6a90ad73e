"""Articles: what the merchant sells, as the ERP knows it.

An article is identified by its article number (on Amazon: the seller SKU, once bound). It is
either stock-tracked (on-hand comes from the stock ledger), not tracked (services, digital
goods: always available), or a bundle whose availability comes from its components.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

from sellerbridge.core.errors import InvalidFields, InvalidInput, Problems
from sellerbridge.core.tax import TaxClass

_T = TypeVar("_T")

ARTICLE_NUMBER_MAX = 40
NAME_MAX = 255
_ARTICLE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")
_TRUE = {"1", "true", "yes", "y", "ja", "x"}
_FALSE = {"", "0", "false", "no", "n", "nein"}

CSV_COLUMNS = (
    "article_number",
    "name",
    "gtin",
    "tax_class",
    "weight_g",
    "stock_tracked",
    "allow_backorder",
    "components",
)
REQUIRED_CSV_COLUMNS = ("article_number", "name")


@dataclass(frozen=True)
class Component:
    article_number: str
    quantity: int


_NO_COMPONENTS: tuple[Component, ...] = ()


@dataclass(frozen=True)
class ArticleSpec:
    """An article as the user describes it; validated on construction via :func:`article_spec`."""

    number: str
    name: str
    gtin: str | None = None
    tax_class: TaxClass = TaxClass.STANDARD
    weight_g: int | None = None
    stock_tracked: bool = True
    allow_backorder: bool = False
    components: tuple[Component, ...] = ()

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


def check_article_number(text: str, *, field: str = "article_number") -> str:
    number = text.strip()
    if not number:
        raise InvalidInput(field, "is empty", hint="Every article needs an article number.")
    if len(number) > ARTICLE_NUMBER_MAX:
        raise InvalidInput(field, f"{number!r} is longer than {ARTICLE_NUMBER_MAX} characters")
    if not _ARTICLE_NUMBER.match(number):
        raise InvalidInput(
            field,
            f"{number!r} contains characters an article number cannot have",
            hint="Use letters, digits and . _ / - and start with a letter or digit.",
        )
    return number


def check_name(text: str, *, field: str = "name") -> str:
    name = text.strip()
    if not name:
        raise InvalidInput(field, "is empty", hint="Give the article a name.")
    if len(name) > NAME_MAX:
        raise InvalidInput(field, f"is longer than {NAME_MAX} characters")
    return name


def check_gtin(text: str, *, field: str = "gtin") -> str:
    """Validate a GTIN/EAN (8, 12, 13 or 14 digits with a correct check digit)."""
    try:
        gtin: str = ean.validate(text)
    except StdnumValidationError as error:
        raise InvalidInput(
            field,
            f"{text!r} is not a valid GTIN/EAN ({str(error).lower().rstrip('.')})",
            hint="Copy the 8, 12, 13 or 14 digits from the barcode.",
        ) from None
    return gtin


def parse_flag(text: str, *, field: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(field, f"{text!r} is not yes or no", hint="Write yes/no, true/false or 1/0.")


def parse_components(text: str, *, field: str = "components") -> tuple[Component, ...]:
    """Parse ``"A-100:2; A-200:1"``: component article numbers with quantities."""
    components: list[Component] = []
    seen: set[str] = set()
    for part in filter(None, (chunk.strip() for chunk in text.split(";"))):
        number_text, _, quantity_text = part.partition(":")
        number = check_article_number(number_text, field=field)
        quantity = parse_int(quantity_text or "1", field=field, minimum=1)
        if number in seen:
            raise InvalidInput(field, f"{number} is listed twice", hint="List each component once.")
        seen.add(number)
        components.append(Component(number, quantity))
    return tuple(components)


def parse_int(text: str, *, field: str, minimum: int) -> int:
    """Parse a whole number of at least ``minimum``."""
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(field, f"{text!r} is not a whole number") from None
    if value < minimum:
        raise InvalidInput(field, f"{value} must be at least {minimum}")
    return value


def article_spec(
    *,
    number: str,
    name: str,
    gtin: str | None = None,
    tax_class: TaxClass = TaxClass.STANDARD,
    weight_g: int | None = None,
    stock_tracked: bool = True,
    allow_backorder: bool = False,
    components: tuple[Component, ...] = (),
) -> ArticleSpec:
    """Build an :class:`ArticleSpec`, checking every rule an article must satisfy on its own."""
    number = check_article_number(number)
    name = check_name(name)
    if gtin is not None:
        gtin = check_gtin(gtin)
    if weight_g is not None and weight_g < 0:
        raise InvalidInput("weight_g", f"{weight_g} must not be negative")
    if components:
        if any(component.article_number == number for component in components):
            raise InvalidInput("components", f"{number} cannot be a component of itself")
        # A bundle has no stock of its own: what it can offer follows from its components.
        stock_tracked = False
        allow_backorder = False
    return ArticleSpec(
        number=number,
        name=name,
        gtin=gtin,
        tax_class=tax_class,
        weight_g=weight_g,
        stock_tracked=stock_tracked,
        allow_backorder=allow_backorder,
        components=components,
    )


def article_spec_from_row(row: Mapping[str, str | None]) -> ArticleSpec:
    """Read one CSV row (columns :data:`CSV_COLUMNS`; empty cells take the defaults).

    Every invalid cell is reported, not just the first, so a user fixes a row in one go.
    """
    problems = Problems()

    def cell(column: str, parse: Callable[[str], _T], default: _T) -> _T:
        text = (row.get(column) or "").strip()
        if not text:
            return default
        value = problems.check(lambda: parse(text))
        return default if value is None else value

    number = cell("article_number", check_article_number, "")
    name = cell("name", check_name, "")
    for column, value in (("article_number", number), ("name", name)):
        if not value and not any(problem.field == column for problem in problems.found):
            problems.found.append(InvalidInput(column, "is empty"))
    gtin = cell("gtin", check_gtin, None)
    tax_class = cell("tax_class", TaxClass.parse, TaxClass.STANDARD)
    weight_g = cell("weight_g", partial(parse_int, field="weight_g", minimum=0), None)
    stock_tracked = cell("stock_tracked", partial(parse_flag, field="stock_tracked"), True)
    allow_backorder = cell("allow_backorder", partial(parse_flag, field="allow_backorder"), False)
    components = cell("components", parse_components, _NO_COMPONENTS)
    problems.raise_if_any()
    try:
        return article_spec(
            number=number,
            name=name,
            gtin=gtin,
            tax_class=tax_class,
            weight_g=weight_g,
            stock_tracked=stock_tracked,
            allow_backorder=allow_backorder,
            components=components,
        )
    except InvalidInput as problem:  # rules across fields, e.g. a bundle containing itself
        raise InvalidFields([problem]) from None
