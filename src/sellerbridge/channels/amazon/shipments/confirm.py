"""The shipment confirmation exporter: each FBM package told to Amazon once, then checked.

Shipping writes a pending ``shipment_confirmations`` row per package in the same transaction
(:mod:`sellerbridge.services.shipping`). A run, per account, under a lock that a crash releases:

1. **Send** the due pending ones. A row is claimed first — its ``next_attempt_at`` moves a
   lease ahead and the claim is committed — so a second process leaves it alone; the call to
   Amazon happens outside any transaction, and its outcome is recorded afterwards.
2. **Verify** the sent ones: ``getOrder`` with ``PACKAGES``, and the package (by
   ``packageReferenceId`` = the shipment id, else by tracking number) must show our carrier and
   tracking number. Amazon can answer 204 and still drop the carrier (selling-partner-api-models
   #5232), so "accepted" is not "done": only what the order shows back is. A package missing
   after a few reads, or shown without our carrier or tracking, fails with an alert.

Never a duplicate package: ``confirmShipment`` is not idempotent as far as Amazon documents it,
so the client never repeats a call whose outcome is unknown (:class:`AmbiguousError`). The
exporter then reads the order: a package that is there was applied; one that is not is sent
again later. Any row tried before (a crash between Amazon's 204 and our record, an expired
lease, a timeout) is read back before it is sent again. And the package reference is always the
shipment id, which Amazon takes as the package's identity within the order.

Errors are classified where they happen: Amazon refusing the request (400: an unknown carrier
code, a quantity Amazon does not expect, a cancelled order) needs a person — FAILED, an alert
naming the carrier, the code sent and what to change; the order stays shipped in sellerbridge.
Throttling and server errors beyond the client's retries wait with growing pauses. An account in
demo mode sends nothing: its confirmations stay pending with a note.

``attempts`` counts the tries of the current step: sends while pending, reads while sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.shipments.carriers import AmazonCarrier, amazon_carrier
from sellerbridge.channels.amazon.spapi import (
    AmbiguousError,
    AuthError,
    RejectedError,
    SpApiClient,
    SpApiError,
)
from sellerbridge.channels.amazon.spapi.models.orders import OrderPackage
from sellerbridge.channels.amazon.spapi.models.orders_v0 import (
    ConfirmShipmentOrderItem,
    PackageDetail,
)
from sellerbridge.config import Settings
from sellerbridge.core.clock import ensure_utc, utcnow
from sellerbridge.core.errors import NotFound
from sellerbridge.db.locks import exclusive
from sellerbridge.db.models import (
    AmazonAccount,
    ConfirmationStatus,
    ImportMode,
    SalesOrder,
    Severity,
    Shipment,
    ShipmentConfirmation,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger("sellerbridge.amazon.confirm")

LOCK = "amazon-confirm"
LEASE = timedelta(minutes=10)
"""How long a claimed confirmation is left to its sender before another run may take it."""
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
           timedelta(hours=4))  # fmt: skip
"""Pause after the 1st, 2nd, … temporary failure of a send (the last one repeats)."""
VERIFY_AFTER = (timedelta(0), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1))  # fmt: skip
"""Pause before the 1st, 2nd, … read-back of a sent package; once all are used up without
Amazon showing it, the confirmation fails."""
DELAY_ALERT_AFTER = 5
"""Temporary failures of a send before an alert says it is late (it keeps being tried)."""
BATCH = 200
"""Confirmations per step and run, so a backlog never holds the lock for long."""
FAILED_ALERT = "amazon_confirmation_failed"
DELAYED_ALERT = "amazon_confirmation_delayed"
PACKAGES = ("PACKAGES",)
DEMO_NOTE = (
    "Not sent: the account is in demo mode, which never writes to Amazon. Switch it with "
    "`sellerbridge amazon configure --mode manual` (or automatic) to send it."
)


@dataclass
class ConfirmationReport:
    """What one run did."""

    sent: int = 0
    verified: int = 0
    failed: int = 0
    postponed: int = 0
    """Left pending or sent for a later run (Amazon busy, not shown yet)."""
    held: int = 0
    """Not sent because the account is in demo mode."""
    problems: list[str] = field(default_factory=list)
    """The alert texts of what failed in this run."""


@dataclass(frozen=True)
class _Package:
    """A claimed confirmation, as read in its claim transaction."""

    confirmation_id: int
    shipment_id: int
    order_number: str
    amazon_order_id: str
    marketplace_id: str
    erp_carrier: str
    carrier: AmazonCarrier
    tracking_number: str | None
    detail: PackageDetail | None
    """None when it cannot be sent (``problem`` says why)."""
    problem: str | None
    tried_before: bool
    attempts: int

    @property
    def subject(self) -> str:
        return _subject(self.order_number, self.shipment_id)


class ConfirmationExporter:
    """Sends and verifies the shipment confirmations of one Amazon account."""

    def __init__(
        self,
        engine: Engine,
        account_id: int,
        client: SpApiClient,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._uow = UnitOfWork(engine)
        self._account_id = account_id
        self._client = client
        self._settings = settings
        self._clock = clock

    def run(self) -> ConfirmationReport:
        """Send what is due, verify what was sent; raises
        :class:`~sellerbridge.db.locks.LockTaken` if a run of this account is going on, and
        :class:`AuthError` when Amazon refuses the credentials (nothing is lost: the rows wait)."""
        busy = "The shipment confirmations of this account are being sent by another process."
        with exclusive(self._engine, f"{LOCK}:{self._account_id}", busy=busy):
            report = ConfirmationReport()
            with self._uow:
                demo = (
                    self._uow.session.get_one(AmazonAccount, self._account_id).import_mode
                    is ImportMode.DEMO
                )
            if demo:
                self._hold(report)
            else:
                for confirmation_id in self._due(ConfirmationStatus.PENDING):
                    self._send(confirmation_id, report)
            for confirmation_id in self._due(ConfirmationStatus.SENT):
                self._verify(confirmation_id, report)
            log.info("confirmations run", account=self._account_id, sent=report.sent,
                     verified=report.verified, failed=report.failed,
                     postponed=report.postponed, held=report.held)  # fmt: skip
            return report

    # --- the steps ---------------------------------------------------------------------------

    def _due(self, status: ConfirmationStatus) -> list[int]:
        with self._uow:
            return list(
                self._uow.session.scalars(
                    select(ShipmentConfirmation.id)
                    .where(
                        ShipmentConfirmation.account_id == self._account_id,
                        ShipmentConfirmation.status == status,
                        ShipmentConfirmation.next_attempt_at <= self._clock(),
                    )
                    .order_by(ShipmentConfirmation.next_attempt_at, ShipmentConfirmation.id)
                    .limit(BATCH)
                )
            )

    def _hold(self, report: ConfirmationReport) -> None:
        """Demo mode: leave every due confirmation pending, saying why."""
        with self._uow:
            for row in self._uow.session.scalars(
                select(ShipmentConfirmation).where(
                    ShipmentConfirmation.account_id == self._account_id,
                    ShipmentConfirmation.status == ConfirmationStatus.PENDING,
                    ShipmentConfirmation.next_attempt_at <= self._clock(),
                )
            ):
                row.last_error = DEMO_NOTE
                report.held += 1
            self._uow.commit()

    def _claim(self, confirmation_id: int, status: ConfirmationStatus) -> _Package | None:
        """Take the row for the next ``LEASE`` (None if it is no longer due or in ``status``)."""
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.scalars(
                select(ShipmentConfirmation)
                .where(ShipmentConfirmation.id == confirmation_id)
                .with_for_update()
            ).one()
            if row.status is not status or row.next_attempt_at is None or row.next_attempt_at > now:
                return None
            package = self._package(row)
            if package.problem is None:
                row.next_attempt_at = now + LEASE
                if status is ConfirmationStatus.PENDING:
                    # A send begins: if this process dies before its outcome is recorded, the
                    # next run sees the attempt and reads the order before sending again.
                    row.attempts += 1
            else:
                self._fail(session, row, package.subject, package.problem, now)
            self._uow.commit()
        return package

    def _send(self, confirmation_id: int, report: ConfirmationReport) -> None:
        package = self._claim(confirmation_id, ConfirmationStatus.PENDING)
        if package is None:
            return
        if package.detail is None:
            report.failed += 1
            report.problems.append(f"{package.problem}")
            return
        if package.tried_before and not self._still_to_send(package, report):
            return
        try:
            response = self._client.confirm_shipment(
                package.amazon_order_id,
                marketplace_id=package.marketplace_id,
                package=package.detail,
            )
        except AmbiguousError as error:
            self._after_ambiguous(package, error, report)
            return
        except RejectedError as error:
            self._record_failure(package, _refusal(package, error), error.request_id, report)
            return
        except AuthError as error:
            self._postpone(package, error, report)
            raise
        except SpApiError as error:  # throttled or failing beyond the client's retries
            self._postpone(package, error, report)
            return
        self._record_sent(package, response.request_id, report)

    def _still_to_send(self, package: _Package, report: ConfirmationReport) -> bool:
        """Read the order before sending a package again (Amazon may have it already): False
        when it has it as ours (recorded) or the read failed (postponed)."""
        try:
            shown = self._find(package)
        except AuthError as error:
            self._postpone(package, error, report)
            raise
        except SpApiError as error:
            self._postpone(package, error, report)
            return False
        if shown is not None and _shows_ours(shown, package):
            self._record_sent(package, None, report, verified=True)
            return False
        return True  # not there, or there without our details: send it under the same reference

    def _after_ambiguous(
        self, package: _Package, error: AmbiguousError, report: ConfirmationReport
    ) -> None:
        """Amazon may have applied it: look, and never send it again blindly."""
        try:
            shown = self._find(package)
        except AuthError:
            self._postpone(package, error, report)
            raise
        except SpApiError:
            self._postpone(package, error, report)  # read back before the next send
            return
        if shown is None:
            self._postpone(package, error, report)  # not applied: sent again later
        elif _shows_ours(shown, package):
            self._record_sent(package, error.request_id, report, verified=True)
        else:
            self._record_sent(package, error.request_id, report)  # the check will say what

    def _verify(self, confirmation_id: int, report: ConfirmationReport) -> None:
        package = self._claim(confirmation_id, ConfirmationStatus.SENT)
        if package is None:
            return
        try:
            shown = self._find(package)
        except AuthError as error:
            self._unverified(package, f"{error}", report, count=False)
            raise
        except SpApiError as error:
            self._unverified(package, f"{error}", report, count=not _temporary(error))
            return
        if shown is None:
            self._unverified(package, "Amazon does not show the package on the order yet.",
                             report, count=True)  # fmt: skip
        elif _shows_ours(shown, package):
            self._record_verified(package, report)
        else:
            self._record_failure(package, _mismatch(package, shown), None, report)

    def _find(self, package: _Package) -> OrderPackage | None:
        """The package on Amazon's order: by our reference, else by tracking number."""
        order = self._client.get_order(package.amazon_order_id, PACKAGES)
        reference = str(package.shipment_id)
        for shown in order.packages:
            if shown.package_reference_id == reference:
                return shown
        tracking = _normal(package.tracking_number)
        for shown in order.packages:
            if tracking and _normal(shown.tracking_number) == tracking:
                return shown
        return None

    # --- reading a row -----------------------------------------------------------------------

    def _package(self, row: ShipmentConfirmation) -> _Package:
        shipment = row.shipment
        order_number = shipment.order.number
        carrier = amazon_carrier(shipment.carrier, self._settings.amazon_carrier_codes)
        problem, detail = None, None
        items: dict[str, int] = {}
        for line in shipment.lines:
            item_id = line.order_line.external_reference
            if not item_id:
                problem = (
                    f"Package {shipment.id} of order {order_number} cannot be confirmed to "
                    f"Amazon: line {line.order_line.position} has no Amazon order item id. "
                    "Confirm the package in Seller Central (Orders → Confirm shipment)."
                )
                break
            items[item_id] = items.get(item_id, 0) + line.quantity
        if problem is None and not shipment.tracking_number:
            problem = (
                f"Package {shipment.id} of order {order_number} has no tracking number, and "
                "Amazon's confirmShipment needs one. Confirm it in Seller Central (Orders → "
                "Confirm shipment), choosing the untracked shipping method there."
            )
        if problem is None:
            assert shipment.tracking_number is not None
            detail = PackageDetail(
                package_reference_id=str(shipment.id),
                carrier_code=carrier.code,
                carrier_name=carrier.name,
                shipping_method=shipment.shipping_method,
                tracking_number=shipment.tracking_number,
                ship_date=ensure_utc(shipment.shipped_at).replace(microsecond=0),
                order_items=[
                    ConfirmShipmentOrderItem(order_item_id=item_id, quantity=quantity)
                    for item_id, quantity in items.items()
                ],
            )
        return _Package(
            confirmation_id=row.id,
            shipment_id=shipment.id,
            order_number=order_number,
            amazon_order_id=row.amazon_order_id,
            marketplace_id=row.marketplace_id,
            erp_carrier=shipment.carrier,
            carrier=carrier,
            tracking_number=shipment.tracking_number,
            detail=detail,
            problem=problem,
            tried_before=row.attempts > 0 or row.sent_at is not None,
            attempts=row.attempts,
        )

    # --- recording outcomes ------------------------------------------------------------------

    def _record_sent(
        self,
        package: _Package,
        request_id: str | None,
        report: ConfirmationReport,
        *,
        verified: bool = False,
    ) -> None:
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.get_one(ShipmentConfirmation, package.confirmation_id)
            row.sent_at = row.sent_at or now
            row.request_id = request_id or row.request_id
            row.last_error, row.attempts = None, 0
            if verified:
                row.status, row.verified_at, row.next_attempt_at = (
                    ConfirmationStatus.VERIFIED, now, None
                )  # fmt: skip
                _resolve(session, package.subject, now)
            else:
                row.status, row.next_attempt_at = ConfirmationStatus.SENT, now + VERIFY_AFTER[0]
            resolve_alerts(session, kind=DELAYED_ALERT, subject=package.subject, at=now)
            self._uow.commit()
        report.sent += 1
        report.verified += verified
        log.info("package confirmed", order=package.order_number, package=package.shipment_id,
                 verified=verified, request_id=request_id)  # fmt: skip

    def _record_verified(self, package: _Package, report: ConfirmationReport) -> None:
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.get_one(ShipmentConfirmation, package.confirmation_id)
            row.status, row.verified_at, row.next_attempt_at = (
                ConfirmationStatus.VERIFIED, now, None
            )  # fmt: skip
            row.last_error = None
            _resolve(session, package.subject, now)
            self._uow.commit()
        report.verified += 1
        log.info("package verified", order=package.order_number, package=package.shipment_id)

    def _record_failure(
        self, package: _Package, message: str, request_id: str | None, report: ConfirmationReport
    ) -> None:
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.get_one(ShipmentConfirmation, package.confirmation_id)
            row.request_id = request_id or row.request_id
            self._fail(session, row, package.subject, message, now)
            self._uow.commit()
        report.failed += 1
        report.problems.append(message)

    def _fail(
        self, session: Session, row: ShipmentConfirmation, subject: str, message: str, at: datetime
    ) -> None:
        row.status, row.next_attempt_at = ConfirmationStatus.FAILED, None
        row.last_error = message[:500]
        raise_alert(session, kind=FAILED_ALERT, severity=Severity.ERROR, subject=subject,
                    message=message, at=at)  # fmt: skip
        log.warning("confirmation failed", order=subject, confirmation=row.id)

    def _postpone(self, package: _Package, error: SpApiError, report: ConfirmationReport) -> None:
        """A send that may work later: stay pending, with a growing pause."""
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.get_one(ShipmentConfirmation, package.confirmation_id)
            row.last_error = f"{error}"[:500]  # the claim counted the attempt
            row.next_attempt_at = now + BACKOFF[min(max(row.attempts, 1), len(BACKOFF)) - 1]
            if row.attempts >= DELAY_ALERT_AFTER:
                raise_alert(
                    session, kind=DELAYED_ALERT, severity=Severity.WARNING,
                    subject=package.subject, at=now,
                    message=f"Package {package.shipment_id} of order {package.order_number} "
                    f"(Amazon {package.amazon_order_id}) is not confirmed to Amazon yet after "
                    f"{row.attempts} attempts; it is tried again. Last: {error}",
                )  # fmt: skip
            self._uow.commit()
        report.postponed += 1
        log.warning("confirmation postponed", order=package.order_number,
                    package=package.shipment_id, error=type(error).__name__)  # fmt: skip

    def _unverified(
        self, package: _Package, reason: str, report: ConfirmationReport, *, count: bool
    ) -> None:
        """Amazon did not (yet) show the package: read again later, or fail after the last."""
        now = self._clock()
        with self._uow:
            session = self._uow.session
            row = session.get_one(ShipmentConfirmation, package.confirmation_id)
            row.attempts += count
            if row.attempts >= len(VERIFY_AFTER):
                self._fail(session, row, package.subject, _missing(package, row.attempts), now)
                report.failed += 1
                report.problems.append(f"{row.last_error}")
            else:
                row.last_error = reason[:500]
                row.next_attempt_at = now + VERIFY_AFTER[max(row.attempts, 1)]
                report.postponed += 1
            self._uow.commit()


