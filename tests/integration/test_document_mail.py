"""E-mailing invoices through a real SMTP conversation: delivered, refused, retried."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sellerbridge.config import Settings, SmtpSettings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import DocumentMail, MailStatus
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents, mailing
from sellerbridge.services.alerts import open_alerts
from tests.integration.test_documents import issue, released_order
from tests.smtp import MailServer, mail_server

SENDER = "rechnung@kaffeehaus.example"


@pytest.fixture
def server() -> Iterator[MailServer]:
    with mail_server() as running:
        yield running


def settings_for(server: MailServer, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        smtp=SmtpSettings(
            host=server.host, port=server.port, security="none", sender=SENDER, max_attempts=3
        ),
    )


def queued_invoice(uow: UnitOfWork) -> tuple[str, int]:
    number, _ = issue(uow, documents.issue_invoice, released_order(uow))
    with uow:
        mail_id = mailing.queue_mail(uow.session, number, at=utcnow()).id
        uow.commit()
    return number, mail_id


@dataclass(frozen=True)
class MailRow:
    status: MailStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    history: list[str]  # the result of each attempt


def mail_row(uow: UnitOfWork, mail_id: int) -> MailRow:
    with uow:
        row = uow.session.get_one(DocumentMail, mail_id)
        return MailRow(row.status, row.attempts, row.next_attempt_at, row.last_error,
                       [attempt.result for attempt in row.history])  # fmt: skip


def test_the_invoice_reaches_the_buyer_with_its_pdf(
    catalogue: UnitOfWork, engine: Engine, server: MailServer, tmp_path: Path
) -> None:
    number, mail_id = queued_invoice(catalogue)
    assert mailing.send_due_mails(engine, settings_for(server, tmp_path)) == 1

    (received,) = server.received
    assert received.recipients == ("max@example.de",)
    message = received.message
    assert number in message["Subject"]
    assert "Rechnung" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    with catalogue:
        assert attachment.get_content() == documents.pdf_of(catalogue.session, number)
    row = mail_row(catalogue, mail_id)
    assert (row.status, row.attempts) == (MailStatus.SENT, 1)
    assert row.history == ["sent"]
    assert mailing.send_due_mails(engine, settings_for(server, tmp_path)) == 0  # sent once


def test_a_refused_recipient_is_recorded_and_alerted(
    catalogue: UnitOfWork, engine: Engine, server: MailServer, tmp_path: Path
) -> None:
    number, mail_id = queued_invoice(catalogue)
    server.refuse("max@example.de")
    assert mailing.send_due_mails(engine, settings_for(server, tmp_path)) == 0
    row = mail_row(catalogue, mail_id)
    assert row.status is MailStatus.FAILED
    assert row.last_error is not None
    assert "550" in row.last_error
    assert "max@example.de" not in row.last_error  # the address stays out of the error text
    with catalogue:
        (alert,) = open_alerts(catalogue.session)
        assert alert.subject == number
        assert "documents mail" in alert.message


def test_a_deferred_mail_is_tried_again_later_and_then_delivered(
    catalogue: UnitOfWork, engine: Engine, server: MailServer, tmp_path: Path
) -> None:
    _, mail_id = queued_invoice(catalogue)
    settings = settings_for(server, tmp_path)
    server.defer("max@example.de")
    start = utcnow()
    assert mailing.send_due_mails(engine, settings, at=start) == 0
    row = mail_row(catalogue, mail_id)
    assert row.status is MailStatus.PENDING
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - start == mailing.BACKOFF[0]
    assert mailing.send_due_mails(engine, settings, at=start + timedelta(seconds=30)) == 0

    server.handler.recipient_replies.clear()  # the mailbox is back
    assert mailing.send_due_mails(engine, settings, at=start + mailing.BACKOFF[0]) == 1
    row = mail_row(catalogue, mail_id)
    assert row.status is MailStatus.SENT
    assert row.history == ["temporary_failure", "sent"]
    assert len(server.received) == 1


def test_a_mail_deferred_too_often_fails_with_an_alert(
    catalogue: UnitOfWork, engine: Engine, server: MailServer, tmp_path: Path
) -> None:
    _, mail_id = queued_invoice(catalogue)
    settings = settings_for(server, tmp_path)
    server.defer("max@example.de")
    at = utcnow()
    for _ in range(settings.smtp.max_attempts):
        mailing.send_due_mails(engine, settings, at=at)
        at += timedelta(days=1)
    row = mail_row(catalogue, mail_id)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 3)
    with catalogue:
        assert [alert.kind for alert in open_alerts(catalogue.session)] == [mailing.ALERT]
