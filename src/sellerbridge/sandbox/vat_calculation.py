"""VCS with Amazon issuing the invoices: Amazon's invoice numbers and its VAT calculation report.

A seller enrolled in Amazon's VAT Calculation Service (VCS) who lets Amazon issue the invoices
("VCS option 1") issues none of its own: Amazon invoices every shipment in the seller's name and
lists its invoices in the Amazon VAT Calculation Report, ``SC_VAT_TAX_REPORT``, which a
connector reads to record them for the books.

Verified (sources named; facts only, no code copied):

- ``SC_VAT_TAX_REPORT`` is requested with ``createReport``; it holds "the invoice number, the
  invoice link, the buyer VAT, and ship-from/ship-to information" and orders appear in it
  "three days after shipment" (developer-docs.amazon.com/sp-api/docs/option-1-allow-amazon-to-
  create-invoices-for-you). It is a "comma-separated flat file report" of "buyer shipments,
  returns, and refunds", available on the DE, ES, IT, FR, NL, SE, PL, BE and UK marketplaces
  (…/sp-api/docs/report-type-values-tax). So the sandbox writes CSV, not tab-separated, and
  refuses other marketplaces (IE, US) with 400.
- Its document has personal data: Amazon's Tokens API use-case guide lists
  ``SC_VAT_TAX_REPORT`` among the report types whose ``getReportDocument`` needs a Restricted
  Data Token; :mod:`.reports` treats it as restricted.
- The fields and their meaning, from Seller Central's "Amazon VAT Calculation report field
  definitions" (help G4WG5HY2Y57L8EUP): ``Marketplace ID`` (DE/FR/UK…), ``Merchant ID``,
  ``Order Date``, ``Transaction Type`` (SHIPMENT/RETURN/REFUND), ``Is Invoice Corrected``
  (TRUE/FALSE), ``Order ID``, ``Shipment Date``, ``Shipment ID``, ``Transaction ID`` (for a
  shipment the shipment id; for a return or refund an alphanumeric id of its own), ``ASIN``,
  ``SKU``, ``Quantity``, ``Tax Calculation Date``, ``Tax Rate`` (a fraction, ``0.2``),
  ``Product Tax Code``, ``Currency``, ``Tax Type`` (VAT), ``Tax Calculation Reason Code``
  (Taxable…), ``Tax Address Role``, ``Jurisdiction Level`` (Country), ``Jurisdiction Name``.
  The full header, in its order, as real files have it (:data:`COLUMNS`, 72 columns, from a
  header table of a public importer of these files; the same names are read by several other
  public parsers): the fields above plus ``Tax Reporting Scheme`` and ``Tax Collection
  Responsibility`` after the reason code, the ``OUR_PRICE``/``SHIPPING``/``GIFTWRAP`` ``Tax
  Inclusive Selling Price``, ``Tax Amount``, ``Tax Exclusive Selling Price`` and their promo
  amounts, seller and buyer tax registrations, ``VAT Invoice Number``, ``Invoice Url``,
  ship-from and ship-to address parts, ``Is Amazon Invoiced``, ``Original VAT Invoice
  Number`` and the Italian e-invoice (SDI) columns. Amazon renamed "the e-invoicing columns"
  on 2026-01-01 (sp-api changelog); the new names could not be retrieved.
- Amazon's invoice numbers (since 2025-01-01) have 14 characters: the country (2), the last
  digit of the year (1), a base-36 sequence (5), the last 5 characters of the seller id and
  the document type: ``I`` invoice, ``C`` credit note (sp-api changelog; ``GB41WMTXK60R5I``).
- The report covers whole days: the time of ``dataStartTime``/``dataEndTime`` is ignored,
  both days are included, and a request whose end equals its start ends ``CANCELLED``
  (amzn/selling-partner-api-models#2720).

Chosen where Amazon's behaviour is unverified:

- the range limit: at most 31 days between ``dataStartTime`` and ``dataEndTime`` (400
  otherwise; none is documented); a day is a UTC day, and the day of a row is its shipment's
  (the transaction's) date;
- the invoice number's country is the seller's VAT registration country on the invoice, its
  ship-from country (one public sample pairs ``PL6…`` numbers with ship-from PL on amazon.de);
  one base-36 sequence per seller, country and year, counted from 1 in the order Amazon
  issues them: the sandbox issues them when it is next asked (a report or the admin view),
  for every dispatched shipment, oldest first;
- dates written ``28-Aug-2026 UTC`` (as public sample files and parsers of this report have
  them; the help page's examples say ``01/01/2020``); rates ``0.19``; flags ``TRUE``/``FALSE``
  as the help page writes them; promo amounts negative;
- ``Invoice Url`` points at ``https://vcs.sandbox.invalid/…``: a host that never resolves, as
  the sandbox serves no invoice PDFs; ``Tax Collection Responsibility`` ``Amazon`` for
  deliveries to Great Britain (Amazon collects the UK VAT) and ``Seller`` otherwise; ``Tax
  Reporting Scheme`` ``VCS_EU_OSS`` for OSS supplies, else empty; ``Product Tax Code``, the
  currency-conversion columns, the ship-from city, state and postal code and the SDI columns
  left empty; the seller's VAT number the one the VIDR shows;
- a refund shows after the same delay as a shipment;
- a seller not enrolled on a marketplace gets a ``CANCELLED`` report (no data); enrolled
  without Amazon invoicing (VCS option 2) gets the rows without invoice numbers, ``Is Amazon
  Invoiced`` ``FALSE``.

Refunds (:mod:`.finances`) of a shipment Amazon invoiced get Amazon's credit note (``C``,
numbered in the same sequence, after the shipments issued with it): ``REFUND`` rows, one per
refunded item, dated by the refund, with the refund's transaction id, the refunded shipment's
id and date, negative amounts (a refunded promotion positive) and the shipment's invoice as
``Original VAT Invoice Number``; ``Is Invoice Corrected`` stays ``FALSE`` (the flag's meaning
for refunds is unverified). ``RETURN`` rows (goods coming back) are not made.

Admin routes: ``PUT /_sandbox/sellers/{seller_id}/vcs`` with ``{"marketplaces": ["DE"],
"amazonInvoicing": true}`` enrols the seller on those marketplaces (``"since"``, an ISO time,
limits Amazon's invoices to shipments from then on; ``"enrolled": false`` leaves VCS);
``GET /_sandbox/sellers/{seller_id}/vcs`` shows the enrolment and every invoice Amazon issued,
with when the report shows it.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from sellerbridge.sandbox.admin import json_body, marketplace_ids
from sellerbridge.sandbox.errors import invalid_input
from sellerbridge.sandbox.finances import Refund, order_refunds
from sellerbridge.sandbox.framework import Api, iso, parse_time
from sellerbridge.sandbox.marketplaces import BY_CODE, BY_ID, EU_COUNTRIES
from sellerbridge.sandbox.order_records import ZERO, Order, OrderItem, TaxTreatment
from sellerbridge.sandbox.vat_invoices import Shipment, order_shipments, seller_orders

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox
    from sellerbridge.sandbox.reports import Report

api = Api()

REPORT_TYPE = "SC_VAT_TAX_REPORT"
MARKETPLACE_IDS = frozenset(
    BY_CODE[code].id for code in ("DE", "ES", "IT", "FR", "NL", "SE", "PL", "BE", "UK")
)
MAX_RANGE = timedelta(days=31)
CSV = "text/csv; charset=UTF-8"
INVOICE_URL = "https://vcs.sandbox.invalid/invoices/{number}.pdf"
INVOICE, CREDIT_NOTE = "I", "C"
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SEQUENCE_DIGITS = 5
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

COLUMNS = (
    "Marketplace ID", "Merchant ID", "Order Date", "Transaction Type", "Is Invoice Corrected",
    "Order ID", "Shipment Date", "Shipment ID", "Transaction ID", "ASIN", "SKU", "Quantity",
    "Tax Calculation Date", "Tax Rate", "Product Tax Code", "Currency", "Tax Type",
    "Tax Calculation Reason Code", "Tax Reporting Scheme", "Tax Collection Responsibility",
    "Tax Address Role", "Jurisdiction Level", "Jurisdiction Name",
    "OUR_PRICE Tax Inclusive Selling Price", "OUR_PRICE Tax Amount",
    "OUR_PRICE Tax Exclusive Selling Price", "OUR_PRICE Tax Inclusive Promo Amount",
    "OUR_PRICE Tax Amount Promo", "OUR_PRICE Tax Exclusive Promo Amount",
    "SHIPPING Tax Inclusive Selling Price", "SHIPPING Tax Amount",
    "SHIPPING Tax Exclusive Selling Price", "SHIPPING Tax Inclusive Promo Amount",
    "SHIPPING Tax Amount Promo", "SHIPPING Tax Exclusive Promo Amount",
    "GIFTWRAP Tax Inclusive Selling Price", "GIFTWRAP Tax Amount",
    "GIFTWRAP Tax Exclusive Selling Price", "GIFTWRAP Tax Inclusive Promo Amount",
    "GIFTWRAP Tax Amount Promo", "GIFTWRAP Tax Exclusive Promo Amount",
    "Seller Tax Registration", "Seller Tax Registration Jurisdiction", "Buyer Tax Registration",
    "Buyer Tax Registration Jurisdiction", "Buyer Tax Registration Type",
    "Buyer E Invoice Account Id", "Invoice Level Currency Code", "Invoice Level Exchange Rate",
    "Invoice Level Exchange Rate Date", "Converted Tax Amount", "VAT Invoice Number",
    "Invoice Url", "Export Outside EU", "Ship From City", "Ship From State", "Ship From Country",
    "Ship From Postal Code", "Ship From Tax Location Code", "Ship To City", "Ship To State",
    "Ship To Country", "Ship To Postal Code", "Ship To Location Code", "Return Fc Country",
    "Is Amazon Invoiced", "Original VAT Invoice Number", "Invoice Correction Details",
    "SDI Invoice Delivery Status", "SDI Invoice Error Code", "SDI Invoice Error Description",
    "SDI Invoice Status Last Updated Date", "EInvoice URL",
)  # fmt: skip
"""The report's header, in its order (see the module docstring)."""

