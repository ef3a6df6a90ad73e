"""VCS with Amazon issuing against the sandbox: Amazon's invoice numbers recorded per order with
the order's totals to the cent, once, for 90 days back; sellerbridge issues no invoice itself."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.invoices.amazon_issued import (
    RecordReport,
    record_amazon_invoices,
)
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
from sellerbridge.cli.main import app
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.db.models import (
    AmazonOrderBinding,
    AmazonVatInvoice,
    Document,
    Fulfillment,
    InvoiceMode,
)
from sellerbridge.sandbox import reports as sandbox_reports
from sellerbridge.services.fba import invoice_fba_orders
from tests.amazon import Shop
from tests.integration.test_amazon_invoice_uploads import ship_with_label
from tests.integration.test_documents import SETTINGS
from tests.integration.test_fba_invoices import place_fba

AMAZON_ISSUING = {Fulfillment.FBM: InvoiceMode.VCS_AMAZON, Fulfillment.FBA: InvoiceMode.VCS_AMAZON}


def enrol_in_vcs(shop: Shop) -> None:
    """The seller lets Amazon issue its invoices on amazon.de (Seller Central's VCS setting)."""
    shop.live.admin("PUT", f"/sellers/{shop.live.seller.seller_id}/vcs",
                    json={"marketplaces": ["DE"], "amazonInvoicing": True})  # fmt: skip


def amazons_invoices(shop: Shop) -> dict[str, list[str]]:
    """The invoice numbers Amazon issued, per Amazon order id (the sandbox's own record)."""
    issued = shop.live.admin("GET", f"/sellers/{shop.live.seller.seller_id}/vcs")["invoices"]
    numbers: dict[str, list[str]] = defaultdict(list)
    for invoice in issued:
        numbers[invoice["orderId"]].append(invoice["invoiceNumber"])
    return numbers


def record(shop: Shop) -> RecordReport:
    with shop.client() as client:
        return record_amazon_invoices(shop.engine, shop.account_id, client,
                                      sleep=lambda _: time.sleep(0.05))  # fmt: skip


def recorded(shop: Shop) -> list[AmazonVatInvoice]:
    """The recorded Amazon invoices, oldest first, as read (detached from the session)."""
    with shop.uow as uow:
        rows = list(uow.session.scalars(select(AmazonVatInvoice).order_by(AmazonVatInvoice.id)))
        uow.session.expunge_all()
        return rows


def cli(shop: Shop, *arguments: str) -> Any:
    return CliRunner().invoke(app, ["amazon", "vat-invoices", *arguments],
                              env=shop.environment() | {"COLUMNS": "250"})  # fmt: skip


def test_amazons_invoice_numbers_are_recorded_per_order_with_its_totals_once(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(vcs_invoice_delay_seconds=0)
    enrol_in_vcs(shop)
    # From a minute ago: Amazon dates orders to the second, and none may fall before the start.
    accounts.configure(shop.uow, None, invoice_modes=AMAZON_ISSUING,
                       force_from=utcnow() - timedelta(minutes=1))  # fmt: skip
    items = [{"sku": "SB-0001", "quantity": 2}, {"sku": "SB-0002", "quantity": 1}]
    fbm_order, fbm_number = ship_with_label(shop, items=items)
    fba_order = place_fba(shop)
    shop.sync()
    assert invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow()).invoiced == 0

    report = record(shop)
    assert (report.new, report.known, report.not_imported) == (2, 0, set())
    issued = amazons_invoices(shop)
    rows = recorded(shop)
    assert {row.amazon_order_id: [row.invoice_number] for row in rows} == {
        fbm_order: issued[fbm_order],
        fba_order: issued[fba_order],
    }
    for row in rows:
        assert len(row.invoice_number) == 14
        assert row.invoice_number.endswith(shop.live.seller.seller_id[-5:] + "I")
        assert row.invoice_url
        assert row.shipped_at is not None
        assert row.issued_at is not None
    with shop.uow as uow:  # each linked to its order, with the order's totals to the cent
        for row in rows:
            binding = uow.session.scalars(
                select(AmazonOrderBinding).where(
                    AmazonOrderBinding.amazon_order_id == row.amazon_order_id
                )
            ).one()
            assert row.order_id == binding.order_id
            order = binding.order
            assert (row.total_gross, row.total_tax, row.currency) == (
                order.total_gross, order.total_tax, order.currency
            )  # fmt: skip
            assert row.total_gross > Decimal(0)
        invoices = uow.session.scalar(
            select(func.count()).select_from(Document).where(Document.kind == DocumentKind.INVOICE)
        )
        assert invoices == 0  # Amazon invoices these orders; sellerbridge issues none

    again = record(shop)
    assert (again.new, again.known) == (0, 2)
    assert len(recorded(shop)) == 2

    # A refund: Amazon's credit note is recorded too, negative, against the same order.
    (placed,) = [o for o in shop.sandbox_orders() if o.order_id == fba_order]
    refund = shop.live.admin("POST", f"/orders/{fba_order}/refunds",
                             json={"items": [{"orderItemId": placed.items[0].order_item_id,
                                              "quantity": 1}]})  # fmt: skip
    assert record(shop).new == 1
    (credit,) = [row for row in recorded(shop) if row.transaction_type == "REFUND"]
    assert credit.invoice_number.endswith("C")
    assert credit.transaction_id == refund["transactionId"]
    assert (credit.total_gross, credit.total_tax) == (
        -Decimal(refund["total"]), -Decimal(refund["totalVat"])
    )  # fmt: skip
    assert credit.order_id == shop_order_id(shop, fba_order)

    shown = cli(shop)
    assert shown.exit_code == 0, shown.output
    for row in rows:
        assert row.invoice_number in shown.output
        assert row.amazon_order_id in shown.output
    assert fbm_number in shown.output
    one = cli(shop, "--order", fbm_number)
    assert one.exit_code == 0, one.output
    assert issued[fbm_order][0] in one.output
    assert issued[fba_order][0] not in one.output


def test_only_the_last_three_months_are_fetched_and_late_imports_are_linked(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(vcs_invoice_delay_seconds=0)
    enrol_in_vcs(shop)
    accounts.configure(shop.uow, None, marketplaces=["DE"], invoice_modes=AMAZON_ISSUING,
                       force_from=utcnow() - timedelta(days=150))  # fmt: skip
    hundred_days_ago = (utcnow() - timedelta(days=100)).isoformat()
    old = shop.place(marketplace="DE", fulfilled_by="AMAZON", status="SHIPPED",
                     ship_from_country="DE", created_time=hundred_days_ago)  # fmt: skip
    recent = place_fba(shop)
    assert set(amazons_invoices(shop)) == {old, recent}  # Amazon has invoiced both

    fetched = cli(shop, "--fetch")  # before the import: the recent order is not imported yet
    assert fetched.exit_code == 0, fetched.output
    said = " ".join(fetched.output.split())
    assert "1 Amazon invoice(s) recorded, 0 known already" in said
    assert "1 of order(s) not imported" in said
    assert "(not imported)" in said
    assert [row.amazon_order_id for row in recorded(shop)] == [recent]  # not the old one
    assert amazons_invoices(shop)[old][0] not in fetched.output
    asked = [r for r in shop.live.sandbox.state.reports.reports.values()
             if r.report_type == "SC_VAT_TAX_REPORT"]  # fmt: skip
    assert min(r.data_start_time for r in asked) >= utcnow() - timedelta(days=91)

    shop.sync()  # the recent order comes in; the next run links its invoice
    report = record(shop)
    assert (report.new, report.linked, report.not_imported) == (0, 1, set())
    assert report.reports == 1  # from shortly before where the last run stopped
    (row,) = recorded(shop)
    assert row.order_id == shop_order_id(shop, recent)


def shop_order_id(shop: Shop, amazon_order_id: str) -> int:
    with shop.uow as uow:
        return uow.session.scalars(
            select(AmazonOrderBinding.order_id).where(
                AmazonOrderBinding.amazon_order_id == amazon_order_id
            )
        ).one()


def test_a_report_amazon_cannot_make_stops_with_what_to_check(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = start_shop(vcs_invoice_delay_seconds=0)
    accounts.configure(shop.uow, None, invoice_modes=AMAZON_ISSUING,
                       force_from=utcnow() - timedelta(minutes=1))  # fmt: skip
    place_fba(shop)
    # Not enrolled in VCS at Amazon: the report is cancelled, there is nothing to record.
    assert (record(shop).new, recorded(shop)) == (0, [])

    def fails(*_: Any) -> None:
        raise RuntimeError("Amazon's report generation failed")

    monkeypatch.setitem(sandbox_reports.GENERATORS, "SC_VAT_TAX_REPORT", fails)  # ends FATAL
    refused = cli(shop, "--fetch")
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "could not produce its VAT calculation report" in said
    assert "VAT Calculation Service" in said
    assert recorded(shop) == []


def test_the_workers_invoicing_run_records_amazons_invoices(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(vcs_invoice_delay_seconds=0)
    enrol_in_vcs(shop)
    accounts.configure(shop.uow, None, invoice_modes=AMAZON_ISSUING)
    fbm_order, _ = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 1}])
    with shop.client() as client:
        run = run_invoicing(shop.engine, shop.account_id, client, shop.settings,
                            sleep=lambda _: time.sleep(0.05))  # fmt: skip
    assert run.problems == []
    assert [row.invoice_number for row in recorded(shop)] == amazons_invoices(shop)[fbm_order]

    def reports() -> int:
        return len(shop.live.admin("GET", "/requests",
                                   params={"operation": "reports.createReport"}))  # fmt: skip

    asked = reports()
    with shop.client() as client:  # not again before invoice_data_minutes have passed
        run_invoicing(shop.engine, shop.account_id, client, shop.settings)
    assert reports() == asked
