"""Reports API 2021-06-30 and the four reports a connector needs from Amazon.

A report is asynchronous, as on Amazon: ``createReport`` answers 202 with a ``reportId``; the
report waits ``IN_QUEUE`` for the first quarter of ``report_processing_seconds`` (scaled by the
time scale), is ``IN_PROGRESS`` for the rest, and then ends ``DONE`` with a document behind a
pre-signed URL, or ``CANCELLED`` without one when there is no data, as Amazon's model defines
``CANCELLED`` ("an automatic cancellation if there is no data to return"). Only ``IN_QUEUE``
reports can be cancelled. ``getReports`` filters the seller's reports of the last 90 days
(newest first); its ``nextToken`` must then be the only parameter.

The reports:

``GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT`` (VIDR)
    Tab-separated, the columns of Amazon's attribute list in its order, one row per shipped
    order item per shipment (``transaction-type`` ``SHIPMENT``; the ``shipping-id`` and, as in
    Amazon's VAT reports, the ``transaction-id`` are the package's or FBA shipment's id). Amounts
    VAT-inclusive, VAT and VAT-exclusive for the item, its promotion, gift wrap and shipping,
    promotions negative, rates as Amazon writes them (``0.19``, ``0.2``; the orders keep them in
    percent). ``citation-*`` hold the
    exemption text of a 0 % intra-EU supply to a business with a VAT number. ``invoice-status``
    reflects the ``UPLOAD_VAT_INVOICE`` uploads (:mod:`.vat_invoices`): ``InvoicePending`` with
    "Shipment has been dispatched." before an upload and, after a rejected one, with the reason
    (Amazon keeps a rejected shipment in the pending view and explains it in
    ``invoice-status-description``); ``InvoiceUploaded`` with the invoice number once one is
    accepted. ``reportOptions`` ``ReportOption=pendingInvoices`` (or ``pendingInvoices``) true
    and no options both give the shipments of orders of the last 90 days without an accepted
    invoice; ``all`` true every shipment of the orders placed in [dataStartTime, dataEndTime],
    a range of at most 30 days (400 with Amazon's message otherwise). European marketplaces
    only ("Provided MarketplaceIdList is invalid."). Its document is restricted: the
    ``getReportDocument`` call needs a Restricted Data Token for that document's path.

``GET_V2_SELLER_PERFORMANCE_REPORT``
    JSON per Amazon's ``accountHealthReport-2020-11-18`` schema, one entry per requested
    marketplace. Rates, statuses and listing violations come from a per-seller, per-marketplace
    account-health record with healthy defaults, changed with ``PUT
    /_sandbox/sellers/{seller_id}/account-health``; order and shipment counts are those of the
    sandbox's orders in each metric's window, defect counts the rate applied to them. Targets
    are Amazon's policy values (ODR < 1 %, late shipment < 4 %, cancellation < 2.5 %, valid
    tracking > 95 %, invoice defects < 5 %); on-time delivery > 97 % and unit on-time delivery
    > 90 % are plausible values, unverified.

``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``
    Tab-separated, Amazon's columns in order, one row per order item of the orders last updated
    in [dataStartTime, dataEndTime]; no buyer data beyond ship city, state, postal code and
    country. Without ``dataStartTime`` the range is empty (the model's default start is "now"),
    so the report is cancelled, as Amazon cancels an order report without a valid range.

``GET_MERCHANT_LISTINGS_ALL_DATA`` (the All Listings Report)
    A snapshot of the seller's listings on one marketplace, for reconciling stock in one call
    instead of a ``getListingsItem`` per SKU. Verified:

    - tab-separated with a header row, and the 29 columns of Amazon's attribute list for this
      report, in its order (developer-docs.amazon.com/sp-api/docs/inventory-reports-attributes;
      the same list heads real files, e.g. a 2016 UK file in docs.zynk.com's "Exporting Reports
      from Amazon Marketplace"): ``item-name``, ``item-description``, ``listing-id``,
      ``seller-sku``, ``price``, ``quantity``, ``open-date``, ``image-url``,
      ``item-is-marketplace``, ``product-id-type``, ``zshop-shipping-fee``, ``item-note``,
      ``item-condition``, ``zshop-category1``, ``zshop-browse-path``,
      ``zshop-storefront-feature``, ``asin1``, ``asin2``, ``asin3``,
      ``will-ship-internationally``, ``expedited-shipping``, ``zshop-boldface``,
      ``product-id``, ``bid-for-featured-placement``, ``add-delete``, ``pending-quantity``,
      ``fulfillment-channel``, ``merchant-shipping-group``, ``status``. Real files can carry
      more columns after ``status`` (a 2025 UK file ends in ``Minimum order quantity`` and
      ``Sell remainder``; older ones had business-price columns), so read by column name;
    - every listing, active or not ("All Listings"), of the marketplace, whatever
      ``dataStartTime``/``dataEndTime`` say (amzn/selling-partner-api-models#2578: a range
      still gave all listings);
    - one marketplace per report: Amazon's page of inventory reports says for its listings
      report GET_FLAT_FILE_OPEN_LISTINGS_DATA that only the first of several ``marketplaceIds``
      is accepted, and users found this report with several holding one marketplace's data
      only (amzn/selling-partner-api-models#1998). The sandbox accepts several, as Amazon
      does, and reports the first; ``getReport`` still shows all it was asked for;
    - merchant-fulfilled rows (``fulfillment-channel`` ``DEFAULT``) carry the merchant's
      quantity and ``pending-quantity`` 0; Amazon-fulfilled rows (``AMAZON_EU``, ``AMAZON_NA``)
      an empty ``quantity`` and ``pending-quantity`` (both seen in real files: docs.zynk.com
      above, a 2025 UK file of AMAZON_EU rows). FBA stock is in the FBA inventory reports and
      ``getInventorySummaries``, not here;
    - ``item-is-marketplace`` ``y``, ``product-id-type`` 1 ASIN / 3 UPC / 4 EAN with the
      ``product-id`` (Seller Central help 200385890 "Active Listings Report"), ``item-condition``
      11 for new goods and ``status`` ``Active``/``Inactive`` (real files).

    Chosen: rows sorted by SKU; ``status`` ``Active`` while the listing is active and has stock
    to sell, else ``Inactive`` (Amazon's other reasons for inactive, and ``Incomplete``, do not
    arise); ``open-date`` is the listing's creation in UTC written like the help page's example
    (``2008-02-27 20:15:20 GMT``), where Amazon writes the marketplace's local time in its
    local date order (``29/09/2025 16:19:39 BST`` on amazon.co.uk); ``listing-id`` is the
    month and day of ``open-date`` and 7 letters and digits, the shape of real ids
    (``0929FIRW02F``), seeded per SKU and marketplace; ``price`` with two decimals (real files
    write whole prices without them, ``20``); ``merchant-shipping-group`` ``Migrated Template``
    for every row; ``product-id`` the listing's GTIN when it has one; the other columns empty;
    ``reportOptions`` (Amazon knows ``custom``) are ignored; a marketplace without listings
    gives a ``CANCELLED`` report.

Admin routes: ``PUT /_sandbox/sellers/{seller_id}/account-health`` (above) and ``GET
/_sandbox/invoices[?seller_id=...]``, every invoice upload as judged. The uploads live in this
module's state because the VIDR is where Amazon shows them.

Chosen where Amazon's behaviour is unverified: the queue share; that an empty VIDR is
cancelled like an empty order report; the ``InvoiceUploaded`` value; ``fulfilled-by`` written as
``AFN``/``MFN``; promotion discounts negative in the order report too; billing columns taken
from the shipping address (the sandbox keeps one address per order); ship-from beyond the
country left empty; seller VAT numbers made up per ship-from country in the right shape but
without valid check digits; documents above 100 kB stored GZIP-compressed
(``compressionAlgorithm``); ``enableContentEncodingUrlHeader`` accepted, the download served
without ``Content-Encoding`` all the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from starlette.requests import Request

from sellerbridge.sandbox import documents, feeds, vat_calculation, vat_invoices
from sellerbridge.sandbox.admin import json_body, marketplace_ids
from sellerbridge.sandbox.errors import ApiError, invalid_input, not_found
from sellerbridge.sandbox.finances import Refund, order_refunds
from sellerbridge.sandbox.framework import Api, Call, Reply, check_marketplaces, iso, parse_time
from sellerbridge.sandbox.history import ProcessingStatus, history_page, history_query
from sellerbridge.sandbox.listings import Listing, available, seller_listings
from sellerbridge.sandbox.marketplaces import BY_ID, EU_COUNTRIES, EUROPE
from sellerbridge.sandbox.order_records import (
    ZERO,
    FulfillmentStatus,
    Order,
    OrderItem,
    TaxTreatment,
)
from sellerbridge.sandbox.vat_invoices import (
    CREDIT_NOTE_PENDING,
    CREDIT_NOTE_UPLOADED,
    INVOICE_PENDING,
    INVOICE_UPLOADED,
    InvoiceUpload,
    Shipment,
    accepted_credit_notes,
    accepted_invoices,
    credit_note_rejections,
    order_shipments,
    rejections,
    seller_orders,
)

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()
logger = logging.getLogger("sellerbridge.sandbox")

VIDR = "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT"
SELLER_PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
MERCHANT_LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
RESTRICTED_REPORT_TYPES = frozenset({VIDR, vat_calculation.REPORT_TYPE})

QUEUE_SHARE = 0.25
"""The part of the processing time a report waits ``IN_QUEUE`` before it starts."""
VIDR_PENDING_WINDOW = timedelta(days=90)
VIDR_MAX_RANGE = timedelta(days=30)
TSV = "text/tab-separated-values; charset=UTF-8"


class Report(BaseModel):
    report_id: str
    seller_id: str
    report_type: str
    marketplace_ids: list[str]
    data_start_time: datetime
    data_end_time: datetime
    report_options: dict[str, str] = Field(default_factory=dict)
    created_time: datetime
    processing_status: ProcessingStatus = "IN_QUEUE"
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None
    report_document_id: str | None = None


class WarningState(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    warning_type: str
    status: Literal["GOOD", "BAD", "NONE"]


class AccountHealth(BaseModel):
    """A seller's account health on one marketplace; the defaults are a healthy account."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    account_status: Literal["NORMAL", "AT_RISK", "DEACTIVATED"] = "NORMAL"
    ahr_status: Literal["GREAT", "WARNED"] = "GREAT"
    order_defect_rate_mfn: float = Field(default=0.0, ge=0, le=1)
    order_defect_rate_afn: float = Field(default=0.0, ge=0, le=1)
    late_shipment_rate: float = Field(default=0.0, ge=0, le=1)
    pre_fulfillment_cancellation_rate: float = Field(default=0.0, ge=0, le=1)
    valid_tracking_rate: float = Field(default=1.0, ge=0, le=1)
    on_time_delivery_rate: float = Field(default=1.0, ge=0, le=1)
    unit_on_time_delivery_rate: float = Field(default=1.0, ge=0, le=1)
    invoice_defect_rate: float = Field(default=0.0, ge=0, le=1)
    listing_policy_violations: int = Field(default=0, ge=0)
    product_authenticity_customer_complaints: int = Field(default=0, ge=0)
    product_condition_customer_complaints: int = Field(default=0, ge=0)
    product_safety_customer_complaints: int = Field(default=0, ge=0)
    received_intellectual_property_complaints: int = Field(default=0, ge=0)
    restricted_product_policy_violations: int = Field(default=0, ge=0)
    suspected_intellectual_property_violations: int = Field(default=0, ge=0)
    food_and_product_safety_issues: int = Field(default=0, ge=0)
    other_policy_violations: int = Field(default=0, ge=0)
    document_requests: int = Field(default=0, ge=0)
    warning_states: list[WarningState] = Field(default_factory=list)