# Jurisdiction names as the report writes them (a public sample: GERMANY).
COUNTRY_NAMES = {
    "AT": "AUSTRIA", "BE": "BELGIUM", "BG": "BULGARIA", "CY": "CYPRUS", "CZ": "CZECH REPUBLIC",
    "DE": "GERMANY", "DK": "DENMARK", "EE": "ESTONIA", "ES": "SPAIN", "FI": "FINLAND",
    "FR": "FRANCE", "GR": "GREECE", "HR": "CROATIA", "HU": "HUNGARY", "IE": "IRELAND",
    "IT": "ITALY", "LT": "LITHUANIA", "LU": "LUXEMBOURG", "LV": "LATVIA", "MT": "MALTA",
    "NL": "NETHERLANDS", "PL": "POLAND", "PT": "PORTUGAL", "RO": "ROMANIA", "SE": "SWEDEN",
    "SI": "SLOVENIA", "SK": "SLOVAKIA", "GB": "UNITED KINGDOM",
}  # fmt: skip


class VcsEnrolment(BaseModel):
    """A seller's VCS choice on one marketplace."""

    amazon_invoicing: bool
    """Amazon issues the invoices (option 1); otherwise the seller uploads its own (option 2)."""
    since: datetime | None = None
    """Amazon invoices the shipments dispatched from then on (None: every shipment)."""


