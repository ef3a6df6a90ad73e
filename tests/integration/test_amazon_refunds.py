"""Amazon's refunds against the sandbox: a refund read from the Finances API becomes a
correction invoice with its own number naming the invoice, uploaded as a credit note with the
refund's transaction id and accepted; the returned unit waits in the returns warehouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.invoices.cycle import ALERT as INVOICE_DATA_ALERT
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
from sellerbridge.cli.main import app
from sellerbridge.config import SellerSettings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.db.models import (
    AmazonRefund,
    Article,
    Document,
    RefundStatus,
    StockLevelRecord,
    Warehouse,
)
from sellerbridge.services import documents
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.lookup import order_by_number
from sellerbridge.services.stock import RETURNS_WAREHOUSE
from tests.amazon import Shop
from tests.integration.test_amazon_invoice_uploads import (
    UPLOADING,
    sandbox_uploads,
    ship_with_label,
)
from tests.integration.test_amazon_vcs import invoicing_until_settled
from tests.integration.test_documents import SELLER_ENV, SETTINGS


def refund(shop: Shop, order_id: str, sku: str, quantity: int, **more: Any) -> dict[str, Any]:
    """Amazon refunds ``quantity`` units of the order's ``sku`` (posted ten minutes ago)."""
    (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
    (item,) = [i for i in order.items if i.seller_sku == sku]
    body = {"items": [{"orderItemId": item.order_item_id, "quantity": quantity}],
            "postedAt": (utcnow() - timedelta(minutes=10)).isoformat(), **more}  # fmt: skip
    made: dict[str, Any] = shop.live.admin("POST", f"/orders/{order_id}/refunds", json=body)
    return made


def on_hand(shop: Shop, sku: str, warehouse: str) -> int:
    with shop.uow as uow:
        level = uow.session.scalar(
            select(StockLevelRecord.on_hand)
            .join(Article, Article.id == StockLevelRecord.article_id)
            .join(Warehouse, Warehouse.id == StockLevelRecord.warehouse_id)
            .where(Article.number == sku, Warehouse.code == warehouse)
        )
    return level or 0


def test_a_refund_of_one_of_two_units_is_a_credit_note_amazon_accepts(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, number = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 2},
                                                    {"sku": "SB-0002", "quantity": 1}])  # fmt: skip
    invoicing_until_settled(shop)  # the invoice first: Amazon credits only what it has
    main_stock = on_hand(shop, "SB-0001", "MAIN")
    made = refund(shop, order_id, "SB-0001", 1)

    runs = invoicing_until_settled(shop)
    corrected = [n for run in runs for n in run.refunds.corrected]
    assert len(corrected) == 1
    with shop.uow as uow:
        order = order_by_number(uow.session, number)
        invoice = documents.current_invoice(uow.session, order)
        correction = documents.document_by_number(uow.session, corrected[0])
        assert invoice is not None
        assert correction.kind is DocumentKind.CORRECTION
        assert correction.number != invoice.number
        assert correction.corrects_id == invoice.id
        assert documents.content_of(correction).original.number == invoice.number  # type: ignore[union-attr]
        (line,) = correction.lines  # one of the two units, at Amazon's amounts
        assert line.quantity == -1
        assert -line.gross == Decimal(str(made["total"]))
        assert -line.tax == Decimal(str(made["totalVat"]))
        assert invoice.total_gross + correction.total_gross > 0  # the rest still invoiced
        stored = uow.session.scalars(select(AmazonRefund)).one()
        assert stored.status is RefundStatus.CORRECTED
        assert stored.transaction_id == made["transactionId"]

    judged = [u for u in sandbox_uploads(shop) if u["document_type"] == "CreditNote"]
    assert [(u["invoice_number"], u["transaction_id"], u["status"]) for u in judged] == [
        (corrected[0], made["transactionId"], "ACCEPTED")
    ]
    # The returned unit waits for inspection: not back in sellable stock.
    assert on_hand(shop, "SB-0001", RETURNS_WAREHOUSE) == 1
    assert on_hand(shop, "SB-0001", "MAIN") == main_stock

    listed = CliRunner().invoke(
        app, ["amazon", "refunds"], env=shop.environment() | {"COLUMNS": "250"}
    )
    assert listed.exit_code == 0, listed.output
    assert corrected[0] in listed.output
    assert "corrected" in listed.output

    again = invoicing_until_settled(shop)  # once: nothing corrected or sent twice
    assert [n for run in again for n in run.refunds.corrected] == []
    assert len([u for u in sandbox_uploads(shop) if u["document_type"] == "CreditNote"]) == 1
    with shop.uow as uow:
        corrections = uow.session.scalars(
            select(Document).where(Document.kind == DocumentKind.CORRECTION)
        ).all()
        assert len(corrections) == 1