LISTING_VIOLATIONS = (
    "listing_policy_violations",
    "product_authenticity_customer_complaints",
    "product_condition_customer_complaints",
    "product_safety_customer_complaints",
    "received_intellectual_property_complaints",
    "restricted_product_policy_violations",
    "suspected_intellectual_property_violations",
    "food_and_product_safety_issues",
    "other_policy_violations",
    "document_requests",
)


class ReportsState(BaseModel):
    reports: dict[str, Report] = Field(default_factory=dict)
    queue: list[str] = Field(default_factory=list)
    """Reports not finished yet, oldest first."""
    account_health: dict[str, dict[str, AccountHealth]] = Field(default_factory=dict)
    """Per seller id, per marketplace id; a missing record is a healthy account."""
    invoices: list[InvoiceUpload] = Field(default_factory=list)
    """Every ``UPLOAD_VAT_INVOICE`` upload (see :mod:`.vat_invoices`); the VIDR shows them."""
    refunds: dict[str, list[Refund]] = Field(default_factory=dict)
    """Per order id, its refunds (see :mod:`.finances`): the VIDR lists them and credit notes
    are judged against them, so they are kept beside the uploads."""


# --- helpers ---------------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _negative(amount: Decimal) -> str:
    return _money(ZERO - amount)


def _rate(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _tsv(columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> bytes:
    """A flat file as Amazon writes them: a header row, tab-separated, no quoting."""

    def clean(value: str) -> str:
        return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")

    separators = len(columns) - 1
    lines = ["\t".join(columns)]
    for row in rows:
        line = "\t".join([row[column] for column in columns])
        if line.count("\t") != separators or "\n" in line or "\r" in line:  # rare: clean
            line = "\t".join([clean(row[column]) for column in columns])
        lines.append(line)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _report(call: Call, report_id: str) -> Report:
    report = call.sandbox.state.reports.reports.get(report_id)
    if report is None or report.seller_id != call.seller.seller_id:
        raise not_found(f"Report {report_id} was not found.")
    return report


def _render(report: Report) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reportId": report.report_id,
        "reportType": report.report_type,
        "marketplaceIds": report.marketplace_ids,
        "dataStartTime": iso(report.data_start_time),
        "dataEndTime": iso(report.data_end_time),
        "createdTime": iso(report.created_time),
        "processingStatus": report.processing_status,
    }
    if report.processing_start_time is not None:
        body["processingStartTime"] = iso(report.processing_start_time)
    if report.processing_end_time is not None:
        body["processingEndTime"] = iso(report.processing_end_time)
    if report.report_document_id is not None:
        body["reportDocumentId"] = report.report_document_id
    return body


# --- operations ------------------------------------------------------------------------------


@api.operation("reports.createReport")
def create_report(call: Call) -> Reply:
    body = call.body
    report_type: str = body["reportType"]
    if report_type not in GENERATORS:
        raise invalid_input(
            f"The sandbox does not generate reports of type {report_type}.",
            f"Supported report types: {', '.join(sorted(GENERATORS))}.",
        )
    requested: list[str] = body["marketplaceIds"]
    check_marketplaces(call.seller, requested)
    start = (
        parse_time(body["dataStartTime"], "dataStartTime") if "dataStartTime" in body else call.now
    )
    end = parse_time(body["dataEndTime"], "dataEndTime") if "dataEndTime" in body else call.now
    if start > call.now or end > call.now:
        raise invalid_input("dataStartTime and dataEndTime must not be in the future.")
    if end < start:
        raise invalid_input("Provided dataEndTime is before the dataStartTime.")
    options: dict[str, str] = body.get("reportOptions", {})
    if report_type == VIDR:
        _check_vidr_request(requested, options, start, end)
    elif report_type == vat_calculation.REPORT_TYPE:
        vat_calculation.check_request(requested, start, end)
    report = Report(
        report_id=str(50_000_000_000 + call.sandbox.next_number()),
        seller_id=call.seller.seller_id,
        report_type=report_type,
        marketplace_ids=requested,
        data_start_time=start,
        data_end_time=end,
        report_options=options,
        created_time=call.now,
    )
    state = call.sandbox.state.reports
    state.reports[report.report_id] = report
    state.queue.append(report.report_id)
    return Reply(status=202, body={"reportId": report.report_id})


@api.operation("reports.getReport")
def get_report(call: Call) -> Reply:
    return Reply(body=_render(_report(call, call.path["reportId"])))


@api.operation("reports.cancelReport")
def cancel_report(call: Call) -> Reply:
    report = _report(call, call.path["reportId"])
    if report.processing_status != "IN_QUEUE":
        raise invalid_input(
            f"Report {report.report_id} is {report.processing_status}: only reports with "
            "processingStatus IN_QUEUE can be cancelled."
        )
    report.processing_status = "CANCELLED"
    call.sandbox.state.reports.queue.remove(report.report_id)
    return Reply(status=200)


@api.operation("reports.getReports")
def get_reports(call: Call) -> Reply:
    page, next_token = history_page(
        call,
        history_query(call, "reportTypes"),
        call.sandbox.state.reports.reports.values(),
        number=lambda report: int(report.report_id),
        kind=lambda report: report.report_type,
    )
    body: dict[str, Any] = {"reports": [_render(report) for report in page]}
    if next_token:
        body["nextToken"] = next_token
    return Reply(body=body)


@api.operation("reports.getReportDocument")
def get_report_document(call: Call) -> Reply:
    document_id = call.path["reportDocumentId"]
    report = next(
        (
            report
            for report in call.sandbox.state.reports.reports.values()
            if report.report_document_id == document_id
            and report.seller_id == call.seller.seller_id
        ),
        None,
    )
    if report is None:
        raise not_found(f"Report document {document_id} was not found.")
    if report.report_type in RESTRICTED_REPORT_TYPES and call.sandbox.config.require_rdt:
        call.sandbox.check_restricted(call.token, "GET", call.request.url.path)
    encoding_header = call.query("enableContentEncodingUrlHeader")
    if encoding_header not in (None, "true", "false"):
        raise invalid_input("enableContentEncodingUrlHeader must be true or false.")
    document = call.sandbox.state.documents.documents[document_id]
    body = {
        "reportDocumentId": document_id,
        "url": documents.presigned_url(call.sandbox, call.base_url, document, call.now),
    }
    if document.compression is not None:
        body["compressionAlgorithm"] = document.compression
    return Reply(body=body)


# --- processing --------------------------------------------------------------------------------


def _advance(sandbox: Sandbox, now: datetime) -> None:
    state = sandbox.state.reports
    seconds = sandbox.config.report_processing_seconds
    for report_id in list(state.queue):
        report = state.reports[report_id]
        started = sandbox.due(report.created_time, seconds * QUEUE_SHARE)
        if report.processing_status == "IN_QUEUE" and now >= started:
            report.processing_status = "IN_PROGRESS"
            report.processing_start_time = started
        finished = sandbox.due(report.created_time, seconds)
        if report.processing_status == "IN_PROGRESS" and now >= finished:
            _finish(sandbox, report, finished)
            state.queue.remove(report_id)


def _finish(sandbox: Sandbox, report: Report, at: datetime) -> None:
    report.processing_end_time = at
    try:
        generated = GENERATORS[report.report_type](sandbox, report, at)
    except Exception:  # a generator's bug must not stop every later request
        logger.exception("generating report %s failed", report.report_id)
        report.processing_status = "FATAL"
        return
    if generated is None:
        report.processing_status = "CANCELLED"
        return
    content, content_type = generated
    document = documents.create(
        sandbox,
        seller_id=report.seller_id,
        purpose="report",
        content_type=content_type,
        now=at,
        content=content,
    )
    report.report_document_id = document.document_id
    report.processing_status = "DONE"


def setup(sandbox: Sandbox) -> None:
    feeds.register_processor(vat_invoices.FEED_TYPE, vat_invoices.process_invoice)
    sandbox.on_advance(_advance)


# --- the VAT invoice data report -------------------------------------------------------------

VIDR_COLUMNS = (
    "marketplace-id", "order-id", "order-item-id", "shipping-id", "transaction-id",
    "transaction-type", "invoice-number", "invoice-status", "invoice-status-description",
    "is-amazon-invoiced", "order-date", "shipment-date", "buyer-vat-number",
    "seller-vat-number", "asin", "sku", "product-name", "quantity-purchased", "currency",
    "item-vat-incl-amount", "item-vat-amount", "item-vat-excl-amount", "item-vat-rate",
    "item-promo-vat-incl-amount", "item-promo-vat-excl-amount", "item-promo-vat-amount",
    "item-promo-vat-rate", "item-promotion-id", "gift-wrap-vat-incl-amount",
    "gift-wrap-vat-amount", "gift-wrap-vat-excl-amount", "gift-wrap-vat-rate",
    "gift-promo-vat-incl-amount", "gift-promo-vat-excl-amount", "gift-promo-vat-amount",
    "gift-promo-vat-rate", "gift-promotion-id", "shipping-vat-incl-amount",
    "shipping-vat-amount", "shipping-vat-excl-amount", "shipping-vat-rate",
    "shipping-promo-vat-incl-amount", "shipping-promo-vat-excl-amount",
    "shipping-promo-vat-amount", "shipping-promo-vat-rate", "ship-promotion-id",
    "is-business-order", "price-designation", "purchase-order-number", "recipient-name",
    "ship-service-level", "fulfilled-by", "ship-address-1", "ship-address-2", "ship-address-3",
    "ship-city", "ship-state", "ship-postal-code", "ship-country", "ship-phone-number",
    "ship-from-country", "ship-from-state", "ship-from-city", "ship-from-postal-code",
    "billing-name", "bill-address-1", "bill-address-2", "bill-address-3", "bill-city",
    "bill-state", "bill-postal-code", "bill-country", "billing-phone-number", "buyer-name",
    "buyer-company-name", "legacy-customer-order-item-id", "recommended-invoice-format",
    "buyer-tax-registration-type", "buyer-e-invoice-account-id", "is-buyer-physically-present",
    "is-seller-physically-present", "citation-es", "citation-it", "citation-fr", "citation-de",
    "citation-en", "export-outside-eu", "is-invoice-corrected", "original-vat-invoice-number",
    "invoice-correction-details",
)  # fmt: skip

VIDR_MARKETPLACE_IDS = frozenset(marketplace.id for marketplace in EUROPE)
VIDR_OPTIONS = ("pendinginvoices", "all")


# The legal note an invoice of a 0 % intra-Community supply to a business must carry
# (Art. 138 and 226(11) of Council Directive 2006/112/EC); Amazon's own wording is unknown.
INTRA_EU_CITATIONS = {
    "citation-es": "Entrega intracomunitaria exenta de IVA (art. 138 Directiva 2006/112/CE). "
    "Inversión del sujeto pasivo.",
    "citation-it": "Cessione intracomunitaria non imponibile (art. 138 Direttiva 2006/112/CE). "
    "Inversione contabile.",
    "citation-fr": "Exonération de TVA, livraison intracommunautaire (art. 138 de la directive "
    "2006/112/CE). Autoliquidation.",
    "citation-de": "Steuerfreie innergemeinschaftliche Lieferung (Art. 138 MwStSystRL "
    "2006/112/EG). Steuerschuldnerschaft des Leistungsempfängers.",
    "citation-en": "Exempt intra-Community supply of goods (Article 138 of Council Directive "
    "2006/112/EC). Reverse charge.",
}
NO_CITATIONS = dict.fromkeys(INTRA_EU_CITATIONS, "")

# How a VAT number of each country looks: its prefix, digits, and a fixed suffix.
VAT_NUMBER_SHAPES = {
    "AT": ("ATU", 8, ""),
    "BE": ("BE0", 9, ""),
    "CZ": ("CZ", 8, ""),
    "DE": ("DE", 9, ""),
    "ES": ("ESB", 8, ""),
    "FR": ("FR", 11, ""),
    "GB": ("GB", 9, ""),
    "IE": ("IE", 7, "WA"),
    "IT": ("IT", 11, ""),
    "NL": ("NL", 9, "B01"),
    "PL": ("PL", 10, ""),
    "SE": ("SE", 10, "01"),
}


def seller_vat_number(seed: int, seller_id: str, country: str) -> str:
    """The seller's VAT number in ``country`` (its ship-from country), derived from the seed."""
    shape = VAT_NUMBER_SHAPES.get(country)
    if shape is None:
        return ""
    prefix, digits, suffix = shape
    random_ = random.Random(f"{seed}:{seller_id}:vat:{country}")
    return prefix + "".join(random_.choice("0123456789") for _ in range(digits)) + suffix


def _vidr_options(options: dict[str, str]) -> dict[str, bool]:
    """``ReportOption=pendingInvoices`` / ``pendingInvoices`` (any case) → ``pendinginvoices``."""
    parsed: dict[str, bool] = {}
    for key, value in options.items():
        name = key.strip().lower().removeprefix("reportoption=")
        if name not in VIDR_OPTIONS or value.strip().lower() not in ("true", "false"):
            raise invalid_input(
                f"Provided reportOptions {key}={value} is not valid.",
                "Use ReportOption=pendingInvoices or ReportOption=all with true or false.",
            )
        parsed[name] = value.strip().lower() == "true"
    return parsed


def _check_vidr_request(
    marketplaces: list[str], options: dict[str, str], start: datetime, end: datetime
) -> None:
    if any(marketplace not in VIDR_MARKETPLACE_IDS for marketplace in marketplaces):
        raise invalid_input("Provided MarketplaceIdList is invalid.")
    parsed = _vidr_options(options)
    if parsed.get("all") and not parsed.get("pendinginvoices") and end - start > VIDR_MAX_RANGE:
        raise invalid_input(
            "The maximum date range for ReportOptions All is 30 days. "
            "Try again with a shorter date range."
        )


def _vidr(sandbox: Sandbox, report: Report, at: datetime) -> tuple[bytes, str] | None:
    options = _vidr_options(report.report_options)
    everything = options.get("all", False) and not options.get("pendinginvoices", False)
    uploads = sandbox.state.reports.invoices
    accepted = accepted_invoices(uploads, report.seller_id)
    rejected = rejections(uploads, report.seller_id)
    credited = accepted_credit_notes(uploads, report.seller_id)
    shipments: list[Shipment] = []
    refunds: list[Refund] = []
    for order in seller_orders(sandbox, report.seller_id):
        if order.marketplace_id not in report.marketplace_ids:
            continue
        if everything:
            if not report.data_start_time <= order.created_time <= report.data_end_time:
                continue
        elif order.created_time < at - VIDR_PENDING_WINDOW:
            continue
        shipments.extend(
            shipment
            for shipment in order_shipments(order)
            if everything or shipment.shipment_id not in accepted
        )
        refunds.extend(
            refund
            for refund in order_refunds(sandbox, order.order_id)
            if everything or refund.transaction_id not in credited
        )
    if not shipments and not refunds:
        return None
    shipments.sort(key=lambda shipment: (shipment.shipped_at, shipment.shipment_id))
    rows: list[dict[str, str]] = []
    for shipment in shipments:
        if shipment.shipment_id in accepted:
            status = (INVOICE_UPLOADED, "Invoice uploaded successfully.")
        elif shipment.shipment_id in rejected:
            status = (INVOICE_PENDING, f"Invoice upload rejected: {rejected[shipment.shipment_id]}")
        else:
            status = (INVOICE_PENDING, "Shipment has been dispatched.")
        invoice_number = accepted.get(shipment.shipment_id, "")
        rows.extend(
            _vidr_row(sandbox, report.seller_id, shipment, line, status, invoice_number)
            for line in shipment.lines
        )
    rows.extend(_vidr_refund_rows(sandbox, report.seller_id, refunds, accepted))
    return _tsv(VIDR_COLUMNS, rows), TSV


def _vidr_refund_rows(
    sandbox: Sandbox, seller_id: str, refunds: list[Refund], invoiced: dict[str, str]
) -> list[dict[str, str]]:
    """A ``REFUND`` row per refunded item: amounts negative (a refunded promotion positive),
    ``CreditNotePending`` until a credit note for the transaction id is accepted."""
    uploads = sandbox.state.reports.invoices
    credited = accepted_credit_notes(uploads, seller_id)
    refused = credit_note_rejections(uploads, seller_id)
    rows: list[dict[str, str]] = []
    for refund in sorted(refunds, key=lambda refund: (refund.posted_at, refund.number)):
        order = sandbox.state.orders.orders[refund.order_id]
        number = credited.get(refund.transaction_id)
        if number is not None:
            status = (CREDIT_NOTE_UPLOADED, "Credit note uploaded successfully.")
        elif refund.transaction_id in refused:
            status = (
                CREDIT_NOTE_PENDING,
                f"Credit note upload rejected: {refused[refund.transaction_id]}",
            )
        else:
            status = (CREDIT_NOTE_PENDING, "Refund has been issued.")
        for line in refund.lines:
            item = order.item(line.order_item_id)
            assert item is not None  # a refund names items of its order
            shipment = Shipment(order, line.shipment_id, refund.posted_at, ())
            row = _vidr_row(sandbox, seller_id, shipment, item, status, number or "")
            promotion_ids = ",".join(item.promotion_ids)
            row.update(
                {
                    "transaction-id": refund.transaction_id,
                    "transaction-type": "REFUND",
                    "quantity-purchased": str(line.quantity),
                    "item-vat-incl-amount": _negative(line.item_price),
                    "item-vat-amount": _negative(line.item_tax),
                    "item-vat-excl-amount": _negative(line.item_price - line.item_tax),
                    "item-promo-vat-incl-amount": _money(line.promotion_discount),
                    "item-promo-vat-excl-amount": _money(
                        line.promotion_discount - line.promotion_discount_tax
                    ),
                    "item-promo-vat-amount": _money(line.promotion_discount_tax),
                    "item-promotion-id": promotion_ids if line.promotion_discount else "",
                    "gift-wrap-vat-incl-amount": _money(ZERO),
                    "gift-wrap-vat-amount": _money(ZERO),
                    "gift-wrap-vat-excl-amount": _money(ZERO),
                    "shipping-vat-incl-amount": _negative(line.shipping_price),
                    "shipping-vat-amount": _negative(line.shipping_tax),
                    "shipping-vat-excl-amount": _negative(line.shipping_price - line.shipping_tax),
                    "shipping-promo-vat-incl-amount": _money(line.shipping_discount),
                    "shipping-promo-vat-excl-amount": _money(
                        line.shipping_discount - line.shipping_discount_tax
                    ),
                    "shipping-promo-vat-amount": _money(line.shipping_discount_tax),
                    "ship-promotion-id": promotion_ids if line.shipping_discount else "",
                    "original-vat-invoice-number": invoiced.get(line.shipment_id, ""),
                }
            )
            rows.append(row)
    return rows


def _vidr_row(
    sandbox: Sandbox,
    seller_id: str,
    shipment: Shipment,
    line: OrderItem,
    status: tuple[str, str],
    invoice_number: str,
) -> dict[str, str]:
    order, item = shipment.order, line
    address = order.shipping_address
    rate = _rate(item.vat_rate / 100)
    intra_eu_b2b = order.tax_treatment is TaxTreatment.INTRA_COMMUNITY
    promotion_ids = ",".join(item.promotion_ids)
    return {
        "marketplace-id": order.marketplace_id,
        "order-id": order.order_id,
        "order-item-id": item.order_item_id,
        "shipping-id": shipment.shipment_id,
        "transaction-id": shipment.shipment_id,
        "transaction-type": "SHIPMENT",
        "invoice-number": invoice_number,
        "invoice-status": status[0],
        "invoice-status-description": status[1],
        "is-amazon-invoiced": "false",
        "order-date": iso(order.created_time),
        "shipment-date": iso(shipment.shipped_at),
        "buyer-vat-number": order.buyer_vat_number or "",
        "seller-vat-number": seller_vat_number(
            sandbox.config.seed, seller_id, order.ship_from_country
        ),
        "asin": item.asin,
        "sku": item.seller_sku,
        "product-name": item.title,
        "quantity-purchased": str(line.quantity),
        "currency": order.currency,
        "item-vat-incl-amount": _money(line.item_price),
        "item-vat-amount": _money(line.item_tax),
        "item-vat-excl-amount": _money(line.item_price - line.item_tax),
        "item-vat-rate": rate,
        "item-promo-vat-incl-amount": _negative(line.promotion_discount),
        "item-promo-vat-excl-amount": _negative(
            line.promotion_discount - line.promotion_discount_tax
        ),
        "item-promo-vat-amount": _negative(line.promotion_discount_tax),
        "item-promo-vat-rate": rate,
        "item-promotion-id": promotion_ids if line.promotion_discount else "",
        "gift-wrap-vat-incl-amount": _money(line.gift_wrap_price),
        "gift-wrap-vat-amount": _money(line.gift_wrap_tax),
        "gift-wrap-vat-excl-amount": _money(line.gift_wrap_price - line.gift_wrap_tax),
        "gift-wrap-vat-rate": rate,
        "gift-promo-vat-incl-amount": _money(ZERO),
        "gift-promo-vat-excl-amount": _money(ZERO),
        "gift-promo-vat-amount": _money(ZERO),
        "gift-promo-vat-rate": rate,
        "gift-promotion-id": "",
        "shipping-vat-incl-amount": _money(line.shipping_price),
        "shipping-vat-amount": _money(line.shipping_tax),
        "shipping-vat-excl-amount": _money(line.shipping_price - line.shipping_tax),
        "shipping-vat-rate": rate,
        "shipping-promo-vat-incl-amount": _negative(line.shipping_discount),
        "shipping-promo-vat-excl-amount": _negative(
            line.shipping_discount - line.shipping_discount_tax
        ),
        "shipping-promo-vat-amount": _negative(line.shipping_discount_tax),
        "shipping-promo-vat-rate": rate,
        "ship-promotion-id": promotion_ids if line.shipping_discount else "",
        "is-business-order": _flag(order.is_business),
        "price-designation": "BusinessPrice" if order.is_business else "",
        "purchase-order-number": order.purchase_order_number or "",
        "recipient-name": address.name,
        "ship-service-level": _service_level(order),
        "fulfilled-by": "AFN" if order.fulfilled_by == "AMAZON" else "MFN",
        "ship-address-1": address.line1,
        "ship-address-2": address.line2 or "",
        "ship-address-3": address.line3 or "",
        "ship-city": address.city,
        "ship-state": address.state_or_region or "",
        "ship-postal-code": address.postal_code,
        "ship-country": address.country_code,
        "ship-phone-number": address.phone or "",
        "ship-from-country": order.ship_from_country,
        "ship-from-state": "",
        "ship-from-city": "",
        "ship-from-postal-code": "",
        "billing-name": order.buyer_name,
        "bill-address-1": address.line1,
        "bill-address-2": address.line2 or "",
        "bill-address-3": address.line3 or "",
        "bill-city": address.city,
        "bill-state": address.state_or_region or "",
        "bill-postal-code": address.postal_code,
        "bill-country": address.country_code,
        "billing-phone-number": address.phone or "",
        "buyer-name": order.buyer_name,
        "buyer-company-name": order.buyer_company_name or "",
        "legacy-customer-order-item-id": "",
        "recommended-invoice-format": "",
        "buyer-tax-registration-type": "VAT" if order.buyer_vat_number else "",
        "buyer-e-invoice-account-id": "",
        "is-buyer-physically-present": "false",
        "is-seller-physically-present": "false",
        **(INTRA_EU_CITATIONS if intra_eu_b2b else NO_CITATIONS),
        "export-outside-eu": _flag(
            order.ship_from_country in EU_COUNTRIES and address.country_code not in EU_COUNTRIES
        ),
        "is-invoice-corrected": "false",
        "original-vat-invoice-number": "",
        "invoice-correction-details": "",
    }


def _service_level(order: Order) -> str:
    return order.service_level.replace("_", " ").title()


# --- the all-orders report -------------------------------------------------------------------

ALL_ORDERS_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
    "order-status", "fulfillment-channel", "sales-channel", "order-channel",
    "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity", "currency",
    "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price",
    "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation",
)  # fmt: skip