class AmazonInvoice(BaseModel):
    """An invoice (or credit note) Amazon issued in a seller's name."""

    invoice_number: str
    seller_id: str
    marketplace_id: str
    order_id: str
    shipment_id: str
    transaction_id: str
    transaction_type: str
    issued_at: datetime


class VatCalculationState(BaseModel):
    enrolments: dict[str, dict[str, VcsEnrolment]] = Field(default_factory=dict)
    """Per seller id, per marketplace id."""
    invoices: dict[str, AmazonInvoice] = Field(default_factory=dict)
    """By seller id and transaction id (:func:`_key`)."""
    sequences: dict[str, int] = Field(default_factory=dict)
    """The last number used, per seller, country and year digit."""


def _key(seller_id: str, transaction_id: str) -> str:
    return f"{seller_id}/{transaction_id}"


# --- Amazon's invoice numbers --------------------------------------------------------------


def base36(value: int, digits: int = _SEQUENCE_DIGITS) -> str:
    if not 0 <= value < len(_BASE36) ** digits:
        raise ValueError(f"{value} does not fit in {digits} base-36 digits")
    text = ""
    while value:
        value, digit = divmod(value, len(_BASE36))
        text = _BASE36[digit] + text
    return text.rjust(digits, "0")


def invoice_number(country: str, year: int, sequence: int, seller_id: str, kind: str) -> str:
    """Amazon's 14-character number: country, year digit, sequence, seller id tail, type."""
    return f"{country}{year % 10}{base36(sequence)}{seller_id[-5:].upper()}{kind}"


