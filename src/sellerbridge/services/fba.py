"""The FBA process: Amazon ships, the merchant invoices (and, if the account says so, e-mails).

An FBA order arrives shipped. :func:`invoice_fba_orders` finds the shipped FBA orders without an
invoice, issues each one's invoice in a transaction of its own and, for accounts with
``mail_fba_invoices``, queues the e-mail to the buyer in the same transaction. It is a
reconciler: run it again and it does only what is still missing. An order it cannot invoice
(the merchant's details are incomplete, a VAT rule refuses) raises one alert per account with
the reason, resolved by the next run that gets through.

The buyer's address of an FBA order does not come with the import (the Orders API 2026 gives
``buyerEmail`` for FBM orders only), so the caller passes a :data:`BuyerEmails` lookup that asks
Amazon for it. A lookup that fails for now (:class:`AddressLater`) leaves the order for the next
run, so that its invoice is issued together with its mail; one Amazon refuses (a
:class:`~sellerbridge.core.errors.DomainError`) or that finds no address gets the invoice issued
unmailed, and alerted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, exists, or_, select
from sqlalchemy.orm import aliased

from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AddressRecord,
    AmazonAccount,
    AmazonOrderBinding,
    Document,
    Fulfillment,
    SalesChannel,
    SalesOrder,
    Severity,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents, mailing
from sellerbridge.services.alerts import raise_alert, resolve_alerts

ALERT = "fba_invoicing_failed"
"""Raised per account when an FBA order cannot be invoiced, or its invoice not queued for
e-mail (Amazon gave no buyer address, or refused it)."""
ACTOR = "job:fba-invoices"

BuyerEmails = Callable[[str], str | None]
"""The buyer's e-mail address of an Amazon order id, as Amazon gives it (``None``: none)."""


class AddressLater(Exception):
    """The buyer's address cannot be read now (Amazon busy or unreachable); try next run."""


@dataclass(frozen=True)
class FbaReport:
    invoiced: int
    mailed: int
    failed: int
    problems: tuple[str, ...] = ()


def invoice_fba_orders(
    engine: Engine,
    settings: documents.DocumentSettings,
    account_id: int,
    *,
    at: datetime,
    buyer_emails: BuyerEmails | None = None,
) -> FbaReport:
    """Invoice the account's shipped FBA orders that have no invoice yet, and queue their mail
    when the account says so (to the order's address, else to the one ``buyer_emails`` reads)."""
    uow = UnitOfWork(engine)
    billing, shipping = aliased(AddressRecord), aliased(AddressRecord)
    with uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        name, mail = account.name, account.mail_fba_invoices
        waiting = list(
            uow.session.execute(
                select(
                    SalesOrder.number,
                    AmazonOrderBinding.amazon_order_id,
                    or_(billing.email.is_not(None), shipping.email.is_not(None)),
                )
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
                .join(billing, billing.id == SalesOrder.billing_address_id)
                .join(shipping, shipping.id == SalesOrder.shipping_address_id)
                .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                .where(
                    # not those Amazon invoices itself (VCS with Amazon issuing)
                    or_(
                        SalesChannel.channel_invoices_from.is_(None),
                        SalesOrder.ordered_at < SalesChannel.channel_invoices_from,
                    ),
                    # nor those invoiced from Amazon's VAT calculation (VCS with own invoices)
                    or_(
                        SalesChannel.vat_data_from.is_(None),
                        SalesOrder.ordered_at < SalesChannel.vat_data_from,
                    ),
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
    for number, amazon_order_id, has_address in waiting:
        to, send = None, mail
        if mail and not has_address and buyer_emails is not None:
            try:
                to = buyer_emails(amazon_order_id)
            except AddressLater as later:
                problems.append(f"{number}: left for the next run: {later}")
                continue
            except DomainError as problem:
                problems.append(f"{number}: the buyer's address: {problem}")
                send = False
        try:
            with uow:
                invoice = documents.issue_invoice(uow.session, number, settings=settings,
                                                  actor=ACTOR, at=at)  # fmt: skip
                queued = send and _queue_mail(uow, invoice.number, problems, to=to, at=at)
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


def _queue_mail(
    uow: UnitOfWork, number: str, problems: list[str], *, to: str | None, at: datetime
) -> bool:
    """Queue the invoice's e-mail; an order without an address keeps its invoice, unmailed."""
    try:
        mailing.queue_mail(uow.session, number, to=to, at=at)
    except DomainError as problem:
        problems.append(f"{number}: {problem}")
        return False
    return True