ORDER_STATUSES = {
    FulfillmentStatus.PENDING: "Pending",
    FulfillmentStatus.UNSHIPPED: "Unshipped",
    FulfillmentStatus.PARTIALLY_SHIPPED: "PartiallyShipped",
    FulfillmentStatus.SHIPPED: "Shipped",
    FulfillmentStatus.CANCELLED: "Cancelled",
}


def _all_orders(sandbox: Sandbox, report: Report, at: datetime) -> tuple[bytes, str] | None:
    orders = sorted(
        (
            order
            for order in seller_orders(sandbox, report.seller_id)
            if order.marketplace_id in report.marketplace_ids
            and report.data_start_time <= order.last_updated_time <= report.data_end_time
        ),
        key=lambda order: (order.last_updated_time, order.order_id),
    )
    rows: list[dict[str, str]] = []
    for order in orders:
        address = order.shipping_address
        for item in order.items:
            if order.status is FulfillmentStatus.CANCELLED:
                item_status = "Cancelled"
            elif item.quantity_shipped >= item.quantity or order.fba_shipment is not None:
                item_status = "Shipped"
            else:
                item_status = "Unshipped"
            rows.append(
                {
                    "amazon-order-id": order.order_id,
                    "merchant-order-id": order.seller_order_id or "",
                    "purchase-date": iso(order.created_time),
                    "last-updated-date": iso(order.last_updated_time),
                    "order-status": ORDER_STATUSES[order.status],
                    "fulfillment-channel": "Amazon"
                    if order.fulfilled_by == "AMAZON"
                    else "Merchant",
                    "sales-channel": BY_ID[order.marketplace_id].name,
                    "order-channel": "",
                    "ship-service-level": _service_level(order),
                    "product-name": item.title,
                    "sku": item.seller_sku,
                    "asin": item.asin,
                    "item-status": item_status,
                    "quantity": str(item.quantity),
                    "currency": order.currency,
                    "item-price": _money(item.item_price),
                    "item-tax": _money(item.item_tax),
                    "shipping-price": _money(item.shipping_price),
                    "shipping-tax": _money(item.shipping_tax),
                    "gift-wrap-price": _money(item.gift_wrap_price),
                    "gift-wrap-tax": _money(item.gift_wrap_tax),
                    "item-promotion-discount": _negative(item.promotion_discount),
                    "ship-promotion-discount": _negative(item.shipping_discount),
                    "ship-city": address.city,
                    "ship-state": address.state_or_region or "",
                    "ship-postal-code": address.postal_code,
                    "ship-country": address.country_code,
                    "promotion-ids": ",".join(item.promotion_ids),
                    "is-business-order": _flag(order.is_business),
                    "purchase-order-number": order.purchase_order_number or "",
                    "price-designation": "BusinessPrice" if order.is_business else "",
                }
            )
    if not rows:
        return None
    return _tsv(ALL_ORDERS_COLUMNS, rows), TSV


