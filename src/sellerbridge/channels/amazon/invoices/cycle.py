"""An account's invoicing with Amazon, as the worker runs it every minute and
``sellerbridge amazon upload`` runs it at once.

1. Under *VCS with own invoices*, read each such marketplace's pending VAT invoice data rows
   (every ``invoice_data_minutes``) and issue the invoices they make due (:mod:`.vcs`); under
   *VCS with Amazon issuing*, record Amazon's invoices (:mod:`.amazon_issued`, as often).
2. Read Amazon's refunds (every ``invoice_data_minutes``), issue their correction invoices and
   find the transaction ids their credit notes are uploaded with (:mod:`.refunds`).
3. Upload what is due and read the results (:mod:`.uploads`).

Steps 1 and 2 run under the account's ``invoice-data`` lock, step 3 under its upload lock, so
two runs never issue the same document or send the same upload. What steps 1 and 2 cannot do
is one alert per account, resolved by a run that has nothing left to say.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Engine, select

from sellerbridge.channels.amazon.invoices import attempt
from sellerbridge.channels.amazon.invoices.amazon_issued import record_amazon_invoices
from sellerbridge.channels.amazon.invoices.refunds import RefundProcessor, RefundReport
from sellerbridge.channels.amazon.invoices.uploads import InvoiceUploader, UploadReport
from sellerbridge.channels.amazon.invoices.vcs import (
    RowsRead,
    VcsReport,
    done,
    due,
    issue_vcs_invoices,
    read_rows_if_due,
)
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.locks import exclusive
from sellerbridge.db.models import AmazonAccount, AmazonChannel, SalesChannel, Severity
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts
from sellerbridge.services.documents import DocumentSettings

LOCK = "invoice-data"
AMAZON_ISSUED = "amazon-issued-invoices"
"""The cursor stream that remembers when Amazon's invoices were last recorded."""
ALERT = "amazon_invoice_data"


@dataclass
class InvoicingReport:
    vcs: VcsReport
    refunds: RefundReport
    upload: UploadReport
    rows: RowsRead = field(default_factory=RowsRead)
    """Amazon's VAT invoice data rows read this run, added up over the marketplaces."""
    problems: list[str] = field(default_factory=list)
    """What the VAT data and the refunds left for a person."""


def run_invoicing(
    engine: Engine,
    account_id: int,
    client: SpApiClient,
    settings: Settings,
    *,
    force: bool = False,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> InvoicingReport:
    """One run for the account; ``force`` reads Amazon's data now, whenever it was read last.
    Raises ``LockTaken`` while another run holds the account's lock."""
    uow = UnitOfWork(engine)
    every = timedelta(0) if force else timedelta(minutes=settings.invoice_data_minutes)
    document_settings = DocumentSettings.of(settings)
    problems: list[str] = []
    with exclusive(engine, f"{LOCK}:{account_id}"):
        marketplaces = _vcs_marketplaces(uow, account_id)
        read, shown = 0, RowsRead()
        for marketplace in marketplaces:
            rows = attempt(problems, f"Amazon's VAT invoice data of {marketplace}",
                           partial(read_rows_if_due, uow, client, account_id, marketplace,
                                   at=clock(), every=every, sleep=sleep))  # fmt: skip
            if rows is not None:
                read += 1
                shown.new, shown.changed = shown.new + rows.new, shown.changed + rows.changed
                problems += rows.problems
        vcs = issue_vcs_invoices(uow, account_id, document_settings, at=clock())
        if _amazon_issues(uow, account_id) and due(uow, account_id, AMAZON_ISSUED, at=clock(),
                                                   every=every):  # fmt: skip
            done(uow, account_id, AMAZON_ISSUED, at=clock())  # once per interval, even failing
            attempt(problems, "Amazon's invoices (VAT calculation report)",
                    lambda: record_amazon_invoices(engine, account_id, client, clock=clock,
                                                   sleep=sleep))  # fmt: skip
        refunds = RefundProcessor(engine, account_id, client, document_settings, clock=clock,
                                  sleep=sleep).run(read_every=every)  # fmt: skip
    problems += vcs.problems + refunds.problems
    # Problems of the VAT data are found when it is read: a run that did not read it cannot
    # tell that they are gone.
    settled = not problems and (read == len(marketplaces))
    upload = InvoiceUploader(engine, account_id, client, settings, clock=clock).run()
    with uow:
        name = uow.session.get_one(AmazonAccount, account_id).name
        if problems:
            raise_alert(
                uow.session, kind=ALERT, severity=Severity.ERROR, subject=name, at=clock(),
                message=f"{len(problems)} invoice(s) or refund(s) of account {name} need a "
                f"look; the first: {problems[0]}. `sellerbridge amazon refunds` lists refunds.",
            )  # fmt: skip
        elif settled:
            resolve_alerts(uow.session, kind=ALERT, subject=name, at=clock())
        uow.commit()
    return InvoicingReport(vcs, refunds, upload, shown, problems)


def _amazon_issues(uow: UnitOfWork, account_id: int) -> bool:
    """Whether Amazon issues the invoices of one of the account's channels."""
    with uow:
        return uow.session.scalar(
            select(AmazonChannel.id)
            .join(SalesChannel, SalesChannel.id == AmazonChannel.channel_id)
            .where(AmazonChannel.account_id == account_id,
                   SalesChannel.channel_invoices_from.is_not(None))
            .limit(1)
        ) is not None  # fmt: skip


def _vcs_marketplaces(uow: UnitOfWork, account_id: int) -> list[str]:
    """The marketplaces with a channel invoiced from Amazon's VAT calculation."""
    with uow:
        return list(
            uow.session.scalars(
                select(AmazonChannel.marketplace_id)
                .join(SalesChannel, SalesChannel.id == AmazonChannel.channel_id)
                .where(AmazonChannel.account_id == account_id,
                       SalesChannel.vat_data_from.is_not(None))
                .distinct()
                .order_by(AmazonChannel.marketplace_id)
            )
        )  # fmt: skip
