"""Invoicing by a process killed at random moments, under injected faults: no refund is
corrected twice, no invoice or credit note reaches Amazon twice, and every one ends accepted —
one whose fate was unknown once Amazon's VAT invoice data report has said whether it has it."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.db.models import AmazonInvoiceUpload, Document, UploadStatus
from sellerbridge.services.fba import invoice_fba_orders
from tests.amazon import Shop
from tests.e2e.test_amazon_processes import spawn
from tests.integration.test_amazon_invoice_uploads import UPLOADING, sandbox_uploads
from tests.integration.test_documents import SELLER_ENV, SETTINGS
from tests.integration.test_fba_invoices import place_fba

PLAN_RATE = 8.0
"""Calls per second the sandbox allows of createFeedDocument and createFeed."""
FAULTS = [
    {"operation": "feeds.createFeed", "kind": "lost_response", "probability": 0.1},
    {"operation": "feeds.createFeed", "kind": "error500", "probability": 0.05},
    {"operation": "feeds.getFeed", "kind": "error503", "probability": 0.1},
    {"operation": "*", "kind": "reset", "probability": 0.05},
]


def steps(shop: Shop) -> int:
    with shop.uow as uow:
        return uow.session.scalar(select(func.sum(AmazonInvoiceUpload.attempts))) or 0


def states(shop: Shop) -> Counter[UploadStatus]:
    with shop.uow as uow:
        return Counter(uow.session.scalars(select(AmazonInvoiceUpload.status)))


def test_uploads_killed_at_random_moments_under_faults_never_reach_amazon_twice(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    placed = [place_fba(shop) for _ in range(16)]
    shop.sync()
    invoiced = invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow()).invoiced
    assert invoiced >= 16
    refunded = placed[:4]
    for order_id in refunded:  # refunds Amazon posted ten minutes ago
        (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
        item = order.items[0]
        shop.live.admin("POST", f"/orders/{order_id}/refunds", json={
            "items": [{"orderItemId": item.order_item_id, "quantity": item.quantity}],
            "postedAt": (utcnow() - timedelta(minutes=10)).isoformat()})  # fmt: skip
    scale = shop.live.sandbox.config.time_scale
    for operation in ("feeds.createFeedDocument", "feeds.createFeed"):  # a run takes seconds,
        shop.live.admin("PUT", f"/usage-plans/{operation}",  # so a kill lands inside it
                        json={"rate": PLAN_RATE / scale, "burst": 2})  # fmt: skip
    shop.live.admin("PUT", "/faults", json=FAULTS)
    log = tmp_path / "upload.log"
    rng = random.Random(8)
    interrupted = 0
    for _ in range(10):
        target = steps(shop) + 1
        process = spawn(shop, log, "tests.upload_worker", env=SELLER_ENV)
        while process.poll() is None and steps(shop) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.2))
        process.kill()
        interrupted += process.wait() == -signal.SIGKILL
    assert interrupted >= 4, f"only {interrupted} of 10 runs were still going when killed"

    shop.live.admin("PUT", "/faults", json=[])
    # The last runs, left to finish, until every upload is settled (a credit note follows its
    # invoice's acceptance). Amazon (time-scaled)
    # processes a feed in well under a second: unknown ones are looked up after 1.2 s.
    settle = {"SELLERBRIDGE_INVOICE_UPLOAD_UNKNOWN_WAIT_MINUTES": "0.02", **SELLER_ENV}
    for _ in range(40):
        finished = spawn(shop, log, "tests.upload_worker", env=settle)
        assert finished.wait(timeout=60) == 0, log.read_text()[-3000:]
        if states(shop) == Counter({UploadStatus.ACCEPTED: invoiced + len(refunded)}):
            break
        time.sleep(0.3)

    per_document = Counter(u["invoice_number"] for u in sandbox_uploads(shop))
    assert per_document
    assert max(per_document.values()) == 1
    assert states(shop) == Counter({UploadStatus.ACCEPTED: invoiced + len(refunded)})
    assert len(per_document) == invoiced + len(refunded)
    credit_notes = [u for u in sandbox_uploads(shop) if u["document_type"] == "CreditNote"]
    assert sorted(u["order_id"] for u in credit_notes) == sorted(refunded)
    with shop.uow as uow:  # each refund corrected once
        corrections = uow.session.scalar(
            select(func.count(Document.id)).where(Document.kind == DocumentKind.CORRECTION)
        )
    assert corrections == len(refunded)
