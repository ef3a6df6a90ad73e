"""The order import: every Amazon order exactly once, in its current state, nothing dropped.

The flow, per account:

1. **Window.** ``searchOrders`` by ``lastUpdatedAfter``/``lastUpdatedBefore``, in whole
   seconds. A window ends ``amazon_window_delay_seconds`` in the past, because Amazon refuses
   (and may not yet have settled) anything newer than two minutes; it starts
   ``amazon_window_overlap_seconds`` before the previous window ended, because an order Amazon
   updates late in a window can appear after the window was read. Reading an order twice is
   harmless: see 3.
2. **Pages.** Each page is stored together with the cursor (window, pagination token) in one
   transaction, so a crash resumes at the page it stopped at; the last page closes the window.
   If Amazon refuses a token left by a crash (it keeps them 24 hours), the window is read again
   from its start.
3. **Orders.** :class:`~.store.OrderStore` applies them through their bindings, so replays,
   overlaps and two processes racing change nothing twice. If the page transaction fails, each
   order is applied in a transaction of its own. An order that cannot be stored at all is kept
   as a failure with an alert, and tried again (with ``getOrder``) at the start of every import
   until it is: one bad order never stops the others, and is never lost.

Only one import per account and stream runs at a time (a lock that a crash releases); several
accounts, or a backfill beside the regular import, run side by side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, StatementError
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.orders.rules import ImportRules
from sellerbridge.channels.amazon.orders.store import OrderStore, Outcome
from sellerbridge.channels.amazon.spapi import RejectedError, SpApiClient
from sellerbridge.channels.amazon.spapi.models.orders import Order, SearchOrdersResponse
from sellerbridge.config import Settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.errors import is_conflict
from sellerbridge.db.locks import exclusive
from sellerbridge.db.models import AmazonAccount, AmazonOrderFailure, ImportCursor, Severity
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger("sellerbridge.amazon.import")

STREAM = "orders"
PAGE_SIZE = 100
"""Orders per page: Amazon's maximum (the fewest calls for the tight searchOrders quota)."""
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PROMOTION", "CANCELLATION",
                 "TAX", "PACKAGES")  # fmt: skip
