"""Amazon's VAT invoice data report (VIDR): per shipment, whether Amazon has its invoice.

``GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT`` (tab-separated, one row per shipped order item; its
document is restricted, so it is read with a Restricted Data Token) names for every shipment its
``invoice-status`` (``InvoicePending`` until an invoice is accepted) and the accepted
``invoice-number``. With ``ReportOption=all`` it covers the orders placed in a range of at most
30 days; with ``ReportOption=pendingInvoices`` the shipments and refunds of the last 90 days
that still wait for their invoice or credit note.

Under VCS each row also carries Amazon's VAT calculation of one order item in one shipment
(``SHIPMENT``) or refund (``REFUND``): VAT-inclusive and exclusive amounts, VAT and rate of the
item, its promotion, shipping and gift wrap, and the legal text (``citation-*``) to print.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sellerbridge.channels.amazon.reports import report_content
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.core.errors import DomainError

VIDR = "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT"
RANGE_MAX = timedelta(days=30)
UPLOADED = "InvoiceUploaded"
UPLOADED_STATUSES = frozenset({UPLOADED, "CreditNoteUploaded"})
"""The ``invoice-status`` of a row whose invoice or credit note Amazon has."""
SHIPMENT = "SHIPMENT"
REFUND = "REFUND"
# The columns that change while a row waits for its document; the rest is Amazon's calculation.
_STATUS_COLUMNS = frozenset({"invoice-number", "invoice-status", "invoice-status-description"})


@dataclass(frozen=True, slots=True)
class VatInvoiceRow:
    order_id: str
    shipping_id: str
    invoice_number: str
    invoice_status: str
    status_description: str
    transaction_id: str = ""
    transaction_type: str = SHIPMENT
    order_item_id: str = ""
    values: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Every column of the row by its name."""

    @classmethod
    def of(cls, values: Mapping[str, str]) -> VatInvoiceRow:
        def get(name: str) -> str:
            return (values.get(name) or "").strip()

        return cls(get("order-id"), get("shipping-id"), get("invoice-number"),
                   get("invoice-status"), get("invoice-status-description"),
                   get("transaction-id"), get("transaction-type").upper() or SHIPMENT,
                   get("order-item-id"), dict(values))  # fmt: skip

    def money(self, column: str) -> Decimal:
        """The amount in ``column`` (0 when empty); a value that is no number is refused."""
        value = (self.values.get(column) or "").strip()
        try:
            amount = Decimal(value) if value else Decimal(0)
        except InvalidOperation:
            raise DomainError(
                f"Amazon's VAT invoice data report has {value!r} as {column} of order "
                f"{self.order_id}, which is not an amount.",
                hint="That order is left until the report is right; tell Amazon if it stays.",
            ) from None
        if not amount.is_finite():
            raise DomainError(f"{column} of order {self.order_id} is not an amount: {value!r}.")
        return amount

    @property
    def row_hash(self) -> str:
        """Identifies Amazon's calculation of the row, whatever its invoice status."""
        content = "\x1f".join(
            f"{name}={value}" for name, value in sorted(self.values.items())
            if name not in _STATUS_COLUMNS
        )  # fmt: skip
        return hashlib.sha256(content.encode()).hexdigest()


def read_vat_invoice_report(
    client: SpApiClient,
    marketplace_id: str,
    *,
    until: datetime | None = None,
    pending: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[VatInvoiceRow]:
    """The VIDR rows of a marketplace: of the orders placed in the 30 days before ``until``, or
    (``pending``) of the shipments and refunds that still wait for their document."""
    if pending:
        report_id = client.create_report(
            VIDR, [marketplace_id], report_options={"ReportOption=pendingInvoices": "true"}
        )
    else:
        assert until is not None, "a report of all rows needs its end"
        report_id = client.create_report(
            VIDR, [marketplace_id], data_start_time=until - RANGE_MAX, data_end_time=until,
            report_options={"ReportOption=all": "true"},
        )  # fmt: skip
    content = report_content(
        client, report_id, restricted=True, sleep=sleep,
        fatal=lambda: DomainError(
            f"Amazon did not produce the VAT invoice data report {report_id}.",
            hint="It needs the Tax Invoicing role and an account in Amazon's VAT programme; "
            "the next run asks again.",
        ),
    )  # fmt: skip
    if content is None:  # no shipment in the range
        return []
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig")
    return [
        VatInvoiceRow.of(row)
        for row in csv.DictReader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
    ]
