"""The order import: every Amazon order exactly once, in its current state, nothing dropped.

The flow, per account:

1. **Window.** ``searchOrders`` by ``lastUpdatedAfter``/``lastUpdatedBefore``. A window ends
   ``amazon_window_delay_seconds`` in the past, because Amazon refuses (and may not yet have
   settled) anything newer than two minutes; it starts ``amazon_window_overlap_seconds`` before
   the previous window ended, because an order Amazon updates late in a window can appear after
   the window was read. Reading an order twice is harmless: see 3.
2. **Pages.** After each page the cursor (window bounds and pagination token) is saved in its
   own transaction, so a crash resumes at the page it stopped at. If the token has expired
   (Amazon keeps them 24 hours), the window is read again from its start.
3. **Orders.** Each order is applied in its own transaction: the binding row
   (account, marketplace, order id) is unique, and the order is only changed when Amazon's
   ``lastUpdatedTime`` is newer than the version applied — so replays, overlaps and two
   processes racing change nothing twice. A first import follows :mod:`.rules`; an order that
   cannot be mapped cleanly (unknown SKU, totals that do not add up, an incomplete address, a
   cancellation request) is stored on hold with the reason, never dropped.
4. **Changes.** A cancellation before shipping cancels the ERP order and releases its stock;
   after shipping it raises an alert. A buyer's cancellation request holds the order; an FBM
   order Amazon reports shipped although sellerbridge did not ship it is held too.

Only one import per account runs at a time (a lock that a crash releases); several accounts,
or a backfill beside the regular import, run side by side.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from sellerbridge.channels.amazon.orders.mapper import ImportedLine, ImportedOrder, map_order
from sellerbridge.channels.amazon.orders.rules import Decision, ImportRules, decide
from sellerbridge.channels.amazon.spapi import RejectedError, SpApiClient
from sellerbridge.channels.amazon.spapi.models.orders import Order, SearchOrdersResponse
from sellerbridge.config import Settings
from sellerbridge.core.errors import DomainError, InvalidFields, InvalidInput
from sellerbridge.core.orders import (
    HOLD_ADDRESS_INCOMPLETE,
    HOLD_CANCEL_REQUEST,
    HOLD_PARTLY_SHIPPED,
    HOLD_SHIPPED_ELSEWHERE,
    HOLD_TOTALS_MISMATCH,
    HOLD_UNKNOWN_ARTICLE,
    OrderState,
)
from sellerbridge.core.parties import FIELD_LENGTHS, Address, validated_address
from sellerbridge.db.locks import LockTaken, exclusive
from sellerbridge.db.models import (
    AddressRecord,
    AmazonAccount,
    AmazonChannel,
    AmazonCustomerBinding,
    AmazonMarketplace,
    AmazonOrderBinding,
    AmazonSkuBinding,
    Article,
    BundleComponent,
    Customer,
    Fulfillment,
    ImportCursor,
    SalesChannel,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
    Severity,
    Warehouse,
)
from sellerbridge.db.numbering import allocate_numbers
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders as order_service
from sellerbridge.services import stock
from sellerbridge.services.alerts import raise_alert
from sellerbridge.services.events import record_event

log = structlog.get_logger("sellerbridge.amazon.import")

STREAM = "orders"
PAGE_SIZE = 100
"""Orders per page: Amazon's maximum (the fewest calls for the tight searchOrders quota)."""
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PROMOTION", "CANCELLATION",
                 "TAX", "PACKAGES")  # fmt: skip
SHIPPED_STATES = frozenset({OrderState.SHIPPED, OrderState.PARTIALLY_SHIPPED, OrderState.COMPLETED})


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WAITING = "waiting"
    SKIPPED = "skipped"


@dataclass
class ImportReport:
    pages: int = 0
    orders: Counter[Outcome] = field(default_factory=Counter)

    @property
    def seen(self) -> int:
        return sum(self.orders.values())


@dataclass(frozen=True)
class Progress:
    """How far the import is: through its window (0–1), and what it did so far."""

    fraction: float
    report: ImportReport


