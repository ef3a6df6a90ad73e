"""Stock to Amazon: send each FBM offer the quantity it should show, only when it changed.

One run (:meth:`StockExporter.run`, per account, under the caller's lock):

1. **Finish feeds.** A feed still *prepared* was interrupted before Amazon had it: its offers go
   again. A *submitted* feed is asked for (``getFeed``); when done, its processing report gives
   a result per SKU — accepted (the quantity becomes the acknowledged one) or failed with
   Amazon's reason; a FATAL feed sends its offers again.
2. **Reconcile** when the account never was, its last full reconcile is older than
   ``stock_full_reconcile_hours``, or a new SKU binding has offers Amazon was not asked about
   (:mod:`.reconcile`): Amazon's current quantities become the acknowledged ones, and every
   offer is compared again.
3. **Push.** The offers whose stock changed since they were checked get their quantity computed
   (:mod:`.offers`); those equal to what Amazon acknowledged are done. Of the rest, sell-outs
   (a quantity dropping to 0) go at once with ``patchListingsItem``, as do all changes when
   there are at most ``stock_patch_limit`` SKUs; otherwise ``JSON_LISTINGS_FEED`` feeds of up
   to 25,000 messages, one per set of marketplaces.

Quantities are absolute, so sending one twice is harmless: every uncertain outcome (a lost
answer, a crash between sending and recording) ends with the offer due again and what Amazon
shows recorded as unknown, so the next push sends the quantity whatever it is — never a
quantity believed sent that was not. A SKU Amazon refuses fails alone, with Amazon's reason
(``sellerbridge stock amazon`` shows it), and is tried again when its stock changes or on the
next full push. No quantity is ever sent for an FBA offer, nor in demo mode.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, exists, select, update
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.spapi import (
    AuthError,
    RetryableError,
    SpApiClient,
    SpApiError,
    ThrottledError,
)
from sellerbridge.channels.amazon.stock import offers as offer_rules
from sellerbridge.channels.amazon.stock.offers import OfferRow, Wanted
from sellerbridge.channels.amazon.stock.reconcile import reconcile
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOffer,
    AmazonStockSubmission,
    ImportMode,
    OfferResult,
    Severity,
    SubmissionStatus,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger(__name__)

FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_MESSAGES_MAX = 25_000
"""Messages per JSON_LISTINGS_FEED (listings-feed-schema-v2 ``maxItems``)."""
ALERT = "amazon_stock_failed"
ERROR_MAX = 500
AVAILABILITY = "/attributes/fulfillment_availability"


@dataclass(frozen=True, slots=True)
class Change:
    """A quantity to send for one SKU on a set of marketplaces."""

    sku: str
    marketplace_ids: tuple[str, ...]
    quantity: int
    handling_days: int | None
    offers: tuple[tuple[int, int], ...]  # (offer id, stock version read)
    last_sent: tuple[int | None, ...]
    """What Amazon acknowledged of each offer (None: nothing yet)."""

    @property
    def sells_out(self) -> bool:
        """The quantity drops to 0 somewhere: it goes at once."""
        return self.quantity == 0 and any(sent != 0 for sent in self.last_sent)


@dataclass
class PushReport:
    checked: int = 0
    """Offers whose quantity was computed."""
    unchanged: int = 0
    patched: int = 0
    """SKUs sent with patchListingsItem (per set of marketplaces)."""
    feeds: list[str] = field(default_factory=list)
    """The feed ids submitted."""
    feed_messages: int = 0
    accepted: int = 0
    """Offers Amazon acknowledged in this run (patches and finished feeds)."""
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(SKU, marketplaces, Amazon's reason) refused in this run."""
    deferred: int = 0
    """Offers left for the next run (Amazon busy or unreachable, the feed limit reached)."""
    reconciled: bool = False
    waiting_feeds: int = 0
    """Feeds Amazon is still processing."""