FAILURE_ALERT = "amazon_order_failed"


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
        """Import what changed since the last run; with ``since``, a backfill of orders
        created from then on (updated up to ``until``, default: now).

        Raises :class:`~sellerbridge.db.locks.LockTaken` if the same import runs elsewhere.
        """
        if until is not None and since is None:
            raise DomainError("A backfill needs a start.", hint="Give --since as well.")
        stream = STREAM if since is None else _backfill_stream(since, until)
        busy = (
            f"{'This backfill' if since else 'The order import of this account'} is running in "
            "another process already; wait for it to finish (a later run continues where it "
            "stopped)."
        )
        with exclusive(self._engine, f"amazon-import:{self._account_id}:{stream}", busy=busy):
            report = ImportReport()
            rules = self.rules(since)
            if since is None:
                self._retry_failures(rules, report)
            window = self._open_window(stream, since=since, until=until)
            if window is not None:
                after, before, token = window
                query = self._query(after, before, rules)
                for page in self._pages(stream, query, token):
                    report.pages += 1
                    report.orders.update(self.store_page(stream, page, rules, before))
                    if self._on_progress is not None and page.orders:
                        self._on_progress(Progress(_through(page, after, before), report))
            counts = {outcome.value: count for outcome, count in report.orders.items()}
            log.info("import finished", account=self._account_id, stream=stream,
                     pages=report.pages, **counts)  # fmt: skip
            return report

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

    # --- windows and pages -------------------------------------------------------------------

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
            cursor = ImportCursor(
                account_id=self._account_id, stream=stream, watermark=start, pages=0
            )
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

    def _advance(
        self, session: Session, stream: str, page: SearchOrdersResponse, before: datetime
    ) -> None:
        """Move the cursor past ``page``; after the window's last page, close the window."""
        cursor = self._cursor(session, stream, before)
        cursor.pages += 1
        cursor.pagination_token = page.pagination.next_token if page.pagination else None
        if cursor.pagination_token is None:
            cursor.watermark = before
            cursor.window_after = cursor.window_before = None

    # --- orders ------------------------------------------------------------------------------

    def store_page(
        self, stream: str, page: SearchOrdersResponse, rules: ImportRules, before: datetime
    ) -> list[Outcome]:
        """Apply the orders of a page of ``stream`` (window ending ``before``) and move the
        cursor past it.

        Fast path: the whole page in one transaction with the cursor, so a crash leaves either
        all of it or none. If that fails — another process applied one of its orders at the
        same moment, a deadlock, an order that cannot be stored — each order is applied in a
        transaction of its own, so the others are not held up by one.
        """
        try:
            with self._uow:
                store = OrderStore(self._uow.session, self._account_id, actor=self._actor,
                                   now=self._clock())  # fmt: skip
                outcomes = store.apply(page.orders, rules)
                self._advance(self._uow.session, stream, page, before)
                self._uow.commit()
            return outcomes
        except Exception as error:  # noqa: BLE001 - every order is tried again on its own
            log.warning("page applied order by order", stream=stream, error=type(error).__name__)
        outcomes = [self._apply_alone(order, rules) for order in page.orders]
        with self._uow:
            self._advance(self._uow.session, stream, page, before)
            self._uow.commit()
        return outcomes

    def apply(self, order: Order, rules: ImportRules) -> Outcome:
        """Apply one Amazon order in its own transaction."""
        with self._uow:
            store = OrderStore(self._uow.session, self._account_id, actor=self._actor,
                               now=self._clock())  # fmt: skip
            (outcome,) = store.apply([order], rules)
            self._uow.commit()
        return outcome

    def _apply_alone(self, order: Order, rules: ImportRules) -> Outcome:
        """Apply an order in its own transaction, once more after a conflict (another process
        wrote it at the same moment); an order that cannot be stored is kept as a failure."""
        for attempt in (1, 2):
            try:
                return self.apply(order, rules)
            except (OperationalError, InterfaceError) as error:
                if attempt == 1 and is_conflict(error):
                    continue
                raise  # the database is not usable: the run stops, the cursor stays
            except Exception as error:  # noqa: BLE001 - kept as a failure, never dropped
                if attempt == 1 and (is_conflict(error) or isinstance(error, IntegrityError)):
                    continue
                self._record_failure(order, error)
                return Outcome.FAILED
        raise AssertionError("unreachable")  # pragma: no cover

    # --- orders that could not be stored -----------------------------------------------------

    def _record_failure(self, order: Order, error: Exception) -> None:
        reason = _describe(error)
        marketplace = order.sales_channel.marketplace_id or ""
        log.error("order not imported", account=self._account_id, amazon_order_id=order.order_id,
                  error=reason)  # fmt: skip
        now = self._clock()
        with self._uow:
            session = self._uow.session
            failure = session.scalars(
                select(AmazonOrderFailure).where(
                    AmazonOrderFailure.account_id == self._account_id,
                    AmazonOrderFailure.marketplace_id == marketplace,
                    AmazonOrderFailure.amazon_order_id == order.order_id,
                )
            ).first()
            if failure is None:
                failure = AmazonOrderFailure(
                    account_id=self._account_id,
                    marketplace_id=marketplace,
                    amazon_order_id=order.order_id,
                    error=reason[:500],
                    attempts=0,
                    first_failed_at=now,
                    last_failed_at=now,
                )
                session.add(failure)
            failure.attempts += 1
            failure.error, failure.last_failed_at, failure.resolved_at = reason[:500], now, None
            raise_alert(
                session,
                kind=FAILURE_ALERT,
                severity=Severity.ERROR,
                subject=order.order_id,
                message=(
                    f"Amazon order {order.order_id} could not be imported: {reason} It is tried "
                    "again at the start of every import; if it keeps failing, report it."
                ),
                at=now,
            )
            self._uow.commit()

    def _retry_failures(self, rules: ImportRules, report: ImportReport) -> None:
        """Try the orders that could not be stored again, as Amazon has them now."""
        with self._uow:
            failed = [
                (failure.id, failure.amazon_order_id)
                for failure in self._uow.session.scalars(
                    select(AmazonOrderFailure).where(
                        AmazonOrderFailure.account_id == self._account_id,
                        AmazonOrderFailure.resolved_at.is_(None),
                    )
                )
            ]
        for failure_id, order_id in failed:
            outcome = self._apply_alone(self._client.get_order(order_id, INCLUDED_DATA), rules)
            report.orders[outcome] += 1
            if outcome is Outcome.FAILED:
                continue
            now = self._clock()
            with self._uow:
                session = self._uow.session
                session.get_one(AmazonOrderFailure, failure_id).resolved_at = now
                resolve_alerts(session, kind=FAILURE_ALERT, subject=order_id, at=now)
                self._uow.commit()


def _describe(error: Exception) -> str:
    """What went wrong, in words fit for an alert: never a value that may be personal data."""
    if isinstance(error, DomainError):
        return f"{error}"
    if isinstance(error, StatementError) and error.orig is not None:
        return f"the database refused it ({type(error.orig).__name__})."
    return f"an unexpected error ({type(error).__name__})."


def _token_refused(error: RejectedError) -> bool:
    """Whether Amazon refused the pagination token (it keeps them 24 hours)."""
    return any("paginationToken" in f"{e.message} {e.details or ''}" for e in error.errors)


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


__all__ = ["INCLUDED_DATA", "PAGE_SIZE", "ImportReport", "OrderImporter", "Outcome", "Progress"]
