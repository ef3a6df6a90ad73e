"""The scheduled order import as Huey runs it (immediate mode: a task runs when enqueued)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import AmazonAccount, ImportMode, Severity
from sellerbridge.jobs import build_jobs
from sellerbridge.jobs.app import AUTHORISATION_ALERT
from sellerbridge.services.alerts import open_alerts, raise_alert
from tests.amazon import Shop, imported


def set_mode(shop: Shop, mode: ImportMode) -> None:
    with shop.uow as uow:
        uow.session.get_one(AmazonAccount, shop.account_id).import_mode = mode
        uow.commit()


def test_the_schedule_imports_each_automatic_account(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    for marketplace in ("DE", "IT"):
        shop.place(marketplace=marketplace, items=[{"sku": "SB-0001"}])
    time.sleep(2)  # past Amazon's two minutes (time-scaled) and the import's delay
    jobs = build_jobs(shop.settings, shop.engine, immediate=True)

    set_mode(shop, ImportMode.MANUAL)
    jobs.schedule_imports()
    assert imported(shop) == Counter()  # a manual account imports when told to

    set_mode(shop, ImportMode.AUTOMATIC)
    jobs.schedule_imports()
    assert sum(imported(shop).values()) == 2


def test_a_refused_authorisation_raises_one_alert_and_success_resolves_it(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    jobs = build_jobs(shop.settings, shop.engine, immediate=True)
    with shop.uow as uow:
        raise_alert(uow.session, kind=AUTHORISATION_ALERT, severity=Severity.ERROR,
                    subject="main", message="revoked earlier", at=utcnow())  # fmt: skip
        uow.commit()

    assert jobs.import_orders(shop.account_id).get() == "0 orders read"
    with shop.uow as uow:
        assert open_alerts(uow.session) == []

    shop.live.admin("POST", f"/sellers/{shop.live.seller.seller_id}/revoke")
    shop.live.admin("POST", "/tokens/expire")
    time.sleep(1.5)  # a new window to read
    for _ in range(2):
        outcome = jobs.import_orders(shop.account_id).get()
        assert outcome.startswith("failed: Login with Amazon refused")
    with shop.uow as uow:
        alerts = open_alerts(uow.session)
        assert [(a.kind, a.subject) for a in alerts] == [(AUTHORISATION_ALERT, "main")]
        assert "authorise the app again" in alerts[0].message
        assert "sellerbridge amazon credentials --refresh-token" in alerts[0].message
