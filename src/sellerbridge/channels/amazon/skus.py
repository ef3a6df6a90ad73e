"""SKU bindings: which article a seller SKU sells.

An Amazon order line names the seller SKU; the import finds its article through a binding of
the account, or else an article numbered like the SKU. A line whose SKU matches neither holds
its order. Mapping the SKU fixes every held line that names it at once — the lines get their
article and, for orders the merchant ships, their stock is reserved — and the orders can then
be released.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from sellerbridge.channels.amazon.accounts import account_by_name
from sellerbridge.core.clock import utcnow
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonOrderBinding,
    AmazonSkuBinding,
    SalesOrder,
    SalesOrderLine,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.events import record_event
from sellerbridge.services.lookup import article_by_number


@dataclass(frozen=True)
class SkuMapping:
    sku: str
    article: str
    lines_fixed: int
    ready_to_release: list[str]
    """Held orders whose every line now has an article."""


def map_sku(
    uow: UnitOfWork, *, sku: str, article_number: str, account: str | None, actor: str
) -> SkuMapping:
    """Bind ``sku`` to an article and give every waiting line of that SKU its article."""
    sku = sku.strip()
    with uow:
        session = uow.session
        amazon = account_by_name(session, account)
        article = article_by_number(session, article_number)
        binding = session.scalars(
            select(AmazonSkuBinding).where(
                AmazonSkuBinding.account_id == amazon.id, AmazonSkuBinding.seller_sku == sku
            )
        ).first()
        if binding is None:
            session.add(AmazonSkuBinding(account_id=amazon.id, seller_sku=sku, article=article))
        else:
            binding.article = article
        lines = session.scalars(
            select(SalesOrderLine)
            .join(SalesOrder, SalesOrderLine.order_id == SalesOrder.id)
            .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
            .where(
                AmazonOrderBinding.account_id == amazon.id,
                SalesOrderLine.article_id.is_(None),
                SalesOrderLine.article_number == sku,
                SalesOrder.state.not_in((OrderState.CANCELLED, OrderState.COMPLETED)),
            )
            .order_by(SalesOrder.ordered_at, SalesOrderLine.position)
        ).all()
        now = utcnow()
        for line in lines:
            line.article = article
            record_event(line.order, "article_mapped",
                         f"SKU {sku} on line {line.position} is article {article.number}.",
                         actor=actor, at=now)  # fmt: skip
        session.flush()
        for order in _orders(lines):
            if not order.channel.fulfilled_externally:
                stock.reserve_lines(session, order, order.lines, actor=actor, at=now)
        ready = [
            order.number
            for order in _orders(lines)
            if order.state == OrderState.ON_HOLD and all(line.article_id for line in order.lines)
        ]
        uow.commit()
    return SkuMapping(sku, article.number, len(lines), ready)


def _orders(lines: Sequence[SalesOrderLine]) -> list[SalesOrder]:
    return list({line.order_id: line.order for line in lines}.values())


def sku_bindings(uow: UnitOfWork, account: str | None) -> list[tuple[str, str]]:
    """(SKU, article number) of every binding of the account."""
    with uow:
        amazon = account_by_name(uow.session, account)
        bindings = uow.session.scalars(
            select(AmazonSkuBinding)
            .where(AmazonSkuBinding.account_id == amazon.id)
            .order_by(AmazonSkuBinding.seller_sku)
        ).all()
        return [(binding.seller_sku, binding.article.number) for binding in bindings]