# --- the all listings report -----------------------------------------------------------------

MERCHANT_LISTINGS_COLUMNS = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity",
    "open-date", "image-url", "item-is-marketplace", "product-id-type", "zshop-shipping-fee",
    "item-note", "item-condition", "zshop-category1", "zshop-browse-path",
    "zshop-storefront-feature", "asin1", "asin2", "asin3", "will-ship-internationally",
    "expedited-shipping", "zshop-boldface", "product-id", "bid-for-featured-placement",
    "add-delete", "pending-quantity", "fulfillment-channel", "merchant-shipping-group", "status",
)  # fmt: skip
"""Amazon's attribute list of the report, in its order (see the module docstring)."""

# The flat files' item-condition codes for the Listings API's condition_type values.
ITEM_CONDITIONS = {
    "used_like_new": "1",
    "used_very_good": "2",
    "used_good": "3",
    "used_acceptable": "4",
    "collectible_like_new": "5",
    "collectible_very_good": "6",
    "collectible_good": "7",
    "collectible_acceptable": "8",
    "refurbished_refurbished": "10",
    "new_new": "11",
}
SHIPPING_TEMPLATE = "Migrated Template"
_LISTING_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def listing_id(seed: int, seller_id: str, listing: Listing, marketplace_id: str) -> str:
    """Amazon's id of the offer: the month and day it was opened and 7 characters (seeded)."""
    digest = hashlib.blake2b(
        f"{seed}:{seller_id}:{listing.sku}:{marketplace_id}".encode(), digest_size=7
    ).digest()
    tail = "".join(_LISTING_ID_ALPHABET[byte % len(_LISTING_ID_ALPHABET)] for byte in digest)
    return f"{listing.created:%m%d}{tail}"


