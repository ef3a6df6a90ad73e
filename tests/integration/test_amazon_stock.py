"""Stock to Amazon against the sandbox: quantities follow the stock of every channel, only
changes go out (sell-outs at once), a bad SKU fails alone, FBA SKUs are never sent a quantity,
and FBA inventory comes into the FBA warehouse."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from sellerbridge.channels.amazon.skus import StockRuleChange, map_sku, set_stock_rule
from sellerbridge.channels.amazon.stock.exporter import ALERT as STOCK_ALERT
from sellerbridge.channels.amazon.stock.exporter import PushReport
from sellerbridge.channels.amazon.stock.fba_inventory import import_fba_inventory
from sellerbridge.channels.amazon.stock.overview import offer_overview
from sellerbridge.channels.amazon.stock.sync import sync_stock
from sellerbridge.cli.main import app
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import AmazonFbaInventory, AmazonOffer, Fulfillment, OfferResult
from sellerbridge.demo.amazon import bulk_catalogue
from sellerbridge.services import stock
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.orders import cancel_order
from sellerbridge.services.setup import MAIN_WAREHOUSE
from tests.amazon import Shop
from tests.helpers import level, place_order

ON_HAND = 1000  # what open_shop puts in the main warehouse for every merchant SKU
PATCH = "listings.patchListingsItem"
CREATE_FEED = "feeds.createFeed"


def push(shop: Shop, *, full: bool = False, **settings: Any) -> PushReport:
    """One stock sync, waiting for the feeds' results."""
    with shop.client() as client:
        return sync_stock(shop.engine, shop.account_id, client,
                          shop.settings.model_copy(update=settings), full=full,
                          wait_seconds=120, sleep=lambda _: time.sleep(0.2))  # fmt: skip


def amazon_quantities(shop: Shop, *, fba: bool = False) -> dict[tuple[str, str], int | None]:
    """(SKU, marketplace) → the quantity the sandbox offers, for its FBM (or FBA) listings."""
    rows = shop.live.admin("GET", "/listings", params={"seller_id": shop.live.seller.seller_id})
    return {
        (row["sku"], row["marketplace"]): row["quantity"]
        for row in rows
        if (row["fulfillment_channel"] != "DEFAULT") == fba
    }


def quantities_of(shop: Shop, sku: str) -> set[int | None]:
    return {q for (s, _), q in amazon_quantities(shop).items() if s == sku}


def calls(shop: Shop, operation: str) -> list[Any]:
    logged: list[Any] = shop.live.admin("GET", "/requests", params={"operation": operation})
    return logged


def sent_feed_skus(shop: Shop) -> list[str]:
    """Every SKU of every listings feed document the sandbox received."""
    skus = []
    for document in shop.live.sandbox.state.documents.documents.values():
        if document.purpose == "feed" and document.content:
            skus += [m["sku"] for m in json.loads(document.content)["messages"]]
    return skus