class StockExporter:
    """Keeps one account's FBM quantities on Amazon equal to what the stock allows."""

    def __init__(
        self,
        engine: Engine,
        account_id: int,
        client: SpApiClient,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._engine = engine
        self._sleep = sleep
        self._uow = UnitOfWork(engine)
        self._account_id = account_id
        self._client = client
        self._settings = settings
        self._clock = clock
        with self._uow as uow:
            account = uow.session.get_one(AmazonAccount, account_id)
            self._seller_id = account.seller_id
            self._name = account.name
            self._demo = account.import_mode is ImportMode.DEMO

    # --- the run -------------------------------------------------------------------------------

    def run(self, *, full: bool = False) -> PushReport:
        """Finish feeds, reconcile when due (or ``full``), push what changed."""
        report = PushReport()
        if self._demo:
            log.info("stock push skipped: demo mode sends nothing", account=self._name)
            return report
        self._prepare(report, full=full)
        self._push(report, full=full)
        self.alert(report)
        return report

    def plan(self, *, full: bool = False) -> list[Change]:
        """What a push would send now. Amazon's feed results and listings are read as a run
        reads them (when due, or ``full``), but nothing is sent."""
        self._prepare(PushReport(), full=full)
        with self._uow as uow:
            return self._due_changes(uow.session, full=full)[1]

    def _prepare(self, report: PushReport, *, full: bool) -> None:
        """Steps 1 and 2: read finished feeds; reconcile when due, for ``full``, or when a new
        SKU binding's offers were never checked against Amazon's listings."""
        self.finish_feeds(report)
        if full or self._reconcile_due():
            self._reconcile(report)
        with self._uow as uow:
            offer_rules.add_missing_offers(uow.session, self._account_id)
            unchecked = offer_rules.has_unchecked_offers(uow.session, self._account_id)
            uow.commit()
        if unchecked:
            self._reconcile(report)

    def _due_changes(self, session: Session, *, full: bool) -> tuple[list[OfferRow], list[Change]]:
        """The due offers, and the changes among them."""
        rows = offer_rules.due_offers(session, self._account_id, full=full)
        wanted = offer_rules.wanted_quantities(
            session, self._account_id, rows, self._settings,
            among=offer_rules.due_condition(self._account_id, full=full),
        )  # fmt: skip
        return rows, _changes(rows, wanted)

    def _reconcile(self, report: PushReport) -> None:
        """A reconcile that fails (a report Amazon ends FATAL or late) does not hold up the
        push of what changed: it is tried again at the next run."""
        try:
            reconcile(self._engine, self._account_id, self._client, at=self._clock(),
                      sleep=self._sleep)  # fmt: skip
        except DomainError as error:
            log.warning("stock reconcile failed", account=self._name, error=str(error))
            return
        report.reconciled = True

    def _reconcile_due(self) -> bool:
        with self._uow as uow:
            account = uow.session.get_one(AmazonAccount, self._account_id)
            last = account.offers_reconciled_at
        every = timedelta(hours=self._settings.stock_full_reconcile_hours)
        return last is None or self._clock() - last >= every

    def _push(self, report: PushReport, *, full: bool) -> None:
        with self._uow as uow:
            rows, changes = self._due_changes(uow.session, full=full)
            changing = {offer_id for change in changes for offer_id, _ in change.offers}
            report.unchanged = execute_batched(
                uow.session,
                update(AmazonOffer),
                (
                    {"id": row.id, "checked_version": row.stock_version}
                    for row in rows
                    if row.id not in changing
                ),
            )
            uow.commit()
        report.checked = len(rows)
        sell_outs = [c for c in changes if c.sells_out]
        rest = [c for c in changes if not c.sells_out]
        if len({c.sku for c in rest}) <= self._settings.stock_patch_limit:
            sell_outs, rest = sell_outs + rest, []
        for change in sell_outs:
            self._patch(change, report)
        for marketplace_ids, group in _by_marketplaces(rest).items():
            for start in range(0, len(group), FEED_MESSAGES_MAX):
                if not self._send_feed(marketplace_ids, group[start : start + FEED_MESSAGES_MAX],
                                       report):  # fmt: skip
                    report.deferred += sum(len(c.offers) for c in group[start:])
                    break

    # --- patchListingsItem ---------------------------------------------------------------------

    def _patch(self, change: Change, report: PushReport) -> None:
        try:
            submission = self._client.patch_listings_item(
                self._seller_id,
                change.sku,
                change.marketplace_ids,
                [_patch_of(change.quantity, change.handling_days)],
            )
        except ThrottledError:  # not sent: it stays due
            report.deferred += len(change.offers)
            return
        except RetryableError:  # perhaps applied: what Amazon shows is unknown now
            self._forget_sent(change.offers)
            report.deferred += len(change.offers)
            return
        except AuthError:
            raise
        except SpApiError as error:
            self._record_failure(change.offers, str(error), report, change)
            return
        errors = [i for i in submission.issues if i.severity == "ERROR"]
        if submission.status != "ACCEPTED" or errors:
            reason = "; ".join(f"{i.code}: {i.message}" for i in errors) or submission.status
            self._record_failure(change.offers, reason, report, change)
            return
        with self._uow as uow:
            self._acknowledge(uow, change.offers, change.quantity)
            uow.commit()
        report.patched += 1
        report.accepted += len(change.offers)

    # --- JSON_LISTINGS_FEED --------------------------------------------------------------------

    def _send_feed(
        self, marketplace_ids: tuple[str, ...], changes: Sequence[Change], report: PushReport
    ) -> bool:
        """Submit one feed; False when Amazon cannot take it now (the rest waits)."""
        with self._uow as uow:
            submission = AmazonStockSubmission(
                account_id=self._account_id,
                status=SubmissionStatus.PREPARED,
                marketplace_ids=",".join(marketplace_ids),
                messages=len(changes),
                created_at=self._clock(),
            )
            uow.session.add(submission)
            uow.session.flush()
            submission_id = submission.id
            execute_batched(
                uow.session,
                update(AmazonOffer),
                (
                    {
                        "id": offer_id,
                        "submission_id": submission_id,
                        "pending_quantity": change.quantity,
                        "pending_version": version,
                        "result": OfferResult.PENDING,
                    }
                    for change in changes
                    for offer_id, version in change.offers
                ),
            )
            uow.commit()
        document = _feed_document(self._seller_id, changes)
        try:
            upload = self._client.create_feed_document(FEED_CONTENT_TYPE)
            self._client.upload_document(upload.url, document, FEED_CONTENT_TYPE)
            feed_id = self._client.create_feed(FEED_TYPE, marketplace_ids, upload.feed_document_id)
        except AuthError:
            self._release(submission_id, "the account's authorization failed")
            raise
        except SpApiError as error:
            # Whether Amazon has the feed is unknown at worst: sending the same absolute
            # quantities again is harmless, so its offers simply go again.
            self._release(submission_id, str(error))
            log.warning("stock feed not submitted", account=self._name, error=str(error))
            return False
        with self._uow as uow:
            row = uow.session.get_one(AmazonStockSubmission, submission_id)
            row.status, row.feed_id = SubmissionStatus.SUBMITTED, feed_id
            uow.commit()
        report.feeds.append(feed_id)
        report.feed_messages += len(changes)
        return True

    def finish_feeds(self, report: PushReport) -> None:
        """Read the results of the account's submitted feeds; release interrupted ones."""
        with self._uow as uow:
            open_ = list(
                uow.session.execute(
                    select(AmazonStockSubmission.id, AmazonStockSubmission.status,
                           AmazonStockSubmission.feed_id)
                    .where(
                        AmazonStockSubmission.account_id == self._account_id,
                        AmazonStockSubmission.status.in_(
                            (SubmissionStatus.PREPARED, SubmissionStatus.SUBMITTED)
                        ),
                    )
                    .order_by(AmazonStockSubmission.id)
                )
            )  # fmt: skip
        for submission_id, status, feed_id in open_:
            if status is SubmissionStatus.PREPARED or feed_id is None:
                # Only a run holding the account's lock writes them: this one was interrupted.
                self._release(submission_id, "interrupted before Amazon had the feed")
                continue
            try:
                self._finish_feed(submission_id, feed_id, report)
            except (RetryableError, ThrottledError) as error:
                log.info("stock feed result not read yet", feed=feed_id, error=str(error))
                report.waiting_feeds += 1
            except AuthError:
                raise
            except SpApiError as error:
                self._release(submission_id, f"its result could not be read: {error}")

    def _finish_feed(self, submission_id: int, feed_id: str, report: PushReport) -> None:
        feed = self._client.get_feed(feed_id)
        status = str(feed.processing_status)
        if status in ("IN_QUEUE", "IN_PROGRESS"):
            report.waiting_feeds += 1
            return
        if status != "DONE" or feed.result_feed_document_id is None:
            self._release(submission_id, f"Amazon ended feed {feed_id} {status}")
            return
        location = self._client.get_feed_document(feed.result_feed_document_id)
        result = json.loads(self._client.download_document(location))
        problems: dict[int, list[str]] = defaultdict(list)
        for issue in result.get("issues", ()):
            if issue.get("severity") == "ERROR" and isinstance(issue.get("messageId"), int):
                problems[issue["messageId"]].append(f"{issue.get('code')}: {issue.get('message')}")
        with self._uow as uow:
            pending = list(
                uow.session.execute(
                    select(AmazonOffer.id, AmazonOffer.seller_sku, AmazonOffer.pending_quantity,
                           AmazonOffer.pending_version)
                    .where(AmazonOffer.submission_id == submission_id)
                )
            )  # fmt: skip
            # The messages were numbered in SKU order (Python's, not the database's collation).
            by_sku: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
            for offer_id, sku, quantity, version in sorted(pending, key=lambda row: row[1]):
                by_sku[sku].append((offer_id, quantity or 0, version or 0))
            now = self._clock()
            accepted, refused = [], []
            for message_id, (sku, entries) in enumerate(by_sku.items(), start=1):
                reason = "; ".join(problems.get(message_id, ()))[:ERROR_MAX]
                for offer_id, quantity, version in entries:
                    if reason:
                        refused.append(_failed(offer_id, version, reason))
                        report.failed.append((sku, feed_id, reason))
                    else:
                        accepted.append(_accepted(offer_id, quantity, version, now))
            execute_batched(uow.session, update(AmazonOffer), accepted + refused)
            row = uow.session.get_one(AmazonStockSubmission, submission_id)
            row.status, row.finished_at = SubmissionStatus.DONE, now
            uow.commit()
        report.accepted += len(accepted)

    # --- recording -----------------------------------------------------------------------------

    def _acknowledge(
        self, uow: UnitOfWork, offers: Sequence[tuple[int, int]], quantity: int
    ) -> None:
        now = self._clock()
        uow.session.execute(
            update(AmazonOffer),
            [_accepted(offer_id, quantity, version, now) for offer_id, version in offers],
        )

    def _forget_sent(self, offers: Sequence[tuple[int, int]]) -> None:
        with self._uow as uow:
            unknown = ({"id": offer_id, "sent_quantity": None} for offer_id, _ in offers)
            execute_batched(uow.session, update(AmazonOffer), unknown)
            uow.commit()

    def _record_failure(
        self, offers: Sequence[tuple[int, int]], reason: str, report: PushReport, change: Change
    ) -> None:
        reason = reason[:ERROR_MAX]
        with self._uow as uow:
            uow.session.execute(
                update(AmazonOffer),
                [_failed(offer_id, version, reason) for offer_id, version in offers],
            )
            uow.commit()
        report.failed.append((change.sku, ",".join(change.marketplace_ids), reason))

    def _release(self, submission_id: int, why: str) -> None:
        """The feed's outcome is not known (or it was not processed): its offers are due
        again, and what Amazon shows is unknown too (it may have applied the feed), so the
        next push sends their quantity whatever it is."""
        with self._uow as uow:
            uow.session.execute(
                update(AmazonOffer)
                .where(AmazonOffer.submission_id == submission_id)
                .values(submission_id=None, pending_quantity=None, pending_version=None,
                        result=None, sent_quantity=None, attempts=AmazonOffer.attempts + 1)
            )  # fmt: skip
            row = uow.session.get_one(AmazonStockSubmission, submission_id)
            row.status, row.error, row.finished_at = (
                SubmissionStatus.FAILED, why[:ERROR_MAX], self._clock()
            )  # fmt: skip
            uow.commit()

    def alert(self, report: PushReport) -> None:
        """Raise the account's alert for the SKUs Amazon refused in ``report``, or resolve it
        once none is refused any more."""
        with self._uow as uow:
            if report.failed:
                sku, _, reason = report.failed[0]
                raise_alert(
                    uow.session, kind=ALERT, severity=Severity.WARNING, subject=self._name,
                    at=self._clock(),
                    message=f"Amazon refused the quantity of {len(report.failed)} SKU(s) of "
                    f"account {self._name}; the first, {sku}: {reason}. `sellerbridge stock "
                    "amazon --failed` lists them.",
                )  # fmt: skip
            elif report.accepted and not uow.session.scalar(
                select(
                    exists().where(
                        AmazonOffer.account_id == self._account_id,
                        AmazonOffer.result == OfferResult.FAILED,
                    )
                )
            ):  # resolved once no SKU is refused any more
                resolve_alerts(uow.session, kind=ALERT, subject=self._name, at=self._clock())
            uow.commit()


def _accepted(offer_id: int, quantity: int, version: int, now: datetime) -> dict[str, Any]:
    return {"id": offer_id, "sent_quantity": quantity, "sent_at": now,
            "checked_version": version, "result": OfferResult.ACCEPTED, "error": None,
            "attempts": 0, "submission_id": None, "pending_quantity": None,
            "pending_version": None}  # fmt: skip


def _failed(offer_id: int, version: int, reason: str) -> dict[str, Any]:
    # Checked at this version: tried again when the stock changes or on a full push.
    return {"id": offer_id, "checked_version": version, "result": OfferResult.FAILED,
            "error": reason, "submission_id": None, "pending_quantity": None,
            "pending_version": None}  # fmt: skip


def _changes(rows: Sequence[OfferRow], wanted: dict[int, Wanted]) -> list[Change]:
    """The offers whose wanted quantity differs from the acknowledged one, as one change per
    SKU and (quantity, handling time), over the marketplaces that share them."""
    grouped: dict[tuple[str, int, int | None], list[OfferRow]] = defaultdict(list)
    for row in rows:
        want = wanted[row.id]
        if want.quantity != row.sent_quantity:
            grouped[(row.seller_sku, want.quantity, want.handling_days)].append(row)
    changes = []
    for (sku, quantity, handling), group in sorted(grouped.items(), key=lambda item: item[0][0]):
        group.sort(key=lambda row: row.marketplace_id)
        changes.append(
            Change(
                sku=sku,
                marketplace_ids=tuple(row.marketplace_id for row in group),
                quantity=quantity,
                handling_days=handling,
                offers=tuple((row.id, row.stock_version) for row in group),
                last_sent=tuple(row.sent_quantity for row in group),
            )
        )
    return changes


def _by_marketplaces(changes: Sequence[Change]) -> dict[tuple[str, ...], list[Change]]:
    """Changes by the marketplaces they apply to (a feed's ``marketplaceIds``); within a feed a
    SKU appears once, so a SKU with two changes for one set would need two feeds."""
    groups: dict[tuple[str, ...], list[Change]] = defaultdict(list)
    for change in changes:
        groups[change.marketplace_ids].append(change)
    return dict(groups)


def _patch_of(quantity: int, handling_days: int | None) -> dict[str, Any]:
    """The patch of ``fulfillment_availability``: ``merge`` changes the quantity and keeps the
    handling time Amazon has, ``replace`` sets both."""
    value: dict[str, Any] = {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
    if handling_days is None:
        return {"op": "merge", "path": AVAILABILITY, "value": [value]}
    value["lead_time_to_ship_max_days"] = handling_days
    return {"op": "replace", "path": AVAILABILITY, "value": [value]}


def _feed_document(seller_id: str, changes: Sequence[Change]) -> bytes:
    """The JSON_LISTINGS_FEED document: one PATCH message per SKU, in SKU order."""
    messages: Iterator[dict[str, Any]] = (
        {
            "messageId": index,
            "sku": change.sku,
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": [_patch_of(change.quantity, change.handling_days)],
        }
        for index, change in enumerate(changes, start=1)
    )
    body = {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
            "messages": list(messages)}  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode()