def test_shipping_a_promotion_and_a_part_of_an_amount_are_taken_back_to_the_cent(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, _ = ship_with_label(shop, shipping_price="4.90", items=[
        {"sku": "SB-0001", "quantity": 2, "promotion_discount": "3.00"},
        {"sku": "SB-0002", "quantity": 1}])  # fmt: skip
    invoicing_until_settled(shop)
    returned = refund(shop, order_id, "SB-0001", 1, shipping=True)  # a unit, with its shipping
    (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
    (other,) = [i for i in order.items if i.seller_sku == "SB-0002"]
    goodwill: dict[str, Any] = shop.live.admin("POST", f"/orders/{order_id}/refunds", json={
        "items": [{"orderItemId": other.order_item_id, "amount": "5.00"}],
        "postedAt": (utcnow() - timedelta(minutes=9)).isoformat()})  # fmt: skip

    runs = invoicing_until_settled(shop)
    corrected = [n for run in runs for n in run.refunds.corrected]
    assert len(corrected) == 2
    with shop.uow as uow:
        made = [documents.document_by_number(uow.session, n) for n in corrected]
        for correction, amazon in zip(made, (returned, goodwill), strict=True):
            assert -correction.total_gross == Decimal(str(amazon["total"]))
            assert -correction.total_tax == Decimal(str(amazon["totalVat"]))
        kinds = {(line.charge_kind, line.quantity) for line in made[0].lines}
        assert kinds == {(None, -1), ("shipping", -1)}  # the unit and its shipping
        (part,) = made[1].lines
        assert part.description.startswith("Partial refund")
        assert part.gross == Decimal("-5.00")
    judged = {u["invoice_number"]: u for u in sandbox_uploads(shop)
              if u["document_type"] == "CreditNote"}  # fmt: skip
    assert {judged[n]["status"] for n in corrected} == {"ACCEPTED"}  # Amazon's totals, to the cent
    assert on_hand(shop, "SB-0001", RETURNS_WAREHOUSE) == 1
    assert on_hand(shop, "SB-0002", RETURNS_WAREHOUSE) == 0  # money back, no goods back


def test_a_refund_that_cannot_be_corrected_waits_with_its_reason_until_dismissed(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, _ = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 1}])
    refund(shop, order_id, "SB-0001", 1)
    incomplete = shop.settings.model_copy(update={"seller": SellerSettings()})
    for _ in range(2):  # tried again every run, the alert open
        with shop.client() as client:
            run = run_invoicing(shop.engine, shop.account_id, client, incomplete, force=True)
        assert run.refunds.corrected == []
        assert "merchant's details" in run.problems[0]
        with shop.uow as uow:
            assert [a.kind for a in open_alerts(uow.session)] == [INVOICE_DATA_ALERT]
    environment = shop.environment() | {"COLUMNS": "250"}
    shown = CliRunner().invoke(app, ["amazon", "refunds", "--state", "waiting"], env=environment)
    assert shown.exit_code == 0, shown.output
    assert order_id in shown.output
    assert "merchant's details" in shown.output

    dismissed = CliRunner().invoke(app, ["amazon", "refunds", "dismiss", order_id, "--reason",
                                         "corrected by hand"], env=environment)  # fmt: skip
    assert dismissed.exit_code == 0, dismissed.output
    with shop.client() as client:
        run = run_invoicing(shop.engine, shop.account_id, client, incomplete, force=True)
    assert run.problems == []
    with shop.uow as uow:
        assert open_alerts(uow.session) == []
        assert uow.session.scalars(select(AmazonRefund.status)).all() == [RefundStatus.DISMISSED]


