"""SKU bindings: which article a seller SKU sells.

An Amazon order line names the seller SKU; the import finds its article through a binding of
the account, or else an article numbered like the SKU. A line whose SKU matches neither holds
its order. Mapping the SKU fixes every held line that names it at once — the lines get their
article and, for orders the merchant ships, their stock is reserved — and the orders can then
be released.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select, update

from sellerbridge.channels.amazon.accounts import account_by_name
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import InvalidInput, NotFound
from sellerbridge.core.offers import OfferRule
from sellerbridge.core.orders import HOLD_SHIPPED_ELSEWHERE, OrderState
from sellerbridge.db.models import (
    AmazonOffer,
    AmazonOrderBinding,
    AmazonSkuBinding,
    Article,
    SalesOrder,
    SalesOrderLine,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.events import record_event
from sellerbridge.services.lookup import article_by_number, order_by_number

_T = TypeVar("_T")


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
        # The SKU's offers now show this article's stock: compared again at the next push.
        session.execute(
            update(AmazonOffer)
            .where(AmazonOffer.account_id == amazon.id, AmazonOffer.seller_sku == sku)
            .values(article_id=article.id, stock_version=AmazonOffer.stock_version + 1)
        )
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


@dataclass(frozen=True)
class StockRuleChange:
    """What to change of a SKU's stock rule; None leaves a value as it is."""

    buffer: int | None = None
    buffer_percent: Decimal | None = None
    zero_below: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    no_maximum: bool = False
    handling_days: int | None = None


def set_stock_rule(
    uow: UnitOfWork, *, sku: str, account: str | None, change: StockRuleChange
) -> tuple[OfferRule, int | None]:
    """Change how much of the free stock ``sku`` offers on Amazon (and its handling time); its
    offers are compared again at the next push. Returns the rule and handling time now."""
    if change.handling_days is not None and not 0 <= change.handling_days <= 30:
        raise InvalidInput("handling_days", f"{change.handling_days} is not 0 to 30 days")
    with uow:
        session = uow.session
        amazon = account_by_name(session, account)
        binding = session.scalars(
            select(AmazonSkuBinding).where(
                AmazonSkuBinding.account_id == amazon.id, AmazonSkuBinding.seller_sku == sku
            )
        ).first()
        if binding is None:  # a SKU numbered like its article: its rule needs a binding
            article = session.scalars(select(Article).where(Article.number == sku)).first()
            if article is None:
                raise NotFound(
                    f"SKU {sku} sells no article.",
                    hint="Map it first: `sellerbridge skus map SKU ARTICLE`.",
                )
            binding = AmazonSkuBinding(account_id=amazon.id, seller_sku=sku, article=article,
                                       stock_buffer=0, stock_buffer_percent=Decimal(0),
                                       stock_zero_below=0, stock_minimum=0)  # fmt: skip
            session.add(binding)
        rule = OfferRule(  # checks the combination
            buffer=_given(change.buffer, binding.stock_buffer),
            buffer_percent=_given(change.buffer_percent, binding.stock_buffer_percent),
            zero_below=_given(change.zero_below, binding.stock_zero_below),
            minimum=_given(change.minimum, binding.stock_minimum),
            maximum=None if change.no_maximum else _given(change.maximum, binding.stock_maximum),
        )
        binding.stock_buffer, binding.stock_buffer_percent = rule.buffer, rule.buffer_percent
        binding.stock_zero_below, binding.stock_minimum = rule.zero_below, rule.minimum
        binding.stock_maximum = rule.maximum
        handling_changed = change.handling_days not in (None, binding.handling_days)
        binding.handling_days = _given(change.handling_days, binding.handling_days)
        values: dict[str, Any] = {"stock_version": AmazonOffer.stock_version + 1}
        if handling_changed:  # it goes with the quantity: send that again even if unchanged
            values["sent_quantity"] = None
        session.execute(
            update(AmazonOffer)
            .where(AmazonOffer.account_id == amazon.id, AmazonOffer.seller_sku == sku)
            .values(**values)
        )
        handling = binding.handling_days
        uow.commit()
    return rule, handling


def _given(value: _T | None, current: _T) -> _T:
    return current if value is None else value


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