def _next_number(sandbox: Sandbox, seller_id: str, country: str, at: datetime, kind: str) -> str:
    state = sandbox.state.vat_calculation
    sequence_key = f"{seller_id}/{country}{at.year % 10}"
    state.sequences[sequence_key] = state.sequences.get(sequence_key, 0) + 1
    return invoice_number(country, at.year, state.sequences[sequence_key], seller_id, kind)


def _amazon_invoicing(
    sandbox: Sandbox, seller_id: str, marketplace_id: str, shipped_at: datetime
) -> bool:
    enrolment = sandbox.state.vat_calculation.enrolments.get(seller_id, {}).get(marketplace_id)
    return (
        enrolment is not None
        and enrolment.amazon_invoicing
        and (enrolment.since is None or shipped_at >= enrolment.since)
    )


def issue_invoices(sandbox: Sandbox, seller_id: str) -> None:
    """Amazon invoices every dispatched shipment of the seller's marketplaces under option 1,
    then credits every refund of a shipment it invoiced; each once, oldest first."""
    state = sandbox.state.vat_calculation
    if not any(e.amazon_invoicing for e in state.enrolments.get(seller_id, {}).values()):
        return
    orders = list(seller_orders(sandbox, seller_id))
    shipments = sorted(
        (
            shipment
            for order in orders
            for shipment in order_shipments(order)
            if _key(seller_id, shipment.shipment_id) not in state.invoices
            and _amazon_invoicing(sandbox, seller_id, order.marketplace_id, shipment.shipped_at)
        ),
        key=lambda shipment: (shipment.shipped_at, shipment.shipment_id),
    )
    for shipment in shipments:
        _issue(sandbox, shipment.order, shipment.shipment_id, shipment.shipment_id, "SHIPMENT",
               shipment.shipped_at)  # fmt: skip
    refunds = sorted(
        (
            refund
            for order in orders
            for refund in order_refunds(sandbox, order.order_id)
            if _key(seller_id, refund.transaction_id) not in state.invoices
            and _key(seller_id, refund.shipment_ids[0]) in state.invoices
        ),
        key=lambda refund: (refund.posted_at, refund.number),
    )
    for refund in refunds:
        order = sandbox.state.orders.orders[refund.order_id]
        _issue(sandbox, order, refund.shipment_ids[0], refund.transaction_id, "REFUND",
               refund.posted_at)  # fmt: skip


def _issue(
    sandbox: Sandbox,
    order: Order,
    shipment_id: str,
    transaction_id: str,
    transaction_type: str,
    at: datetime,
) -> None:
    kind = CREDIT_NOTE if transaction_type == "REFUND" else INVOICE
    sandbox.state.vat_calculation.invoices[_key(order.seller_id, transaction_id)] = AmazonInvoice(
        invoice_number=_next_number(sandbox, order.seller_id, order.ship_from_country, at, kind),
        seller_id=order.seller_id,
        marketplace_id=order.marketplace_id,
        order_id=order.order_id,
        shipment_id=shipment_id,
        transaction_id=transaction_id,
        transaction_type=transaction_type,
        issued_at=at,
    )


