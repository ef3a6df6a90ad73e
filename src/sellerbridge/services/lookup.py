"""Finding records by the names people use for them, with a useful error when they are wrong."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerbridge.core.errors import DomainError, NotFound
from sellerbridge.db.models import Article, Customer, SalesChannel, SalesOrder, Warehouse


def article_by_number(session: Session, number: str) -> Article:
    article = session.scalars(select(Article).where(Article.number == number.strip())).first()
    if article is None:
        raise NotFound(
            f"There is no article {number!r}.",
            hint="Check the number with `sellerbridge articles list`, or import the article first.",
        )
    return article


def warehouse_by_code(session: Session, code: str) -> Warehouse:
    warehouse = session.scalars(select(Warehouse).where(Warehouse.code == code.strip())).first()
    if warehouse is None:
        codes = ", ".join(session.scalars(select(Warehouse.code).order_by(Warehouse.code)))
        raise NotFound(f"There is no warehouse {code!r}.", hint=f"Known warehouses: {codes}.")
    return warehouse


def channel_by_code(session: Session, code: str) -> SalesChannel:
    channel = session.scalars(select(SalesChannel).where(SalesChannel.code == code)).first()
    if channel is None:
        raise NotFound(
            f"There is no sales channel {code!r}.",
            hint="Run `sellerbridge init` to create the manual channel.",
        )
    return channel


def customer_by_number(session: Session, number: str) -> Customer:
    customer = session.scalars(select(Customer).where(Customer.number == number.strip())).first()
    if customer is None:
        raise NotFound(f"There is no customer {number!r}.")
    return customer


def order_by_number(session: Session, number: str, *, for_update: bool = False) -> SalesOrder:
    """The order ``number`` — or the one whose channel reference (an Amazon order id) it is;
    with ``for_update``, locked and read afresh.

    The lock is ``FOR NO KEY UPDATE``: it keeps other writers of the order out but lets them add
    timeline entries, which only need the order to exist.
    """
    wanted = number.strip()
    for column in (SalesOrder.number, SalesOrder.external_reference):
        query = select(SalesOrder).where(column == wanted).order_by(SalesOrder.id).limit(2)
        if for_update:
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        found = session.scalars(query).all()
        if len(found) == 1:
            return found[0]
        if found:
            raise DomainError(
                f"Several orders have the reference {number!r}.", hint="Name one by its number."
            )
    raise NotFound(
        f"There is no order {number!r}.", hint="List orders with `sellerbridge orders list`."
    )