def _product_id(listing: Listing) -> tuple[str, str]:
    """``product-id-type`` and ``product-id``: 4 EAN, 3 UPC, else 1 and the ASIN."""
    gtin = listing.gtin or ""
    if gtin.isdigit() and len(gtin) in (12, 13):
        return ("3" if len(gtin) == 12 else "4"), gtin
    return "1", listing.asin


def _listing_row(
    sandbox: Sandbox, seller_id: str, listing: Listing, marketplace_id: str
) -> dict[str, str]:
    merchant = not listing.amazon_fulfilled
    quantity = listing.quantities.get(marketplace_id) if merchant else None
    price = listing.prices.get(marketplace_id)
    selling = listing.active and available(sandbox, seller_id, listing, marketplace_id) > 0
    product_id_type, product_id = _product_id(listing)
    row = dict.fromkeys(MERCHANT_LISTINGS_COLUMNS, "")
    row.update(
        {
            "item-name": listing.title,
            "listing-id": listing_id(sandbox.config.seed, seller_id, listing, marketplace_id),
            "seller-sku": listing.sku,
            "price": "" if price is None else _money(price),
            "quantity": "" if quantity is None else str(quantity),
            "open-date": listing.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S GMT"),
            "item-is-marketplace": "y",
            "product-id-type": product_id_type,
            "item-condition": ITEM_CONDITIONS.get(listing.condition, ""),
            "asin1": listing.asin,
            "product-id": product_id,
            "pending-quantity": "0" if merchant else "",
            "fulfillment-channel": listing.fulfillment_channel,
            "merchant-shipping-group": SHIPPING_TEMPLATE,
            "status": "Active" if selling else "Inactive",
        }
    )
    return row