def shown_from(sandbox: Sandbox, shipped_at: datetime) -> datetime:
    """When the report shows a shipment: Amazon's delay after it, at the sandbox's pace."""
    return sandbox.due(shipped_at, sandbox.config.vcs_invoice_delay_seconds)


# --- the report ----------------------------------------------------------------------------


def check_request(marketplace_ids: list[str], start: datetime, end: datetime) -> None:
    """What ``createReport`` refuses for this report type (400)."""
    if any(marketplace_id not in MARKETPLACE_IDS for marketplace_id in marketplace_ids):
        raise invalid_input(
            "Provided MarketplaceIdList is invalid.",
            "The Amazon VAT Calculation Report covers DE, ES, IT, FR, NL, SE, PL, BE and UK.",
        )
    if end - start > MAX_RANGE:
        raise invalid_input(
            f"The maximum date range for {REPORT_TYPE} is 31 days. "
            "Try again with a shorter date range."
        )


def generate(sandbox: Sandbox, report: Report, at: datetime) -> tuple[bytes, str] | None:
    """The report's CSV: one row per item of each shipment dispatched, and each refund posted,
    on the days of the range and shown by ``at``; ``None`` (cancelled) without any, or for an
    empty range."""
    if report.data_end_time <= report.data_start_time:
        return None
    first, last = report.data_start_time.date(), report.data_end_time.date()

    def reported(when: datetime) -> bool:
        return first <= when.date() <= last and at >= shown_from(sandbox, when)

    seller_id = report.seller_id
    issue_invoices(sandbox, seller_id)
    enrolments = sandbox.state.vat_calculation.enrolments.get(seller_id, {})
    invoices = sandbox.state.vat_calculation.invoices
    transactions: list[tuple[datetime, str, list[dict[str, str]]]] = []
    for order in seller_orders(sandbox, seller_id):
        if (
            order.marketplace_id not in report.marketplace_ids
            or order.marketplace_id not in enrolments
        ):
            continue
        shipments = {shipment.shipment_id: shipment for shipment in order_shipments(order)}
        for shipment in shipments.values():
            if reported(shipment.shipped_at):
                invoice = invoices.get(_key(seller_id, shipment.shipment_id))
                rows = [_row(sandbox, shipment, line, invoice) for line in shipment.lines]
                transactions.append((shipment.shipped_at, shipment.shipment_id, rows))
        for refund in order_refunds(sandbox, order.order_id):
            if reported(refund.posted_at):
                rows = _refund_rows(sandbox, refund, shipments)
                transactions.append((refund.posted_at, refund.transaction_id, rows))
    if not transactions:
        return None
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS)
    writer.writeheader()
    for _, _, rows in sorted(transactions, key=lambda transaction: transaction[:2]):
        writer.writerows(rows)
    return output.getvalue().encode("utf-8"), CSV


def _refund_rows(
    sandbox: Sandbox, refund: Refund, shipments: dict[str, Shipment]
) -> list[dict[str, str]]:
    """A ``REFUND`` row per refunded item: amounts negative (a refunded promotion positive),
    with Amazon's credit note, which names the shipment's invoice."""
    invoices = sandbox.state.vat_calculation.invoices
    credit_note = invoices.get(_key(refund.seller_id, refund.transaction_id))
    rows = []
    for line in refund.lines:
        shipment = shipments[line.shipment_id]
        item = shipment.order.item(line.order_item_id)
        assert item is not None  # a refund names items of its order
        invoice = invoices.get(_key(refund.seller_id, line.shipment_id))
        row = _row(sandbox, shipment, item, credit_note)
        row.update(
            {
                "Transaction Type": "REFUND",
                "Transaction ID": refund.transaction_id,
                "Quantity": str(line.quantity),
                "Tax Calculation Date": _day(refund.posted_at),
                **_charge("OUR_PRICE", -line.item_price, -line.item_tax,
                          -line.promotion_discount, -line.promotion_discount_tax),
                **_charge("SHIPPING", -line.shipping_price, -line.shipping_tax,
                          -line.shipping_discount, -line.shipping_discount_tax),
                **_charge("GIFTWRAP", ZERO, ZERO, ZERO, ZERO),
                "Original VAT Invoice Number": invoice.invoice_number if invoice else "",
            }
        )  # fmt: skip
        rows.append(row)
    return rows


