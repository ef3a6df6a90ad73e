"""The FBA process: Amazon ships, the merchant invoices (and, if the account says so, e-mails).

An FBA order arrives shipped. :func:`invoice_fba_orders` finds the shipped FBA orders without an
invoice, issues each one's invoice in a transaction of its own and, for accounts with
``mail_fba_invoices``, queues the e-mail to the buyer in the same transaction. It is a
reconciler: run it again and it does only what is still missing. An order it cannot invoice
(the merchant's details are incomplete, a VAT rule refuses) raises one alert per account with
the reason, resolved by the next run that gets through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, exists, select

from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOrderBinding,
    Document,
    Fulfillment,
    SalesOrder,
    Severity,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents, mailing
from sellerbridge.services.alerts import raise_alert, resolve_alerts

ALERT = "fba_invoicing_failed"
"""Raised per account when an FBA order cannot be invoiced, or its invoice not queued for
e-mail (Amazon gives no buyer e-mail address for FBA orders in the Orders API 2026)."""
ACTOR = "job:fba-invoices"


@dataclass(frozen=True)
class FbaReport:
    invoiced: int
    mailed: int
    failed: int
    problems: tuple[str, ...] = ()


def invoice_fba_orders(
    engine: Engine, settings: documents.DocumentSettings, account_id: int, *, at: datetime
) -> FbaReport:
    """Invoice the account's shipped FBA orders that have no invoice yet."""
    uow = UnitOfWork(engine)
    with uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        name, mail = account.name, account.mail_fba_invoices
        waiting = list(
            uow.session.scalars(
                select(SalesOrder.number)
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
                .where(
                    AmazonOrderBinding.account_id == account_id,
                    AmazonOrderBinding.fulfillment == Fulfillment.FBA,
                    SalesOrder.state == OrderState.SHIPPED,
                    ~exists().where(
                        Document.order_id == SalesOrder.id,
                        Document.kind == DocumentKind.INVOICE,
                    ),
                )
                .order_by(SalesOrder.id)
            )
        )
    invoiced = mailed = 0
    problems: list[str] = []
    for number in waiting:
        try:
            with uow:
                invoice = documents.issue_invoice(uow.session, number, settings=settings,
                                                  actor=ACTOR, at=at)  # fmt: skip
                queued = mail and _queue_mail(uow, invoice.number, problems, at=at)
                uow.commit()
        except DomainError as problem:
            problems.append(f"{number}: {problem}")
            continue
        invoiced += 1
        mailed += queued
    with uow:
        if problems:
            raise_alert(
                uow.session, kind=ALERT, severity=Severity.ERROR, subject=name, at=at,
                message=f"{len(problems)} FBA invoice(s) of account {name} could not be "
                f"issued or e-mailed; the first: {problems[0]}",
            )  # fmt: skip
        else:
            resolve_alerts(uow.session, kind=ALERT, subject=name, at=at)
        uow.commit()
    return FbaReport(invoiced, mailed, len(problems), tuple(problems))


def _queue_mail(uow: UnitOfWork, number: str, problems: list[str], *, at: datetime) -> bool:
    """Queue the invoice's e-mail; an order without an address keeps its invoice, unmailed."""
    try:
        mailing.queue_mail(uow.session, number, at=at)
    except DomainError as problem:
        problems.append(f"{number}: {problem}")
        return False
    return True
