"""The FBA process: every shipped FBA order gets its invoice, e-mailed only when enabled."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import Document, DocumentMail
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.fba import ALERT, invoice_fba_orders
from tests.amazon import Shop
from tests.integration.test_documents import SETTINGS


def place_fba(shop: Shop) -> str:
    return shop.place(marketplace="DE", fulfilled_by="AMAZON", status="SHIPPED",
                      ship_from_country="DE")  # fmt: skip


def count(shop: Shop, model: type[Document] | type[DocumentMail]) -> int:
    with shop.uow as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_fba_invoices_are_issued_once_and_their_mail_only_when_enabled(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    place_fba(shop)
    shop.sync()
    report = invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow())
    assert (report.mailed, report.failed) == (0, 0)
    assert report.invoiced >= 1  # the first order, and any shipped FBA order the sandbox made
    assert count(shop, DocumentMail) == 0
    invoiced = count(shop, Document)
    again = invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow())
    assert again.invoiced == 0  # a reconciler: nothing is invoiced twice
    assert count(shop, Document) == invoiced

    # Amazon gives no buyer e-mail for FBA orders (Orders API 2026: buyerEmail is FBM only):
    # with e-mail enabled the invoice is still issued, and the missing address is alerted.
    accounts.configure(shop.uow, None, mail_fba_invoices=True)
    place_fba(shop)
    shop.sync()
    report = invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow())
    assert (report.invoiced, report.mailed, report.failed) == (1, 0, 1)
    assert "has no e-mail address" in report.problems[0]
    assert count(shop, Document) == invoiced + 1
    with shop.uow as uow:
        (alert,) = open_alerts(uow.session)
        assert alert.kind == ALERT
        assert "could not be issued or e-mailed" in alert.message