def _day(value: datetime) -> str:
    """``28-Aug-2026 UTC``, whatever the locale."""
    day: date = value.date()
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year} UTC"


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _negative(amount: Decimal) -> str:
    return _money(ZERO - amount)


def _flag(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _charge(
    prefix: str, gross: Decimal, tax: Decimal, promo: Decimal, promo_tax: Decimal
) -> dict[str, str]:
    return {
        f"{prefix} Tax Inclusive Selling Price": _money(gross),
        f"{prefix} Tax Amount": _money(tax),
        f"{prefix} Tax Exclusive Selling Price": _money(gross - tax),
        f"{prefix} Tax Inclusive Promo Amount": _negative(promo),
        f"{prefix} Tax Amount Promo": _negative(promo_tax),
        f"{prefix} Tax Exclusive Promo Amount": _negative(promo - promo_tax),
    }


def _row(
    sandbox: Sandbox, shipment: Shipment, line: OrderItem, invoice: AmazonInvoice | None
) -> dict[str, str]:
    # The seller's VAT number as the VIDR shows it; imported here, as reports imports this
    # module to register the report type.
    from sellerbridge.sandbox.reports import seller_vat_number  # noqa: PLC0415

    order = shipment.order
    address = order.shipping_address
    treatment = order.tax_treatment
    ship_from, ship_to = order.ship_from_country, address.country_code
    jurisdiction = ship_from if treatment is TaxTreatment.INTRA_COMMUNITY else ship_to
    shipped = _day(shipment.shipped_at)
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        {
            "Marketplace ID": BY_ID[order.marketplace_id].code,
            "Merchant ID": order.seller_id,
            "Order Date": _day(order.created_time),
            "Transaction Type": "SHIPMENT",
            "Is Invoice Corrected": _flag(False),
            "Order ID": order.order_id,
            "Shipment Date": shipped,
            "Shipment ID": shipment.shipment_id,
            "Transaction ID": shipment.shipment_id,
            "ASIN": line.asin,
            "SKU": line.seller_sku,
            "Quantity": str(line.quantity),
            "Tax Calculation Date": shipped,
            "Tax Rate": format((line.vat_rate / 100).normalize(), "f"),
            "Currency": order.currency,
            "Tax Type": "VAT",
            "Tax Calculation Reason Code": "Taxable"
            if line.vat_rate or treatment is TaxTreatment.INTRA_COMMUNITY
            else "NonTaxable",
            "Tax Reporting Scheme": "VCS_EU_OSS" if treatment is TaxTreatment.OSS else "",
            "Tax Collection Responsibility": "Amazon"
            if treatment is TaxTreatment.UK_MARKETPLACE
            else "Seller",
            "Tax Address Role": "ShipTo",
            "Jurisdiction Level": "Country",
            "Jurisdiction Name": COUNTRY_NAMES.get(jurisdiction, jurisdiction),
            **_charge("OUR_PRICE", line.item_price, line.item_tax, line.promotion_discount,
                      line.promotion_discount_tax),
            **_charge("SHIPPING", line.shipping_price, line.shipping_tax, line.shipping_discount,
                      line.shipping_discount_tax),
            **_charge("GIFTWRAP", line.gift_wrap_price, line.gift_wrap_tax, ZERO, ZERO),
            "Seller Tax Registration": seller_vat_number(
                sandbox.config.seed, order.seller_id, ship_from
            ),
            "Seller Tax Registration Jurisdiction": ship_from,
            "Buyer Tax Registration": order.buyer_vat_number or "",
            "Buyer Tax Registration Jurisdiction": (order.buyer_vat_number or "")[:2],
            "Buyer Tax Registration Type": "VAT" if order.buyer_vat_number else "",
            "VAT Invoice Number": invoice.invoice_number if invoice else "",
            "Invoice Url": INVOICE_URL.format(number=invoice.invoice_number) if invoice else "",
            "Export Outside EU": _flag(ship_from in EU_COUNTRIES and ship_to not in EU_COUNTRIES),
            "Ship From Country": ship_from,
            "Ship To City": address.city,
            "Ship To State": address.state_or_region or "",
            "Ship To Country": ship_to,
            "Ship To Postal Code": address.postal_code,
            "Is Amazon Invoiced": _flag(invoice is not None),
        }
    )  # fmt: skip
    return row