class OrderImporter:
    def __init__(
        self,
        engine: Engine,
        account_id: int,
        client: SpApiClient,
        settings: Settings,
        *,
        actor: str = "job:amazon-import",
        clock: Callable[[], datetime],
        on_progress: Callable[[Progress], None] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._engine = engine
        self._uow = UnitOfWork(engine)
        self._account_id = account_id
        self._client = client
        self._settings = settings
        self._actor = actor
        self._clock = clock
        self._on_progress = on_progress
        self._page_size = page_size

    # --- the run ---------------------------------------------------------------------------

    def run(self, *, since: datetime | None = None, until: datetime | None = None) -> ImportReport:
        """Import what changed since the last run; with ``since``, a backfill of that range.

        Raises :class:`~sellerbridge.db.locks.LockTaken` if the same import runs elsewhere.
        """
        stream = STREAM if since is None else _backfill_stream(since, until)
        busy = (
            f"{'This backfill' if since else 'The order import of this account'} is running in "
            "another process already; wait for it to finish (a later run continues where it "
            "stopped)."
        )
        with exclusive(self._engine, f"amazon-import:{self._account_id}:{stream}", busy=busy):
            report = ImportReport()
            window = self._open_window(stream, since=since, until=until)
            if window is None:
                return report
            after, before, token = window
            rules = self.rules(since)
            for page in self._pages(stream, self._query(after, before, rules), token):
                report.pages += 1
                report.orders.update(self._store_page(stream, page, rules))
                if self._on_progress is not None and page.orders:
                    self._on_progress(Progress(_through(page, after, before), report))
            self._close_window(stream, before)
            counts = {outcome.value: count for outcome, count in report.orders.items()}
            log.info(
                "import finished",
                account=self._account_id,
                stream=stream,
                pages=report.pages,
                **counts,
            )
            return report

    def _open_window(
        self, stream: str, *, since: datetime | None, until: datetime | None
    ) -> tuple[datetime, datetime, str | None] | None:
        """The window to read (resuming an open one), or None if there is nothing to read."""
        # Whole seconds: Amazon's times have no fractions, and a window must not end between
        # the second the request names and the one the cursor remembers.
        latest = (
            self._clock() - timedelta(seconds=self._settings.amazon_window_delay_seconds)
        ).replace(microsecond=0)
        with self._uow:
            session = self._uow.session
            account = session.get_one(AmazonAccount, self._account_id)
            cursor = self._cursor(session, stream, since or account.start_date)
            if cursor.window_after is not None and cursor.window_before is not None:
                window = (cursor.window_after, cursor.window_before, cursor.pagination_token)
                self._uow.commit()
                return window
            overlap = timedelta(seconds=self._settings.amazon_window_overlap_seconds)
            after = max(cursor.watermark - overlap, since or account.start_date)
            before = min(latest, until) if until else latest
            if before <= after:
                self._uow.commit()
                return None
            cursor.window_after, cursor.window_before = after, before
            cursor.pagination_token, cursor.pages = None, 0
            self._uow.commit()
            return after, before, None

    def _cursor(self, session: Session, stream: str, start: datetime) -> ImportCursor:
        cursor = session.scalars(
            select(ImportCursor).where(
                ImportCursor.account_id == self._account_id, ImportCursor.stream == stream
            )
        ).first()
        if cursor is None:
            cursor = ImportCursor(account_id=self._account_id, stream=stream, watermark=start)
            session.add(cursor)
        return cursor

    def _pages(
        self, stream: str, query: dict[str, Any], token: str | None
    ) -> Iterator[SearchOrdersResponse]:
        restarted = False
        while True:
            try:
                page = self._client.search_orders(
                    **query, **({"paginationToken": token} if token else {})
                )
            except RejectedError as error:
                # Amazon keeps a token 24 hours: one left by a crash may have expired. Read the
                # window again from its start (the orders read already come back unchanged),
                # once: a token refused again is a different problem.
                if token is None or restarted or not _token_refused(error):
                    raise
                log.warning("pagination token refused; reading the window again", stream=stream)
                token, restarted = None, True
                continue
            yield page
            token = page.pagination.next_token if page.pagination else None
            if token is None:
                return

    def _query(self, after: datetime, before: datetime, rules: ImportRules) -> dict[str, Any]:
        # The same rules give the same query: a pagination token needs it unchanged.
        marketplaces = sorted(rules.marketplace_ids)
        fulfilled_by = [
            value
            for value, wanted in (("MERCHANT", rules.import_fbm), ("AMAZON", rules.import_fba))
            if wanted
        ]
        if not marketplaces or not fulfilled_by:
            raise DomainError(
                "This account imports no marketplace or no fulfilment type.",
                hint="Choose them with `sellerbridge amazon configure --marketplaces DE,FR --fbm`.",
            )
        return {
            "lastUpdatedAfter": after,
            "lastUpdatedBefore": before,
            "marketplaceIds": marketplaces,
            "fulfilledBy": fulfilled_by,
            "includedData": list(INCLUDED_DATA),
            "maxResultsPerPage": self._page_size,
        }

    def _advance(self, session: Session, stream: str, page: SearchOrdersResponse) -> None:
        cursor = self._cursor(session, stream, self._clock())
        cursor.pagination_token = page.pagination.next_token if page.pagination else None
        cursor.pages += 1

    def _close_window(self, stream: str, before: datetime) -> None:
        with self._uow:
            cursor = self._cursor(self._uow.session, stream, before)
            cursor.watermark = before
            cursor.window_after = cursor.window_before = None
            cursor.pagination_token = None
            self._uow.commit()

    # --- orders ------------------------------------------------------------------------------

    def _store_page(
        self, stream: str, page: SearchOrdersResponse, rules: ImportRules
    ) -> list[Outcome]:
        """Apply the orders of a page and move the cursor past it.

        Fast path: the whole page in one transaction with the cursor, so a crash leaves either
        all of it or none. If that fails — another process applied one of its orders at the
        same moment, a deadlock, an order that cannot be stored — each order is applied in a
        transaction of its own, so the others are not held up by one; an order that still
        fails stops the import there, before the cursor passes it.
        """
        try:
            with self._uow:
                outcomes = self._apply(self._uow.session, page.orders, rules)
                self._advance(self._uow.session, stream, page)
                self._uow.commit()
            return outcomes
        except Exception as error:  # noqa: BLE001 - every order is tried again on its own
            log.warning("page applied order by order", stream=stream, error=type(error).__name__)
        outcomes = [self._apply_alone(order, rules) for order in page.orders]
        with self._uow:
            self._advance(self._uow.session, stream, page)
            self._uow.commit()
        return outcomes

    def _apply_alone(self, order: Order, rules: ImportRules) -> Outcome:
        """Apply an order in its own transaction; if another process created it at the same
        moment, apply it again (it then finds the binding the other one wrote)."""
        try:
            return self.apply(order, rules)
        except IntegrityError:
            return self.apply(order, rules)

    def rules(self, since: datetime | None = None) -> ImportRules:
        """The account's import rules; a backfill from ``since`` reaches before its start date."""
        with self._uow:
            account = self._uow.session.get_one(AmazonAccount, self._account_id)
            return ImportRules(
                start_date=min(since, account.start_date) if since else account.start_date,
                taken_over=account.start_date,
                import_fbm=account.import_fbm,
                import_fba=account.import_fba,
                marketplace_ids=frozenset(
                    m.marketplace_id for m in account.marketplaces if m.import_enabled
                ),
            )

    def apply(self, order: Order, rules: ImportRules) -> Outcome:
        """Apply one Amazon order in its own transaction."""
        with self._uow:
            (outcome,) = self._apply(self._uow.session, [order], rules)
            self._uow.commit()
        return outcome

    def _apply(self, session: Session, orders: list[Order], rules: ImportRules) -> list[Outcome]:
        """Create, update or pass over each order, inside the caller's transaction.

        Everything the orders need is read up front — their bindings (locked), channels,
        articles, customers, numbers — so the new rows are written together in one flush.
        """
        now = self._clock()
        imported = [map_order(order) for order in orders]
        bindings = self._bindings(session, imported)
        outcomes: list[Outcome] = []
        creating: list[tuple[ImportedOrder, Order]] = []
        for mapped, order in zip(imported, orders, strict=True):
            binding = bindings.get((mapped.marketplace_id, mapped.amazon_order_id))
            if binding is not None:
                if mapped.last_updated <= binding.last_updated_time:
                    outcomes.append(Outcome.UNCHANGED)
                else:
                    self._update(session, binding, mapped, order, now)
                    outcomes.append(Outcome.UPDATED)
                continue
            verdict = decide(mapped, rules)
            if verdict.decision is Decision.IMPORT:
                creating.append((mapped, order))
                outcomes.append(Outcome.CREATED)
            else:
                outcomes.append(
                    Outcome.WAITING if verdict.decision is Decision.WAIT else Outcome.SKIPPED
                )
        if creating:
            lookups = self._lookups(session, [mapped for mapped, _ in creating])
            for mapped, order in creating:
                self._create(session, mapped, order, rules, lookups, now)
        return outcomes

    def _bindings(
        self, session: Session, imported: list[ImportedOrder]
    ) -> dict[tuple[str, str], AmazonOrderBinding]:
        found = session.scalars(
            select(AmazonOrderBinding)
            .where(
                AmazonOrderBinding.account_id == self._account_id,
                AmazonOrderBinding.amazon_order_id.in_({o.amazon_order_id for o in imported}),
            )
            .with_for_update()
        )
        return {(b.marketplace_id, b.amazon_order_id): b for b in found}

    def _lookups(self, session: Session, imported: list[ImportedOrder]) -> _Lookups:
        """Channels, articles, customers and numbers for the orders about to be created."""
        channels = {
            (mapping.marketplace_id, mapping.fulfillment): mapping.channel
            for mapping in session.scalars(
                select(AmazonChannel)
                .where(AmazonChannel.account_id == self._account_id)
                .options(joinedload(AmazonChannel.channel).joinedload(SalesChannel.warehouse))
            )
        }
        skus = {line.seller_sku for order in imported for line in order.lines}
        with_parts = selectinload(Article.components).joinedload(BundleComponent.component)
        articles: dict[str, Article] = {
            binding.seller_sku: binding.article
            for binding in session.scalars(
                select(AmazonSkuBinding)
                .where(
                    AmazonSkuBinding.account_id == self._account_id,
                    AmazonSkuBinding.seller_sku.in_(skus),
                )
                .options(joinedload(AmazonSkuBinding.article).options(with_parts))
            )
        }
        for article in session.scalars(
            select(Article).where(Article.number.in_(skus - articles.keys())).options(with_parts)
        ):
            articles[article.number] = article
        for warehouse, stocked in _stock_needed(imported, channels, articles).items():
            stock.lock_stock(session, stocked, warehouse)
        keys = {_buyer_key(order) for order in imported}
        customers = {
            binding.buyer_key: binding.customer
            for binding in session.scalars(
                select(AmazonCustomerBinding).where(
                    AmazonCustomerBinding.account_id == self._account_id,
                    AmazonCustomerBinding.buyer_key.in_(keys),
                )
            )
        }
        series = Counter(_channel(channels, order).order_series for order in imported)
        order_numbers = {
            name: iter(allocate_numbers(session, "sales_order", name, count))
            for name, count in series.items()
        }
        customer_numbers = iter(
            allocate_numbers(session, "customer", "default", len(keys - customers.keys()))
        )
        return _Lookups(channels, articles, customers, order_numbers, customer_numbers)

    def _create(
        self,
        session: Session,
        imported: ImportedOrder,
        order: Order,
        rules: ImportRules,
        lookups: _Lookups,
        now: datetime,
    ) -> None:
        fulfillment = _fulfillment(imported)
        channel = _channel(lookups.channels, imported)
        lines = [
            _line(position, line, lookups.articles.get(line.seller_sku))
            for position, line in enumerate(imported.lines, start=1)
        ]
        holds = _holds(imported, lines)
        shipped_outside = fulfillment is Fulfillment.FBM and imported.status == "SHIPPED"
        address = _storable(imported.delivery_address)
        erp_order = order_service.place_order(
            session,
            order_service.NewOrder(
                channel=channel,
                number=next(lookups.order_numbers[channel.order_series]),
                customer=self._customer(session, imported, address, lookups),
                billing=address,
                shipping=address,
                currency=imported.currency or self._marketplace_currency(session, imported),
                prices_include_tax=True,
                ordered_at=imported.created,
                ship_by=imported.ship_by,
                deliver_by=imported.deliver_by,
                external_reference=imported.amazon_order_id,
                lines=lines,
                charges=[
                    SalesOrderCharge(
                        kind=charge.kind,
                        description=charge.description,
                        tax_rate=charge.tax_rate,
                        net=charge.net,
                        tax=charge.tax,
                        gross=charge.gross,
                    )
                    for charge in imported.charges
                ],
                holds=holds,
                notes=[_note(imported)],
                shipped_outside=shipped_outside,
            ),
            actor=self._actor,
            at=now,
        )
        session.add(
            AmazonOrderBinding(
                account_id=self._account_id,
                marketplace_id=imported.marketplace_id,
                amazon_order_id=imported.amazon_order_id,
                order=erp_order,
                amazon_status=imported.status,
                fulfillment=fulfillment,
                last_updated_time=imported.last_updated,
                payload_hash=_hash(order),
                first_seen_at=now,
            )
        )
        if shipped_outside and imported.created >= rules.taken_over:
            raise_alert(
                session,
                kind="shipped_outside",
                severity=Severity.WARNING,
                subject=erp_order.number,
                message=(
                    f"Amazon order {imported.amazon_order_id} (order {erp_order.number}) was "
                    "shipped outside sellerbridge; its stock was not booked out. Check the "
                    "stock of its articles."
                ),
                at=now,
            )

    def _marketplace_currency(self, session: Session, imported: ImportedOrder) -> str:
        return session.scalars(
            select(AmazonMarketplace.currency).where(
                AmazonMarketplace.account_id == self._account_id,
                AmazonMarketplace.marketplace_id == imported.marketplace_id,
            )
        ).one()

    def _customer(
        self, session: Session, imported: ImportedOrder, address: Address, lookups: _Lookups
    ) -> Customer:
        """The buyer's customer record, found again by a hash of their (anonymised) e-mail."""
        key = _buyer_key(imported)
        customer = lookups.customers.get(key)
        if customer is None:
            customer = Customer(
                number=next(lookups.customer_numbers),
                vat_id=(imported.buyer_vat_id or None) and imported.buyer_vat_id[:20],
                address=AddressRecord.of(address),
            )
            session.add(customer)
            session.add(
                AmazonCustomerBinding(account_id=self._account_id, buyer_key=key, customer=customer)
            )
            lookups.customers[key] = customer
        return customer

    def _update(
        self,
        session: Session,
        binding: AmazonOrderBinding,
        imported: ImportedOrder,
        order: Order,
        now: datetime,
    ) -> None:
        erp = binding.order
        if imported.status == "CANCELLED" and erp.state != OrderState.CANCELLED:
            if erp.state in SHIPPED_STATES:
                raise_alert(
                    session,
                    kind="cancelled_after_shipping",
                    severity=Severity.ERROR,
                    subject=erp.number,
                    message=(
                        f"Amazon order {imported.amazon_order_id} was cancelled after order "
                        f"{erp.number} shipped. Stop the parcel if you can, and refund the buyer."
                    ),
                    at=now,
                )
            else:
                order_service.cancel(
                    session, erp.number, reason="Cancelled on Amazon.", actor=self._actor, at=now
                )
        elif erp.state not in SHIPPED_STATES and erp.state != OrderState.CANCELLED:
            self._refresh_delivery(erp, imported, now)
            if imported.cancel_requested:
                order_service.add_hold(erp, HOLD_CANCEL_REQUEST, _cancel_reason(imported),
                                       actor=self._actor, at=now)  # fmt: skip
            if binding.fulfillment is Fulfillment.FBM and imported.status == "SHIPPED":
                order_service.add_hold(erp, HOLD_SHIPPED_ELSEWHERE, _SHIPPED_ELSEWHERE,
                                       actor=self._actor, at=now)  # fmt: skip
            elif binding.fulfillment is Fulfillment.FBM and imported.status == "PARTIALLY_SHIPPED":
                order_service.add_hold(erp, HOLD_PARTLY_SHIPPED, _partly_shipped(imported),
                                       actor=self._actor, at=now)  # fmt: skip
        if imported.status != binding.amazon_status:
            record_event(erp, "amazon_status",
                         f"Amazon: {binding.amazon_status.lower()} → {imported.status.lower()}.",
                         actor=self._actor, at=now)  # fmt: skip
        binding.amazon_status = imported.status
        binding.last_updated_time = imported.last_updated
        binding.payload_hash = _hash(order)

    def _refresh_delivery(self, erp: SalesOrder, imported: ImportedOrder, now: datetime) -> None:
        """Take over the dates and the address Amazon changed while the order is still here."""
        erp.ship_by = imported.ship_by or erp.ship_by
        erp.deliver_by = imported.deliver_by or erp.deliver_by
        if imported.delivery_address is None:
            return
        address = _storable(imported.delivery_address)
        if erp.shipping_address.to_address() != address:
            # The order was billed and shipped to the same address: both follow the change.
            erp.shipping_address = erp.billing_address = AddressRecord.of(address)
            record_event(erp, "address_changed", "Amazon changed the delivery address.",
                         actor=self._actor, at=now)  # fmt: skip


@dataclass
class _Lookups:
    """What the orders of a page need, read in a few queries instead of a few per order."""

    channels: dict[tuple[str, Fulfillment], SalesChannel]
    articles: dict[str, Article]
    """By seller SKU: through the account's SKU bindings, else the article of that number."""
    customers: dict[str, Customer]
    """By buyer key; customers created for the page are added."""
    order_numbers: dict[str, Iterator[str]]
    """Allocated numbers by number series."""
    customer_numbers: Iterator[str]


def _stock_needed(
    imported: list[ImportedOrder],
    channels: dict[tuple[str, Fulfillment], SalesChannel],
    articles: dict[str, Article],
) -> dict[Warehouse, list[Article]]:
    """The articles the merchant-fulfilled orders reserve, by warehouse."""
    needed: dict[Warehouse, list[Article]] = {}
    for order in imported:
        channel = channels.get((order.marketplace_id, _fulfillment(order)))
        if channel is None or channel.fulfilled_externally:
            continue
        needed.setdefault(channel.warehouse, []).extend(
            articles[line.seller_sku] for line in order.lines if line.seller_sku in articles
        )
    return needed


def _channel(
    channels: dict[tuple[str, Fulfillment], SalesChannel], imported: ImportedOrder
) -> SalesChannel:
    fulfillment = _fulfillment(imported)
    channel = channels.get((imported.marketplace_id, fulfillment))
    if channel is None:  # every marketplace of an account gets both channels when it is added
        raise DomainError(
            f"The account has no ERP channel for {fulfillment.value} orders of marketplace "
            f"{imported.marketplace_id}; its setup is incomplete."
        )
    return channel


def _fulfillment(imported: ImportedOrder) -> Fulfillment:
    return Fulfillment.FBM if imported.fulfilled_by == "MERCHANT" else Fulfillment.FBA


def _line(position: int, line: ImportedLine, article: Article | None) -> SalesOrderLine:
    unit_net = (line.unit_price * 100 / (100 + line.tax_rate)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    return SalesOrderLine(
        position=position,
        article=article,
        article_number=line.seller_sku[:40],
        description=line.title[:255],
        external_reference=line.order_item_id,
        quantity=line.quantity,
        unit_price_net=unit_net,
        unit_price_gross=line.unit_price,
        tax_rate=line.tax_rate,
        discount=line.discount,
        net=line.net,
        tax=line.tax,
        gross=line.gross,
    )


_SHIPPED_ELSEWHERE = (
    "Amazon reports this order shipped, but sellerbridge did not ship it. If it left your "
    "warehouse, book its stock out (`sellerbridge stock adjust`); releasing the order then "
    "marks it shipped and gives back its reservation."
)


def _partly_shipped(imported: ImportedOrder) -> str:
    shipped = sum(line.quantity_shipped for line in imported.lines)
    ordered = sum(line.quantity for line in imported.lines)
    return (
        f"Amazon reports {shipped} of {ordered} unit(s) of this order shipped outside "
        "sellerbridge. Book those out (`sellerbridge stock adjust`) and ship only the rest."
    )


def _holds(imported: ImportedOrder, lines: list[SalesOrderLine]) -> list[tuple[str, str]]:
    holds: list[tuple[str, str]] = []
    unknown = sorted({line.article_number for line in lines if line.article is None})
    if unknown:
        holds.append((
            HOLD_UNKNOWN_ARTICLE,
            f"No article is known for SKU {', '.join(unknown)}. Map it with "
            "`sellerbridge skus map SKU ARTICLE`, then release the order.",
        ))  # fmt: skip
    if imported.problems:
        holds.append((
            HOLD_TOTALS_MISMATCH,
            f"{' '.join(imported.problems)} Check the order in Seller Central and enter its "
            "amounts before invoicing it.",
        ))  # fmt: skip
    elif imported.grand_total is None or imported.total != imported.grand_total:
        holds.append((
            HOLD_TOTALS_MISMATCH,
            f"The lines and charges add up to {imported.total} {imported.currency}, but Amazon "
            f"charged {imported.grand_total} {imported.currency}. Check the order in Seller "
            "Central before invoicing it.",
        ))  # fmt: skip
    problem = _address_problem(imported.delivery_address)
    if problem:
        holds.append((HOLD_ADDRESS_INCOMPLETE, problem))
    if imported.cancel_requested:
        holds.append((HOLD_CANCEL_REQUEST, _cancel_reason(imported)))
    if imported.fulfilled_by == "MERCHANT" and imported.status == "PARTIALLY_SHIPPED":
        holds.append((HOLD_PARTLY_SHIPPED, _partly_shipped(imported)))
    return holds


def _address_problem(address: Address | None) -> str | None:
    if address is None:
        return "Amazon sent no delivery address. Add it before shipping or invoicing the order."
    try:
        validated_address(address)
    except (InvalidFields, InvalidInput) as error:
        found = error.problems if isinstance(error, InvalidFields) else [error]
        problems = "; ".join(
            f"{p.field.replace('_', ' ')} {p.message.removeprefix(p.field + ': ')}" for p in found
        )
        return (
            f"The delivery address is incomplete: {problems}. Check it in Seller Central "
            "(Amazon sends a corrected address with the order's next update), then release "
            "the order."
        )
    return None


def _storable(address: Address | None) -> Address:
    """The address as it can be stored, even incomplete: every field cut to its column."""
    if address is None:
        return Address(name="", street1="", postal_code="", city="", country="")
    values: dict[str, Any] = {
        name: value[: FIELD_LENGTHS[name]]
        for name, value in vars(address).items()
        if name in FIELD_LENGTHS and isinstance(value, str)
    }
    values["country"] = (address.country or "")[:2].upper()
    return replace(address, **values)


def _token_refused(error: RejectedError) -> bool:
    """Whether Amazon refused the pagination token (it keeps them 24 hours)."""
    return any("paginationToken" in f"{e.message} {e.details or ''}" for e in error.errors)


def _cancel_reason(imported: ImportedOrder) -> str:
    reasons = sorted({line.cancel_reason for line in imported.lines if line.cancel_reason})
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return f"The buyer asked to cancel{why}. Cancel the order, or ship it if it has left already."


def _note(imported: ImportedOrder) -> str:
    flags = [
        label
        for label, present in (
            ("Prime", imported.is_prime),
            ("Amazon Business", imported.is_business),
        )
        if present
    ]
    parts = [
        f"Amazon order {imported.amazon_order_id}" + (f" ({', '.join(flags)})." if flags else ".")
    ]
    if imported.service_level:
        parts.append(f"Shipping service level: {imported.service_level.lower()}.")
    if imported.purchase_order_number:
        parts.append(f"Buyer's purchase order: {imported.purchase_order_number}.")
    return " ".join(parts)


def _buyer_key(imported: ImportedOrder) -> str:
    """A stable key for the buyer that does not store who they are."""
    address = imported.delivery_address
    identity = imported.buyer_email or "|".join(
        [
            imported.buyer_name or "",
            address.postal_code if address else "",
            address.country if address else "",
        ]
    )
    return hashlib.sha256(identity.strip().lower().encode()).hexdigest()


def _hash(order: Order) -> str:
    return hashlib.sha256(order.model_dump_json(by_alias=True).encode()).hexdigest()


def _backfill_stream(since: datetime, until: datetime | None) -> str:
    """A backfill's own cursor: running the same backfill again resumes it."""
    since, stamp = since.astimezone(UTC), "%Y%m%dT%H%M%SZ"
    if until is None:
        return f"backfill:{since:{stamp}}"
    return f"backfill:{since:{stamp}}-{until.astimezone(UTC):{stamp}}"


def _through(page: SearchOrdersResponse, after: datetime, before: datetime) -> float:
    latest = max(order.last_updated_time for order in page.orders)
    span = (before - after).total_seconds()
    return 1.0 if span <= 0 else min(1.0, max(0.0, (latest - after).total_seconds() / span))


__all__ = ["ImportReport", "LockTaken", "OrderImporter", "Outcome", "Progress"]
