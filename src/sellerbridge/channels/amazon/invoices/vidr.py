"""Amazon's VAT invoice data report (VIDR): per shipment, whether Amazon has its invoice.

``GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT`` (tab-separated, one row per shipped order item; its
document is restricted, so it is read with a Restricted Data Token) names for every shipment its
``invoice-status`` (``InvoicePending`` until an invoice is accepted) and the accepted
``invoice-number``. With ``ReportOption=all`` it covers the orders placed in a range of at most
30 days.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.core.errors import DomainError

VIDR = "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT"
RANGE_MAX = timedelta(days=30)
POLL_SECONDS = 10.0
TIMEOUT_SECONDS = 1800.0
UPLOADED = "InvoiceUploaded"


@dataclass(frozen=True, slots=True)
class VatInvoiceRow:
    order_id: str
    shipping_id: str
    invoice_number: str
    invoice_status: str
    status_description: str


def read_vat_invoice_report(
    client: SpApiClient,
    marketplace_id: str,
    *,
    until: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> list[VatInvoiceRow]:
    """The VIDR rows of the orders placed in the 30 days before ``until`` on a marketplace."""
    report_id = client.create_report(
        VIDR, [marketplace_id], data_start_time=until - RANGE_MAX, data_end_time=until,
        report_options={"ReportOption=all": "true"},
    )  # fmt: skip
    waited = 0.0
    while True:
        report = client.get_report(report_id)
        status = str(report.processing_status)
        if status == "CANCELLED":  # no shipment in the range
            return []
        if status == "DONE" and report.report_document_id:
            break
        if status == "FATAL" or waited >= TIMEOUT_SECONDS:
            raise DomainError(f"Amazon did not produce the VAT invoice data report {report_id}.",
                              hint="The next run asks again.")  # fmt: skip
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    location = client.get_report_document(report.report_document_id, restricted=True)
    text = io.TextIOWrapper(io.BytesIO(client.download_document(location)), encoding="utf-8-sig")
    return [
        VatInvoiceRow(
            row.get("order-id", ""),
            row.get("shipping-id", ""),
            row.get("invoice-number", ""),
            row.get("invoice-status", ""),
            row.get("invoice-status-description", ""),
        )
        for row in csv.DictReader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
    ]