# --- how a package compares, and what the alerts say ------------------------------------------


def _normal(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def _shows_ours(shown: OrderPackage, package: _Package) -> bool:
    """Whether Amazon shows the package with our carrier and tracking number."""
    carrier = (shown.carrier or "").strip().casefold()
    ours = {package.carrier.code.casefold(), package.carrier.shown_as.casefold()}
    return carrier in ours and _normal(shown.tracking_number) == _normal(package.tracking_number)


def _temporary(error: SpApiError) -> bool:
    return not isinstance(error, RejectedError)


def _subject(order_number: str, shipment_id: int) -> str:
    return f"{order_number} package {shipment_id}"


def _resolve(session: Session, subject: str, at: datetime) -> None:
    for kind in (FAILED_ALERT, DELAYED_ALERT):
        resolve_alerts(session, kind=kind, subject=subject, at=at)


def _sent_as(package: _Package) -> str:
    sent = (
        f'carrier "{package.erp_carrier}" went to Amazon as carrier code "{package.carrier.code}"'
    )
    if package.carrier.name:
        sent += f' with carrier name "{package.carrier.name}"'
    source = "amazon_carrier_codes" if package.carrier.configured else "the built-in table"
    return f"{sent} (from {source})"


def _fix(package: _Package) -> str:
    return (
        f'map "{package.erp_carrier}" to a carrier code Amazon lists (or to "Other") in '
        "amazon_carrier_codes in sellerbridge.toml, then run `sellerbridge amazon "
        f"confirmations retry {package.order_number}`"
    )


def _refusal(package: _Package, error: RejectedError) -> str:
    about_carrier = any(
        "carrier" in f"{detail.message} {detail.details or ''}".lower() for detail in error.errors
    )
    head = (
        f"Amazon refused the shipment confirmation of package {package.shipment_id} of order "
        f"{package.order_number} (Amazon {package.amazon_order_id}): {_sent_as(package)}."
    )
    if about_carrier:
        advice = f" Amazon does not accept that carrier code: {_fix(package)}."
    else:
        advice = (
            " Check the order and the package in Seller Central (is the order cancelled, are "
            "the quantities more than Amazon still expects?); if the carrier code is the "
            f"problem, {_fix(package)}."
        )
    return f"{head}{advice} The order stays shipped in sellerbridge. {error}"


def _mismatch(package: _Package, shown: OrderPackage) -> str:
    missing = []
    if (shown.carrier or "").strip().casefold() not in {
        package.carrier.code.casefold(),
        package.carrier.shown_as.casefold(),
    }:
        missing.append("without our carrier" if shown.carrier else "without a carrier")
    if _normal(shown.tracking_number) != _normal(package.tracking_number):
        missing.append("without our tracking number")
    return (
        f"Amazon accepted package {package.shipment_id} of order {package.order_number} "
        f"(Amazon {package.amazon_order_id}) but shows it {' and '.join(missing)}: "
        f"{_sent_as(package)}. Amazon drops carrier codes it does not recognise; {_fix(package)}, "
        "or correct the package in Seller Central. The order stays shipped in sellerbridge."
    )


def _missing(package: _Package, reads: int) -> str:
    return (
        f"Amazon does not show package {package.shipment_id} of order {package.order_number} "
        f"(Amazon {package.amazon_order_id}) after it was confirmed ({reads} reads of the "
        f"order): {_sent_as(package)}. Look at the order in Seller Central; to send it again, "
        f"run `sellerbridge amazon confirmations retry {package.order_number}`."
    )


# --- for the operator and the scheduler --------------------------------------------------------


def retry_confirmation(
    session: Session, shipment_id_or_order: int | str, at: datetime
) -> list[ShipmentConfirmation]:
    """Set the failed confirmations of a shipment (by id) or an order (its number, or Amazon's
    order id) back to pending, due ``at`` — for after the cause is fixed."""
    query = select(ShipmentConfirmation).where(
        ShipmentConfirmation.status == ConfirmationStatus.FAILED
    )
    if isinstance(shipment_id_or_order, int):
        query = query.where(ShipmentConfirmation.shipment_id == shipment_id_or_order)
    else:
        name = shipment_id_or_order.strip()
        query = (
            query.join(Shipment, Shipment.id == ShipmentConfirmation.shipment_id)
            .join(SalesOrder, SalesOrder.id == Shipment.order_id)
            .where(or_(SalesOrder.number == name, ShipmentConfirmation.amazon_order_id == name))
        )
    rows = list(session.scalars(query.order_by(ShipmentConfirmation.id).with_for_update()))
    if not rows:
        raise NotFound(
            f"{shipment_id_or_order} has no failed shipment confirmation.",
            hint="List them with `sellerbridge amazon confirmations --state failed`.",
        )
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = ConfirmationStatus.PENDING, 0, at
        row.last_error = None
        _resolve(session, _subject(row.shipment.order.number, row.shipment_id), at)
    return rows


def confirmations(
    session: Session, *, state: ConfirmationStatus | None = None, account_id: int | None = None
) -> Sequence[ShipmentConfirmation]:
    """Confirmations, newest first, optionally of one state or account."""
    query = select(ShipmentConfirmation).order_by(ShipmentConfirmation.id.desc())
    if state is not None:
        query = query.where(ShipmentConfirmation.status == state)
    if account_id is not None:
        query = query.where(ShipmentConfirmation.account_id == account_id)
    return session.scalars(query).all()


def accounts_with_due_confirmations(engine: Engine, at: datetime) -> list[int]:
    """The active accounts with a confirmation to send or to verify at ``at``."""
    with UnitOfWork(engine) as uow:
        return list(
            uow.session.scalars(
                select(ShipmentConfirmation.account_id)
                .join(AmazonAccount, AmazonAccount.id == ShipmentConfirmation.account_id)
                .where(
                    AmazonAccount.active.is_(True),
                    ShipmentConfirmation.status.in_(
                        (ConfirmationStatus.PENDING, ConfirmationStatus.SENT)
                    ),
                    ShipmentConfirmation.next_attempt_at <= at,
                )
                .distinct()
                .order_by(ShipmentConfirmation.account_id)
            )
        )


__all__ = [
    "BACKOFF",
    "DEMO_NOTE",
    "FAILED_ALERT",
    "LEASE",
    "VERIFY_AFTER",
    "ConfirmationExporter",
    "ConfirmationReport",
    "accounts_with_due_confirmations",
    "confirmations",
    "retry_confirmation",
]
