"""E-mailing documents to buyers: a queue of intents, sent and retried by the worker.

Queuing a mail writes a ``document_mails`` row (pending) in the caller's transaction. Sending
takes one due row, claims it (its next attempt moves a lease ahead, so a second worker leaves
it alone), talks SMTP outside any transaction, and records the attempt: sent; refused for good
(a 5xx: failed, with an alert); or a temporary failure, tried again later with growing pauses
until ``smtp.max_attempts``, then failed with an alert. A worker that dies between the
server's "250 OK" and the record sends that mail once more after the lease: a buyer may get an
invoice twice, but never none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sellerbridge import mail
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import (
    Document,
    DocumentMail,
    DocumentMailAttempt,
    MailStatus,
    Severity,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts
from sellerbridge.services.documents import content_of, document_by_number

LEASE = timedelta(minutes=10)
"""How long a claimed mail is left to its sender before another worker may try it."""
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
           timedelta(hours=4))  # fmt: skip
"""Pause after the 1st, 2nd, … temporary failure (the last one repeats)."""
ALERT = "document_mail_failed"


@dataclass(frozen=True)
class SendResult:
    sent: bool
    message: str  # for the operator: what happened and what to do


def queue_mail(
    session: Session, number: str, *, to: str | None = None, at: datetime
) -> DocumentMail:
    """Queue the e-mail of invoice or correction ``number`` to its buyer (or to ``to``)."""
    document = document_by_number(session, number)
    if document.kind is DocumentKind.DELIVERY_NOTE:
        raise DomainError(f"{document.number} is a delivery note; only invoices are e-mailed.")
    recipient = to or document.order.billing_address.email or document.order.shipping_address.email
    if not recipient:
        raise DomainError(
            f"Order {document.order.number} has no e-mail address for {document.number}.",
            hint="Give one with --to.",
        )
    entry = DocumentMail(document=document, status=MailStatus.PENDING, attempts=0,
                         next_attempt_at=at, recipient=recipient, created_at=at)  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def mails_of(session: Session, document: Document) -> Sequence[DocumentMail]:
    return session.scalars(
        select(DocumentMail)
        .where(DocumentMail.document_id == document.id)
        .order_by(DocumentMail.id)
    ).all()


def due_mails(session: Session, at: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(DocumentMail.id)
            .where(DocumentMail.status == MailStatus.PENDING, DocumentMail.next_attempt_at <= at)
            .order_by(DocumentMail.next_attempt_at)
            .limit(limit)
        )
    )


def send_due_mails(engine: Engine, settings: Settings, *, at: datetime | None = None) -> int:
    """Send every mail that is due; return how many went out."""
    with UnitOfWork(engine) as uow:
        due = due_mails(uow.session, at or utcnow())
    return sum(send_mail(engine, settings, mail_id, at=at or utcnow()).sent for mail_id in due)


def send_mail(engine: Engine, settings: Settings, mail_id: int, *, at: datetime) -> SendResult:
    """Try to send one queued mail now, and record how it went."""
    smtp = smtp_settings(settings)
    uow = UnitOfWork(engine)
    with uow:
        entry = uow.session.scalars(
            select(DocumentMail).where(DocumentMail.id == mail_id).with_for_update()
        ).one()
        if entry.status is not MailStatus.PENDING:
            return SendResult(entry.status is MailStatus.SENT, f"Mail {mail_id} is {entry.status}.")
        document = entry.document
        number = document.number
        unsendable: mail.MailRefused | None = None
        try:
            message = mail.compose_invoice_mail(
                content_of(document), document.pdf, to=entry.recipient, sender=smtp.sender,
                reply_to=smtp.reply_to,
            )  # fmt: skip
        except ValueError as error:  # an address no server would take: no use retrying
            unsendable = mail.MailRefused(f"{error}.")
        else:
            entry.next_attempt_at = at + LEASE  # claimed
            uow.commit()
    if unsendable is not None:
        return _record_failure(engine, settings, mail_id, number, unsendable, at=at)
    try:
        message_id = mail.send(message, smtp)
    except mail.MailError as error:
        return _record_failure(engine, settings, mail_id, number, error, at=at)
    with uow:
        entry = uow.session.get_one(DocumentMail, mail_id)
        entry.attempts += 1
        entry.status, entry.sent_at, entry.message_id = MailStatus.SENT, at, message_id
        entry.next_attempt_at, entry.last_error = None, None
        uow.session.add(DocumentMailAttempt(mail=entry, at=at, result="sent"))
        resolve_alerts(uow.session, kind=ALERT, subject=number, at=at)
        uow.commit()
    return SendResult(True, f"Sent {number} to the buyer.")


def _record_failure(
    engine: Engine, settings: Settings, mail_id: int, number: str, error: mail.MailError,
    *, at: datetime,
) -> SendResult:  # fmt: skip
    permanent = isinstance(error, mail.MailRefused)
    with UnitOfWork(engine) as uow:
        entry = uow.session.get_one(DocumentMail, mail_id)
        entry.attempts += 1
        entry.last_error = str(error)[:500]
        uow.session.add(DocumentMailAttempt(
            mail=entry, at=at, result="refused" if permanent else "temporary_failure",
            error=entry.last_error,
        ))  # fmt: skip
        if permanent or entry.attempts >= settings.smtp.max_attempts:
            entry.status, entry.next_attempt_at = MailStatus.FAILED, None
            raise_alert(
                uow.session, kind=ALERT, severity=Severity.ERROR, subject=number, at=at,
                message=f"The e-mail of {number} failed after {entry.attempts} attempt(s): "
                f"{error}. Fix the cause, then `sellerbridge documents mail {number}`.",
            )  # fmt: skip
            outcome = "failed for good"
        else:
            entry.next_attempt_at = at + BACKOFF[min(entry.attempts, len(BACKOFF)) - 1]
            outcome = f"will be tried again at {entry.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        uow.commit()
    return SendResult(False, f"The e-mail of {number} {outcome}: {error}")


def smtp_settings(settings: Settings) -> mail.SmtpSettings:
    """The mail server to use, or a clear error if none is configured."""
    smtp = settings.smtp
    if not smtp.host or not smtp.sender:
        raise DomainError(
            "No mail server is configured.",
            hint="Set host and sender in the [smtp] table of sellerbridge.toml "
            "(see docs/configuration.md).",
        )
    return mail.SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        sender=smtp.sender,
        security=mail.SmtpSecurity(smtp.security),
        username=smtp.username,
        password=smtp.password,
        reply_to=smtp.reply_to,
        timeout=smtp.timeout_seconds,
        ca_file=smtp.ca_file,
    )