def _merchant_listings(sandbox: Sandbox, report: Report, at: datetime) -> tuple[bytes, str] | None:
    marketplace_id = report.marketplace_ids[0]  # Amazon reports one marketplace: the first
    listed = sorted(
        (
            listing
            for listing in seller_listings(sandbox, report.seller_id).values()
            if marketplace_id in listing.marketplace_ids
        ),
        key=lambda listing: listing.sku,
    )
    if not listed:
        return None
    rows = (_listing_row(sandbox, report.seller_id, listing, marketplace_id) for listing in listed)
    return _tsv(MERCHANT_LISTINGS_COLUMNS, rows), TSV


# --- the account health report ---------------------------------------------------------------

TargetCondition = Literal["LESS_THAN", "GREATER_THAN", "EQUALS"]


def account_health(sandbox: Sandbox, seller_id: str, marketplace_id: str) -> AccountHealth:
    records = sandbox.state.reports.account_health.get(seller_id, {})
    return records.get(marketplace_id) or AccountHealth()


def _date_range(at: datetime, days: int) -> dict[str, str]:
    """The ``days`` whole days up to yesterday, written as Amazon's example writes them."""
    last = (at - timedelta(days=1)).date()
    first = last - timedelta(days=days - 1)
    return {
        "reportingDateFrom": f"{first.isoformat()}T00:00Z",
        "reportingDateTo": f"{last.isoformat()}T23:59Z",
    }