def test_a_manual_order_lowers_the_offer_everywhere_and_its_cancellation_restores_it(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    first = push(shop)
    assert first.reconciled
    assert first.feeds  # 24 merchant SKUs differ from the sandbox's start: more than a patch's
    assert first.failed == []
    fbm = amazon_quantities(shop)
    assert fbm
    assert set(fbm.values()) == {ON_HAND}

    number = place_order(shop.uow, ("SB-0005", 3, "19.90"))
    assert level(shop.uow, "SB-0005") == (ON_HAND, 3)
    lowered = push(shop)
    assert (lowered.patched, lowered.feeds, lowered.accepted) == (
        1,
        [],
        len([key for key in fbm if key[0] == "SB-0005"]),
    )  # one SKU: one patch for all its marketplaces
    after = amazon_quantities(shop)
    assert {q for (sku, _), q in after.items() if sku == "SB-0005"} == {ON_HAND - 3}
    assert {q for (sku, _), q in after.items() if sku != "SB-0005"} == {ON_HAND}

    cancel_order(shop.uow, number, reason="buyer changed their mind", actor="test")
    push(shop)
    assert amazon_quantities(shop) == fbm
    again = push(shop)  # nothing changed: nothing is sent
    assert (again.patched, again.feeds, again.checked) == (0, [], 0)


def test_no_quantity_is_ever_sent_for_an_fba_sku(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    push(shop, full=True)
    push(shop, full=True, stock_patch_limit=1000)  # everything again, one patch per SKU
    fba_skus = {sku for sku, _ in amazon_quantities(shop, fba=True)}
    assert fba_skus
    patched = {call["path"].rsplit("/", 1)[-1].split("?")[0] for call in calls(shop, PATCH)}
    assert not patched & fba_skus
    assert not set(sent_feed_skus(shop)) & fba_skus
    with shop.uow as uow:
        offers = uow.session.scalars(select(AmazonOffer)).all()
        assert {o.seller_sku for o in offers if o.fulfillment is Fulfillment.FBA} == fba_skus
        assert all(o.sent_quantity is None for o in offers if o.fulfillment is Fulfillment.FBA)


def test_a_sku_amazon_no_longer_has_fails_alone_with_its_reason(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    push(shop)
    skus = sorted({sku for sku, _ in amazon_quantities(shop)})
    # The merchant deletes one listing in Seller Central; sellerbridge has not read it yet.
    del shop.live.sandbox.state.listings.listings[shop.live.seller.seller_id][skus[0]]
    for sku in skus:
        stock.receive(shop.uow, article_number=sku, quantity=1, warehouse_code=MAIN_WAREHOUSE,
                      actor="test")  # fmt: skip

    report = push(shop)
    assert len(report.feeds) == 1  # the 24 changed SKUs went in one feed
    assert {sku for sku, _, _ in report.failed} == {skus[0]}
    assert set(amazon_quantities(shop).values()) == {ON_HAND + 1}  # all the others applied
    with shop.uow as uow:
        refused = offer_overview(uow.session, shop.account_id, shop.settings, sku=skus[0],
                                 failed=True)  # fmt: skip
    assert refused
    assert all(view.result.startswith("refused: 13013") for view in refused)

    shown = CliRunner().invoke(
        app, ["stock", "amazon", "--failed"], env=shop.environment() | {"COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    assert skus[0] in shown.output
    assert "13013" in shown.output  # Amazon's code for a SKU it does not have, and why
    assert skus[1] not in shown.output

    # Another SKU accepted later does not clear the alert while the refused one stays refused.
    stock.receive(shop.uow, article_number=skus[1], quantity=1, warehouse_code=MAIN_WAREHOUSE,
                  actor="test")  # fmt: skip
    assert push(shop).accepted > 0
    with shop.uow as uow:
        assert [a.kind for a in open_alerts(uow.session)] == [STOCK_ALERT]


def test_a_new_sku_is_sent_only_where_amazon_lists_it(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    push(shop)
    seller = shop.live.seller.seller_id
    shop.live.admin("PUT", f"/listings/{seller}/SB-NEW1", json={"marketplaces": ["DE", "FR"]})
    import_articles(shop.uow, *read_csv("article_number,name\nNEW-1,New espresso cup\n"))
    map_sku(shop.uow, sku="SB-NEW1", article_number="NEW-1", account=None, actor="test")
    stock.receive(shop.uow, article_number="NEW-1", quantity=6, warehouse_code=MAIN_WAREHOUSE,
                  actor="test")  # fmt: skip

    report = push(shop)
    assert report.reconciled  # a new binding's offers are checked against Amazon's listings
    assert report.failed == []
    new = {m: q for (s, m), q in amazon_quantities(shop).items() if s == "SB-NEW1"}
    assert new == {"DE": 6, "FR": 6}
    patched = [c["path"] for c in calls(shop, PATCH) if "SB-NEW1" in c["path"]]
    assert len(patched) == 1  # one patch for the two marketplaces, none elsewhere


def test_a_sell_out_goes_at_once_with_a_patch(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    push(shop)
    skus = sorted({sku for sku, _ in amazon_quantities(shop)})
    stock.adjust(shop.uow, article_number=skus[0], warehouse_code=MAIN_WAREHOUSE, counted=0,
                 reason="broken in the warehouse", actor="test")  # fmt: skip
    for sku in skus[1:]:
        stock.receive(shop.uow, article_number=sku, quantity=2, warehouse_code=MAIN_WAREHOUSE,
                      actor="test")  # fmt: skip
    patches_before = len(calls(shop, PATCH))

    with shop.client() as client:  # no waiting: the patch has landed when the push returns
        report = sync_stock(shop.engine, shop.account_id, client,
                            shop.settings.model_copy(update={"stock_patch_limit": 5}))  # fmt: skip
    assert quantities_of(shop, skus[0]) == {0}
    assert report.patched == 1
    assert len(report.feeds) == 1
    (sell_out,) = calls(shop, PATCH)[patches_before:]
    assert skus[0] in sell_out["path"]


def test_fba_inventory_comes_into_the_fba_warehouse(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    seller = shop.live.seller.seller_id
    figures = {"fulfillable": 40, "inbound_working": 0, "inbound_shipped": 12,
               "inbound_receiving": 0, "reserved_pending_customer_order": 2,
               "reserved_transshipment": 0, "reserved_fc_processing": 0, "researching": 0,
               "unfulfillable": 1}  # fmt: skip
    shop.live.admin("PUT", f"/inventory/{seller}/SB-0003-FBA", json=figures)
    with shop.client() as client:
        report = import_fba_inventory(shop.engine, shop.account_id, client, shop.settings,
                                      at=utcnow())  # fmt: skip
    assert report.skus == len(amazon_quantities(shop, fba=True)) // len(
        {m for _, m in amazon_quantities(shop, fba=True)}
    )
    with shop.uow as uow:
        row = uow.session.scalars(
            select(AmazonFbaInventory).where(AmazonFbaInventory.seller_sku == "SB-0003-FBA")
        ).one()
        assert (row.fulfillable, row.inbound, row.reserved, row.unfulfillable) == (40, 12, 2, 1)
    assert level(shop.uow, "SB-0003", "FBA-EU") == (42, 0)  # fulfillable + reserved
    assert level(shop.uow, "SB-0003") == (ON_HAND, 0)  # the own warehouse is untouched
    with shop.uow as uow:
        assert all(
            offer.result is not OfferResult.FAILED
            for offer in uow.session.scalars(select(AmazonOffer))
        )


def test_ten_thousand_changed_skus_go_out_in_one_feed_and_then_nothing_more(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    push(shop)  # the seller's catalogue is in step
    seller = shop.live.seller.seller_id
    shop.live.admin("POST", f"/listings/{seller}/bulk",
                    json={"count": 10_000, "prefix": "BULK-", "quantity": 0,
                          "marketplaces": ["DE"]})  # fmt: skip
    bulk_catalogue(shop.engine, shop.account_id, prefix="BULK-", count=10_000, on_hand=7,
                   actor="test")  # fmt: skip

    report = push(shop)
    assert report.reconciled  # the new SKUs are looked up in Amazon's listings first
    # 10,000 messages fit one feed (25,000 at most), and only 5 feeds go per 5 minutes.
    assert (len(report.feeds), report.feed_messages, report.patched) == (1, 10_000, 0)
    assert report.failed == []
    bulk = {key: q for key, q in amazon_quantities(shop).items() if key[0].startswith("BULK-")}
    assert len(bulk) == 10_000
    assert set(bulk.values()) == {7}

    again = push(shop)
    assert (again.feeds, again.patched, again.checked) == ([], 0, 0)
    assert not [c for c in calls(shop, PATCH) if "BULK-" in c["path"]]


def test_a_skus_buffer_cap_and_handling_time_reach_amazon(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    push(shop)
    change = StockRuleChange(buffer=10, buffer_percent=Decimal(1), maximum=985, handling_days=4)
    set_stock_rule(shop.uow, sku="SB-0005", account=None, change=change)
    report = push(shop)
    assert report.patched == 1  # only the SKU whose rule changed
    # 1000 free, less 10 units and 1 % (10): 980, under the cap of 985
    assert quantities_of(shop, "SB-0005") == {980}
    rows = shop.live.admin("GET", "/listings", params={"seller_id": shop.live.seller.seller_id})
    assert {row["handling_time"] for row in rows if row["sku"] == "SB-0005"} == {4}

    set_stock_rule(shop.uow, sku="SB-0005", account=None, change=StockRuleChange(maximum=50))
    push(shop)
    assert quantities_of(shop, "SB-0005") == {50}

    # A handling time alone (the quantity stays) reaches Amazon too.
    set_stock_rule(shop.uow, sku="SB-0005", account=None,
                   change=StockRuleChange(handling_days=2))  # fmt: skip
    assert push(shop).patched == 1
    rows = shop.live.admin("GET", "/listings", params={"seller_id": shop.live.seller.seller_id})
    assert {row["handling_time"] for row in rows if row["sku"] == "SB-0005"} == {2}


def test_the_cli_shows_what_would_change_then_sends_it(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    push(shop)
    stock.adjust(shop.uow, article_number="SB-0007", warehouse_code=MAIN_WAREHOUSE, counted=12,
                 reason="count", actor="test")  # fmt: skip
    environment = shop.environment() | {"COLUMNS": "200"}

    planned = CliRunner().invoke(app, ["stock", "push", "--dry-run"], env=environment)
    assert planned.exit_code == 0, planned.output
    (line,) = [row for row in planned.output.splitlines() if "SB-0007" in row]
    assert "1000" in line  # last sent
    assert "12" in line.split("│")[-2]  # wanted
    assert "1 change(s) would be sent; nothing was sent." in planned.output
    assert quantities_of(shop, "SB-0007") == {ON_HAND}

    pushed = CliRunner().invoke(app, ["stock", "push"], env=environment)
    assert pushed.exit_code == 0, pushed.output
    assert "1 sent one by one" in pushed.output
    assert quantities_of(shop, "SB-0007") == {12}