# --- admin ---------------------------------------------------------------------------------


@api.admin("PUT", "/_sandbox/sellers/{seller_id}/vcs")
async def set_vcs(sandbox: Sandbox, request: Request) -> Any:
    """Enrol a seller in VCS on marketplaces: ``{"marketplaces": ["DE"], "amazonInvoicing":
    true}``, optionally ``"since"`` (Amazon invoices shipments from then on) or ``"enrolled":
    false`` (leave VCS there)."""
    seller = sandbox.known_seller(request.path_params["seller_id"])
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("marketplaces"), list):
        raise invalid_input('Send {"marketplaces": ["DE", ...], "amazonInvoicing": true}.')
    enrolled = body.get("enrolled", True)
    amazon_invoicing = body.get("amazonInvoicing")
    if not isinstance(enrolled, bool) or (enrolled and not isinstance(amazon_invoicing, bool)):
        raise invalid_input("amazonInvoicing (and enrolled, if given) are true or false.")
    since = parse_time(body["since"], "since") if body.get("since") is not None else None
    targets = marketplace_ids([str(code) for code in body["marketplaces"]])
    unknown = [mid for mid in targets if mid not in seller.marketplace_ids]
    if unknown:
        raise invalid_input(f"{seller.seller_id} does not sell on {', '.join(unknown)}.")
    outside = [mid for mid in targets if mid not in MARKETPLACE_IDS]
    if outside:
        raise invalid_input(f"VCS is not offered on {', '.join(outside)}.")
    enrolments = sandbox.state.vat_calculation.enrolments.setdefault(seller.seller_id, {})
    for marketplace_id in targets:
        if enrolled:
            enrolments[marketplace_id] = VcsEnrolment(
                amazon_invoicing=bool(amazon_invoicing), since=since
            )
        else:
            enrolments.pop(marketplace_id, None)
    return _enrolments_view(sandbox, seller.seller_id)


@api.admin("GET", "/_sandbox/sellers/{seller_id}/vcs")
def get_vcs(sandbox: Sandbox, request: Request) -> Any:
    """The seller's enrolments and every invoice Amazon issued for it, oldest first, with
    ``shownFrom``: when the VAT calculation report lists it."""
    seller = sandbox.known_seller(request.path_params["seller_id"])
    issue_invoices(sandbox, seller.seller_id)
    invoices = [
        invoice
        for invoice in sandbox.state.vat_calculation.invoices.values()
        if invoice.seller_id == seller.seller_id
    ]
    return {
        "enrolments": _enrolments_view(sandbox, seller.seller_id),
        "invoices": [
            {
                "invoiceNumber": invoice.invoice_number,
                "marketplaceId": invoice.marketplace_id,
                "orderId": invoice.order_id,
                "shipmentId": invoice.shipment_id,
                "transactionId": invoice.transaction_id,
                "transactionType": invoice.transaction_type,
                "issuedAt": iso(invoice.issued_at),
                "shownFrom": iso(shown_from(sandbox, invoice.issued_at)),
            }
            for invoice in sorted(invoices, key=lambda i: (i.issued_at, i.invoice_number))
        ],
    }


def _enrolments_view(sandbox: Sandbox, seller_id: str) -> dict[str, Any]:
    return {
        marketplace_id: {
            "amazonInvoicing": enrolment.amazon_invoicing,
            "since": iso(enrolment.since) if enrolment.since else None,
        }
        for marketplace_id, enrolment in sandbox.state.vat_calculation.enrolments.get(
            seller_id, {}
        ).items()
    }