def test_a_refund_amazon_posted_a_moment_ago_is_fetched_by_its_order(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, _ = ship_with_label(shop, items=[{"sku": "SB-0002", "quantity": 1}])
    (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
    shop.live.admin("POST", f"/orders/{order_id}/refunds",
                    json={"items": [{"orderItemId": order.items[0].order_item_id,
                                     "quantity": 1}]})  # fmt: skip
    runs = invoicing_until_settled(shop)  # Amazon lists it with all events only later
    assert sum(run.refunds.new for run in runs) == 0

    environment = shop.environment() | SELLER_ENV | {"COLUMNS": "250"}
    fetched = CliRunner().invoke(app, ["amazon", "refunds", "fetch", order_id], env=environment)
    assert fetched.exit_code == 0, fetched.output
    assert "1 new refund(s)" in fetched.output
    with shop.uow as uow:
        (stored,) = uow.session.scalars(select(AmazonRefund)).all()
        assert stored.status is RefundStatus.CORRECTED
        correction = uow.session.get_one(Document, stored.document_id)
        assert correction.number in fetched.output
    again = CliRunner().invoke(app, ["amazon", "refunds", "fetch", order_id], env=environment)
    assert "0 new refund(s)" in again.output


def test_a_refund_of_an_invoice_corrected_by_hand_waits_instead_of_crediting_twice(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, number = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 2}])
    invoicing_until_settled(shop)
    with shop.uow as uow:  # the parcel came back and the merchant corrected it by hand
        invoice = documents.current_invoice(uow.session, order_by_number(uow.session, number))
        assert invoice is not None
        by_hand = documents.issue_correction(uow.session, invoice.number, reason="returned",
                                             quantities={1: 1}, settings=SETTINGS, actor="t",
                                             at=utcnow()).number  # fmt: skip
        uow.commit()
    refund(shop, order_id, "SB-0001", 1)  # Amazon's refund of the same unit

    runs = invoicing_until_settled(shop)
    assert [n for run in runs for n in run.refunds.corrected] == []
    assert any(by_hand in problem for run in runs for problem in run.problems)
    with shop.uow as uow:
        (stored,) = uow.session.scalars(select(AmazonRefund)).all()
        assert stored.status is RefundStatus.WAITING
        assert stored.reason is not None
        assert "corrected by hand" in stored.reason
        assert uow.session.scalars(
            select(Document.number).where(Document.kind == DocumentKind.CORRECTION)
        ).all() == [by_hand]  # not credited twice


def test_invoices_still_go_while_amazons_vat_invoice_data_cannot_be_read(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    refunded, _ = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 1}])
    invoicing_until_settled(shop)
    refund(shop, refunded, "SB-0001", 1)
    later, _ = ship_with_label(shop, items=[{"sku": "SB-0002", "quantity": 1}])
    # Amazon gives no VAT invoice data report this time (every attempt of the run fails).
    shop.live.admin("PUT", "/faults", json=[{"operation": "reports.createReport",
                                             "kind": "malformed", "probability": 1.0}])  # fmt: skip
    with shop.client() as client:
        run = run_invoicing(shop.engine, shop.account_id, client,
                            shop.settings.model_copy(update={"seller": SETTINGS.seller}),
                            force=True)  # fmt: skip
    assert len(run.refunds.corrected) == 1
    assert any("VAT invoice data" in problem for problem in run.problems)
    assert run.upload.sent == 1  # the uploads went on: the later order's invoice
    with shop.uow as uow:
        assert [a.kind for a in open_alerts(uow.session)] == [INVOICE_DATA_ALERT]

    shop.live.admin("PUT", "/faults", json=[])  # the report is there again: the credit note goes
    invoicing_until_settled(shop)
    credit_notes = [u for u in sandbox_uploads(shop) if u["document_type"] == "CreditNote"]
    assert [(u["order_id"], u["status"]) for u in credit_notes] == [(refunded, "ACCEPTED")]
    invoices = {u["order_id"]: u["status"] for u in sandbox_uploads(shop)
                if u["document_type"] == "Invoice"}  # fmt: skip
    assert invoices[later] == "ACCEPTED"
    with shop.uow as uow:
        assert open_alerts(uow.session) == []


def test_amazon_upload_on_the_command_line_corrects_a_refund_and_sends_its_credit_note(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, _ = ship_with_label(shop, items=[{"sku": "SB-0002", "quantity": 1}])
    invoicing_until_settled(shop)
    refund(shop, order_id, "SB-0002", 1)

    environment = shop.environment() | SELLER_ENV | {"COLUMNS": "250"}
    ran = CliRunner().invoke(app, ["amazon", "upload"], env=environment)
    assert ran.exit_code == 0, ran.output
    said = " ".join(ran.output.split())
    assert (
        "Refunds: 1 new, 1 corrected, 0 waiting, 1 credit note(s) given their transaction id"
        in said
    )
    assert "1 queued, 1 sent" in said  # the credit note, in the same run