def _status(rate: float, target: float, condition: TargetCondition) -> str:
    met = {
        "LESS_THAN": rate < target,
        "GREATER_THAN": rate > target,
        "EQUALS": rate == target,
    }[condition]
    return "GOOD" if met else "BAD"


def _rate_metric(
    at: datetime, days: int, rate: float, target: float, condition: TargetCondition
) -> dict[str, Any]:
    return {
        "reportingDateRange": _date_range(at, days),
        "status": _status(rate, target, condition),
        "rate": rate,
        "targetValue": target,
        "targetCondition": condition,
    }


def _performance(
    sandbox: Sandbox, seller_id: str, marketplace_id: str, at: datetime
) -> dict[str, Any]:
    health = account_health(sandbox, seller_id, marketplace_id)
    orders = [
        order
        for order in seller_orders(sandbox, seller_id)
        if order.marketplace_id == marketplace_id
    ]

    def recent(days: int, fulfilled_by: str | None = None) -> list[Order]:
        since = at - timedelta(days=days)
        return [
            order
            for order in orders
            if order.created_time >= since
            and (fulfilled_by is None or order.fulfilled_by == fulfilled_by)
        ]

    def defects(rate: float, count: int) -> int:
        return round(rate * count)

    def order_defect_rate(fulfillment_type: str, rate: float) -> dict[str, Any]:
        count = len(recent(60, "MERCHANT" if fulfillment_type == "mfn" else "AMAZON"))
        metric = _rate_metric(at, 60, rate, 0.01, "LESS_THAN")
        defective = defects(rate, count)
        return {
            **metric,
            "orderCount": count,
            "orderWithDefects": {"count": defective, "status": metric["status"]},
            "claims": {"count": 0, "status": "NONE"},
            "chargebacks": {"count": 0, "status": "NONE"},
            "negativeFeedback": {"count": defective, "status": "NONE"},
            "fulfillmentType": fulfillment_type,
        }

    merchant_30 = recent(30, "MERCHANT")
    merchant_7 = len(recent(7, "MERCHANT"))
    packages = [package for order in merchant_30 for package in order.packages]
    shipments = len(packages)
    tracked = defects(health.valid_tracking_rate, shipments)
    units = sum(item.quantity for package in packages for item in package.items)
    business = sum(1 for order in recent(30) if order.is_business)
    invoice_defects = defects(health.invoice_defect_rate, business)
    invoice_metric = _rate_metric(at, 30, health.invoice_defect_rate, 0.05, "LESS_THAN")
    metrics: dict[str, Any] = {
        "marketplaceId": marketplace_id,
        "accountHealthRating": {
            "ahrStatus": health.ahr_status,
            "reportingDateRange": _date_range(at, 180),
        },
        "orderDefectRate": {
            "mfn": order_defect_rate("mfn", health.order_defect_rate_mfn),
            "afn": order_defect_rate("afn", health.order_defect_rate_afn),
        },
        "lateShipmentRate": {
            **_rate_metric(at, 30, health.late_shipment_rate, 0.04, "LESS_THAN"),
            "orderCount": len(merchant_30),
            "lateShipmentCount": defects(health.late_shipment_rate, len(merchant_30)),
        },
        "preFulfillmentCancellationRate": {
            **_rate_metric(at, 7, health.pre_fulfillment_cancellation_rate, 0.025, "LESS_THAN"),
            "orderCount": merchant_7,
            "cancellationCount": defects(health.pre_fulfillment_cancellation_rate, merchant_7),
        },
        "validTrackingRate": {
            **_rate_metric(at, 30, health.valid_tracking_rate, 0.95, "GREATER_THAN"),
            "shipmentCount": shipments,
            "validTrackingCount": tracked,
        },
        "onTimeDeliveryRate": {
            **_rate_metric(at, 30, health.on_time_delivery_rate, 0.97, "GREATER_THAN"),
            "shipmentCountWithValidTracking": tracked,
            "onTimeDeliveryCount": defects(health.on_time_delivery_rate, tracked),
        },
        "unitOnTimeDeliveryRate": {
            **_rate_metric(at, 30, health.unit_on_time_delivery_rate, 0.9, "GREATER_THAN"),
            "totalUnitCount": units,
            "unitOnTimeDeliveryCount": defects(health.unit_on_time_delivery_rate, units),
        },
        "invoiceDefectRate": {
            **invoice_metric,
            "orderCount": business,
            "invoiceDefect": {"count": invoice_defects, "status": invoice_metric["status"]},
            "missingInvoice": {"count": invoice_defects, "status": "NONE"},
            "lateInvoice": {"count": 0, "status": "NONE"},
        },
        "warningStates": [state.model_dump(by_alias=True) for state in health.warning_states],
    }
    for field in LISTING_VIOLATIONS:
        count: int = getattr(health, field)
        metrics[to_camel(field)] = {
            "reportingDateRange": _date_range(at, 180),
            "defectsCount": count,
            "status": "GOOD" if count == 0 else "BAD",
            "targetValue": 0,
            "targetCondition": "EQUALS",
        }
    return metrics


