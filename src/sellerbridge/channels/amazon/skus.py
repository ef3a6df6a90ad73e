"""SKU bindings: which article a seller SKU sells.

An Amazon order line names the seller SKU; the import finds its article through a binding of
the account, or else an article numbered like the SKU. A line whose SKU matches neither holds
its order. Mapping the SKU fixes every held line that names it at once — the lines get their
article and, for orders the merchant ships, their stock is reserved — and the orders can then
be released.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sellerbridge.channels.amazon.accounts import account_by_name
from sellerbridge.core.clock import utcnow
from sellerbridge.core.orders import HOLD_SHIPPED_ELSEWHERE, OrderState
from sellerbridge.db.models import (
    AmazonOrderBinding,
    AmazonSkuBinding,
    SalesOrder,
    SalesOrderLine,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.events import record_event
from sellerbridge.services.lookup import article_by_number, order_by_number


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
    """Bind ``sku`` to an article and give every waiting line of that SKU its article.

    Orders the merchant ships get the stock reserved; orders shipped elsewhere (they are
    history) and orders Amazon ships do not.
    """
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
        waiting = select(SalesOrderLine.order_id).where(
            SalesOrderLine.article_id.is_(None), SalesOrderLine.article_number == sku
        )
        numbers = session.scalars(
            select(SalesOrder.number)
            .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
            .where(
                AmazonOrderBinding.account_id == amazon.id,
                SalesOrder.id.in_(waiting),
                SalesOrder.state.not_in((OrderState.CANCELLED, OrderState.COMPLETED)),
            )
            .order_by(SalesOrder.ordered_at, SalesOrder.id)
        ).all()
        # Lock order: the stock rows first (the new article's, in each order's warehouse),
        # then each order with the rows of what it reserved already.
        orders = [order_by_number(session, number) for number in numbers]
        for warehouse in sorted({o.warehouse for o in orders}, key=lambda w: w.id):
            stock.lock_stock(session, [article], warehouse)
        orders = [stock.lock_order_with_stock(session, number) for number in numbers]
        now = utcnow()
        fixed = 0
        for order in orders:
            lines = [
                line
                for line in order.lines
                if line.article_id is None and line.article_number == sku
            ]
            for line in lines:
                line.article = article
                record_event(order, "article_mapped",
                             f"SKU {sku} on line {line.position} is article {article.number}.",
                             actor=actor, at=now)  # fmt: skip
            fixed += len(lines)
            if order.state != OrderState.CANCELLED and _ships_from_stock(order):
                stock.reserve_lines(session, order, lines, actor=actor, at=now)
        ready = [
            order.number
            for order in orders
            if order.state == OrderState.ON_HOLD and all(line.article_id for line in order.lines)
        ]
        uow.commit()
    return SkuMapping(sku, article.number, fixed, ready)


def _ships_from_stock(order: SalesOrder) -> bool:
    """Whether the merchant's stock goes into the order (not Amazon's, not shipped already)."""
    shipped_elsewhere = any(hold.code == HOLD_SHIPPED_ELSEWHERE for hold in order.open_holds)
    return not order.channel.fulfilled_externally and not shipped_elsewhere


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
