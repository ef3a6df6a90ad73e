"""Labels for the automatic dispatch: Amazon Buy Shipping for the orders of Amazon accounts.

:func:`label_buyer` gives :func:`sellerbridge.services.dispatch.dispatch` a function that buys
the label for all open units of an Amazon FBM order (an order of another channel gets none and
waits for `sellerbridge ship` or `import-tracking`). The order is read in a transaction of its
own that ends before Amazon is called: no database lock is held while the label is bought (on
SQLite, an open transaction would block every writer, the client's call log included).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Engine, select
from sqlalchemy.orm import selectinload

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.labels import AmazonLabelProvider, LabelRule, Parcel, ShipFrom
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.config import Settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import AmazonAccount, AmazonOrderBinding, SalesOrder, SalesOrderLine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box
from sellerbridge.services.dispatch import LabelBuyer
from sellerbridge.services.shipping import Label, Package

FAST_SERVICE_LEVELS = frozenset({"EXPEDITED", "NEXT_DAY", "PRIORITY", "SAME_DAY", "SECOND_DAY"})
"""Amazon's ``fulfillmentServiceLevel`` values for which the buyer paid for speed."""


def rule_for(service_level: str | None, settings: Settings) -> LabelRule:
    """The fastest service for a buyer who chose a fast shipping speed at checkout (Prime next
    day, expedited); otherwise the configured ``label_rule``."""
    if service_level and service_level.upper() in FAST_SERVICE_LEVELS:
        return "fastest"
    return settings.label_rule


@contextmanager
def label_buyer(engine: Engine, settings: Settings) -> Iterator[LabelBuyer]:
    """A label buyer for the duration of the block; its SP-API clients close with it."""
    ship_from = ShipFrom.from_seller(settings.seller, settings.home_country)
    clients: dict[int, SpApiClient] = {}
    box = secret_box(settings)
    with ExitStack() as stack:

        def client(account: AmazonAccount) -> SpApiClient:
            if account.id not in clients:
                made = accounts.client_for(account, box, engine=engine, settings=settings)
                clients[account.id] = stack.enter_context(made)
            return clients[account.id]

        def buy(number: str) -> Package | None:
            with UnitOfWork(engine) as uow:
                order = uow.session.scalars(
                    select(SalesOrder)
                    .where(SalesOrder.number == number)
                    .options(selectinload(SalesOrder.lines).selectinload(SalesOrderLine.article))
                ).one()
                binding = uow.session.scalars(
                    select(AmazonOrderBinding).where(AmazonOrderBinding.order_id == order.id)
                ).first()
                if binding is None:
                    return None
                account = uow.session.get_one(AmazonAccount, binding.account_id)
                provider = AmazonLabelProvider(client(account), ship_from, settings)
                parcel = Parcel.ready_of(order)
                if not parcel.lines:
                    raise DomainError(f"No unit of order {number} has its stock reserved now.")
                # Keep what was read: the unit of work's rollback would expire it.
                uow.session.expunge_all()
            label = provider.buy_label(order, parcel, rule_for(order.service_level, settings))
            return Package(
                carrier=label.carrier,
                tracking_number=label.tracking_number,
                shipping_method=label.service,
                lines={
                    parcel_line.line.position: parcel_line.quantity for parcel_line in parcel.lines
                },
                # Amazon's guide: a Buy Shipping label confirms the shipment by itself.
                label=Label(label.content, label.format, label.reference, confirms_shipment=True),
            )

        yield buy