def _seller_performance(sandbox: Sandbox, report: Report, at: datetime) -> tuple[bytes, str] | None:
    document = {
        "accountStatuses": [
            {
                "marketplaceId": marketplace_id,
                "status": account_health(sandbox, report.seller_id, marketplace_id).account_status,
            }
            for marketplace_id in report.marketplace_ids
        ],
        "performanceMetrics": [
            _performance(sandbox, report.seller_id, marketplace_id, at)
            for marketplace_id in report.marketplace_ids
        ],
    }
    return json.dumps(document).encode("utf-8"), "application/json"


Generator = Callable[["Sandbox", Report, datetime], "tuple[bytes, str] | None"]
"""Makes a report's document (content, content type), or ``None`` when there is no data."""

GENERATORS: dict[str, Generator] = {
    VIDR: _vidr,
    SELLER_PERFORMANCE: _seller_performance,
    ALL_ORDERS: _all_orders,
    MERCHANT_LISTINGS: _merchant_listings,
    vat_calculation.REPORT_TYPE: vat_calculation.generate,
}


@api.admin("PUT", "/_sandbox/sellers/{seller_id}/account-health")
async def set_account_health(sandbox: Sandbox, request: Request) -> Any:
    """Change account-health figures, e.g. ``{"marketplace": "DE", "lateShipmentRate": 0.06}``.

    Only the given fields change; without ``marketplace`` every marketplace of the seller.
    """
    seller = sandbox.known_seller(request.path_params["seller_id"])
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid_input("Send a JSON object of account-health figures.")
    changes = dict(body)
    marketplace = changes.pop("marketplace", None)
    if marketplace is not None and not isinstance(marketplace, str):
        raise invalid_input("marketplace is a marketplace code (DE) or id.")
    targets = marketplace_ids([marketplace]) if marketplace else seller.marketplace_ids
    unknown = [mid for mid in targets if mid not in seller.marketplace_ids]
    if unknown:
        raise invalid_input(f"{seller.seller_id} does not sell on {', '.join(unknown)}.")
    records = sandbox.state.reports.account_health.setdefault(seller.seller_id, {})
    updated: dict[str, Any] = {}
    for marketplace_id in targets:
        current = account_health(sandbox, seller.seller_id, marketplace_id)
        try:
            record = AccountHealth.model_validate({**current.model_dump(by_alias=True), **changes})
        except ValidationError as error:
            raise ApiError(
                400, "InvalidInput", "Invalid account-health figures.", str(error)
            ) from None
        records[marketplace_id] = record
        updated[marketplace_id] = record.model_dump(by_alias=True)
    return updated


@api.admin("GET", "/_sandbox/invoices")
def list_invoices(sandbox: Sandbox, request: Request) -> Any:
    """Every ``UPLOAD_VAT_INVOICE`` upload as judged, oldest first; ``?seller_id=`` filters."""
    seller_id = request.query_params.get("seller_id")
    return [
        upload.model_dump(mode="json")
        for upload in sandbox.state.reports.invoices
        if seller_id is None or upload.seller_id == seller_id
    ]
