"""The FBA process: every shipped FBA order gets its invoice, e-mailed only when enabled.

The mail goes over a real SMTP conversation (aiosmtpd) to the buyer's relay address, which the
job reads from the sandbox with ``getOrderBuyerInfo`` (the Orders API 2026 gives none for FBA).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.fba import buyer_emails
from sellerbridge.config import Settings, SmtpSettings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.stock import MovementKind
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.models import (
    Article,
    Document,
    DocumentMail,
    StockLevelRecord,
    StockMovement,
    Warehouse,
)
from sellerbridge.services import documents, mailing, stock
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.fba import ALERT, FbaReport, invoice_fba_orders
from tests.amazon import FAST, Shop
from tests.integration.test_documents import SETTINGS
from tests.smtp import MailServer, mail_server

BUYER_INFO = "ordersV0.getOrderBuyerInfo"


@pytest.fixture
def server() -> Iterator[MailServer]:
    with mail_server() as running:
        yield running


def place_fba(shop: Shop) -> str:
    return shop.place(marketplace="DE", fulfilled_by="AMAZON", status="SHIPPED",
                      ship_from_country="DE")  # fmt: skip


def count(shop: Shop, model: type[Document] | type[DocumentMail]) -> int:
    with shop.uow as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def invoice(shop: Shop, **client_options: Any) -> FbaReport:
    """One run of the FBA invoicing job's reconciler, with its address lookup at the sandbox."""
    with buyer_emails(shop.engine, shop.settings, shop.account_id, **client_options) as lookup:
        return invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow(),
                                  buyer_emails=lookup)  # fmt: skip


def mail_settings(shop: Shop, server: MailServer) -> Settings:
    smtp = SmtpSettings(host=server.host, port=server.port, security="none",
                        sender="rechnung@kaffeehaus.example")  # fmt: skip
    return shop.settings.model_copy(update={"smtp": smtp})


def buyer_info_calls(shop: Shop) -> list[Any]:
    calls: list[Any] = shop.live.admin("GET", "/requests", params={"operation": BUYER_INFO})
    return calls


def test_fba_invoices_are_issued_once_and_mailed_only_when_enabled(
    start_shop: Callable[..., Shop], server: MailServer
) -> None:
    shop = start_shop()
    place_fba(shop)
    shop.sync()
    report = invoice(shop)
    assert (report.mailed, report.failed) == (0, 0)
    assert report.invoiced >= 1  # the first order, and any shipped FBA order the sandbox made
    assert count(shop, DocumentMail) == 0
    assert mailing.send_due_mails(shop.engine, mail_settings(shop, server)) == 0
    assert server.received == []
    assert buyer_info_calls(shop) == []  # mail disabled: no buyer's address is read
    invoiced = count(shop, Document)
    again = invoice(shop)
    assert again.invoiced == 0  # a reconciler: nothing is invoiced twice
    assert count(shop, Document) == invoiced

    accounts.configure(shop.uow, None, mail_fba_invoices=True)
    order_id = place_fba(shop)
    shop.sync()
    report = invoice(shop)
    assert (report.invoiced, report.mailed, report.failed) == (1, 1, 0)
    assert mailing.send_due_mails(shop.engine, mail_settings(shop, server)) == 1

    (received,) = server.received
    relay = shop.live.admin("GET", f"/orders/{order_id}")["buyer_email"]
    assert relay.endswith("@marketplace.amazon.de")  # Amazon relays it to the buyer
    assert received.recipients == (relay,)
    with shop.uow as uow:
        number = uow.session.scalars(select(Document.number).order_by(Document.id.desc())).first()
        assert number is not None
        assert number in received.message["Subject"]
        (attachment,) = list(received.message.iter_attachments())
        assert attachment.get_content() == documents.pdf_of(uow.session, number)
    (call,) = buyer_info_calls(shop)
    assert order_id in call["path"]
    assert invoice(shop).invoiced == 0
    assert mailing.send_due_mails(shop.engine, mail_settings(shop, server)) == 0  # once only


def test_an_address_amazon_cannot_give_now_holds_the_invoice_for_the_next_run(
    start_shop: Callable[..., Shop], server: MailServer
) -> None:
    shop = start_shop()
    shop.sync()
    invoice(shop)  # whatever FBA orders the sandbox made, mail disabled
    accounts.configure(shop.uow, None, mail_fba_invoices=True)
    place_fba(shop)
    shop.sync()
    invoiced = count(shop, Document)
    shop.live.admin("PUT", "/faults", json=[
        {"operation": BUYER_INFO, "kind": "error503", "probability": 1.0},
    ])  # fmt: skip

    report = invoice(shop, retry=FAST)
    assert (report.invoiced, report.failed) == (0, 1)
    assert "left for the next run" in report.problems[0]
    assert count(shop, Document) == invoiced  # not issued without its mail
    with shop.uow as uow:
        (alert,) = open_alerts(uow.session)
        assert alert.kind == ALERT
        assert "could not be issued or e-mailed" in alert.message

    shop.live.admin("PUT", "/faults", json=[])
    report = invoice(shop, retry=FAST)
    assert (report.invoiced, report.mailed, report.failed) == (1, 1, 0)
    assert mailing.send_due_mails(shop.engine, mail_settings(shop, server)) == 1
    with shop.uow as uow:
        assert open_alerts(uow.session) == []


def test_an_fba_sale_is_booked_out_of_the_fba_warehouse_where_its_stock_is_tracked(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.sync()  # whatever the sandbox made first
    with shop.uow as uow:
        fba = uow.session.scalars(
            select(Warehouse).where(Warehouse.kind == WarehouseKind.FBA)
        ).one()
        tracked = uow.session.scalars(select(Article).where(Article.number == "SB-0003")).one()
        # What the FBA inventory import records: Amazon holds 10 units of SB-0003.
        stock.book_movement(uow.session, article=tracked, warehouse=fba, kind=MovementKind.RECEIPT,
                            quantity=10, actor="test")  # fmt: skip
        uow.commit()
    order_id = shop.place(marketplace="DE", fulfilled_by="AMAZON", status="SHIPPED",
                          items=[{"sku": "SB-0003-FBA", "quantity": 3},
                                 {"sku": "SB-0006-FBA", "quantity": 1}])  # fmt: skip
    shop.sync()

    erp = shop.erp(order_id)
    assert erp.state == "shipped"
    with shop.uow as uow:
        levels = {
            level.article.number: level.on_hand
            for level in uow.session.scalars(
                select(StockLevelRecord).where(StockLevelRecord.warehouse_id == fba.id)
            )
        }
        assert levels == {"SB-0003": 7}  # untracked SB-0006 gets no stock row
        (movement,) = uow.session.scalars(
            select(StockMovement).where(StockMovement.kind == MovementKind.SHIPMENT)
        ).all()
        assert (movement.quantity, movement.warehouse_id) == (-3, fba.id)
        assert movement.reference == erp.number
