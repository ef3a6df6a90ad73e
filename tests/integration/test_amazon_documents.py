"""Invoices of imported Amazon orders: Amazon's amounts, the marketplace's language, paid."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from sellerbridge.core.clock import utcnow
from sellerbridge.services import documents
from sellerbridge.services.lookup import order_by_number
from tests.amazon import Shop
from tests.integration.test_documents import SETTINGS, assert_e_invoice


@pytest.mark.parametrize(
    ("marketplace", "language", "currency"), [("FR", "fr", "EUR"), ("PL", "pl", "PLN")]
)
def test_an_amazon_order_is_invoiced_in_its_marketplaces_language_as_paid(
    start_shop: Callable[..., Shop], marketplace: str, language: str, currency: str
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace=marketplace, items=[{"sku": "SB-0005", "quantity": 2}])
    shop.sync()
    with shop.uow as uow:
        order = order_by_number(uow.session, order_id)
        invoice = documents.issue_invoice(uow.session, order_id, settings=SETTINGS, actor="t",
                                          at=utcnow())  # fmt: skip
        content = documents.content_of(invoice)
        assert (content.language, content.currency) == (language, currency)
        assert content.order_reference == order_id
        assert content.total_gross == order.total_gross > 0
        assert content.prepaid == content.total_gross  # paid through Amazon: nothing due
        assert content.bank is None
        assert sum(line.gross for line in content.lines) == order.total_gross
        assert_e_invoice(invoice.pdf, invoice.number, order.total_gross)
        uow.commit()
    assert Decimal(0) < content.total_tax < content.total_gross
