"""An Amazon FBM order end to end: dispatch buys its label, ships it, and Amazon verifies it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from sellerbridge.channels.amazon.dispatch import label_buyer, rule_for
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.db.models import Article, Shipment, StockLevelRecord, Warehouse
from sellerbridge.services import documents, stock
from sellerbridge.services.dispatch import dispatch
from sellerbridge.services.setup import MAIN_WAREHOUSE
from tests.amazon import Shop
from tests.integration.test_amazon_confirmations import packages, run, shipped_order, states
from tests.integration.test_documents import SELLER, SETTINGS


def test_dispatch_labels_ships_and_the_label_tracking_number_is_the_one_confirmed(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0005", "quantity": 2}])
    settings = shop.settings.model_copy(update={"seller": SELLER})
    with label_buyer(shop.engine, settings) as buy_label:
        report = dispatch(shop.engine, SETTINGS, actor="t", at=utcnow(), buy_label=buy_label)
    assert (report.shipped, report.failed) == ([number], [])
    assert shop.erp(order_id).state == "shipped"
    with shop.uow as uow:
        (shipment,) = uow.session.scalars(select(Shipment)).all()
        label, tracking, carrier = shipment.label, shipment.tracking_number, shipment.carrier
    assert label is not None
    assert label.startswith(b"%PDF")  # the label file, stored with its shipment
    (bought,) = shop.live.admin("GET", "/mfn/shipments")
    assert (bought["tracking_id"], bought["carrier"]) == (tracking, carrier)

    # Buying the label confirmed the shipment at Amazon; the exporter only verifies it.
    confirmations = run(shop)
    assert (confirmations.sent, confirmations.verified) == (0, 1)
    assert states(shop) == ["verified"]
    (package,) = packages(shop, order_id)  # what Amazon shows the buyer
    assert package.tracking_number == tracking
    assert carrier in (package.carrier_code, package.carrier_name)
    assert sum(item.quantity for item in package.items) == 2


def test_a_buyer_who_paid_for_speed_gets_the_fastest_label_service(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, label_rule="cheapest")
    assert rule_for("NEXT_DAY", settings) == "fastest"
    assert rule_for("EXPEDITED", settings) == "fastest"
    assert rule_for("STANDARD", settings) == "cheapest"
    assert rule_for(None, settings) == "cheapest"


def test_partial_shipments_ship_what_is_there_and_the_rest_when_it_arrives(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.sync()  # the orders the sandbox made first take their stock before ours
    with shop.uow as uow:
        reserved = uow.session.scalars(
            select(StockLevelRecord.reserved)
            .join(Article, Article.id == StockLevelRecord.article_id)
            .join(Warehouse, Warehouse.id == StockLevelRecord.warehouse_id)
            .where(Article.number == "SB-0005", Warehouse.code == MAIN_WAREHOUSE)
        ).one()
    stock.adjust(shop.uow, article_number="SB-0005", warehouse_code=MAIN_WAREHOUSE,
                 counted=reserved + 2, reason="count", actor="test")  # fmt: skip
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0005", "quantity": 3}])
    shop.sync()
    number = shop.erp(order_id).number
    settings = shop.settings.model_copy(update={"seller": SELLER})

    def run_dispatch(*, partial: bool) -> list[str]:
        with label_buyer(shop.engine, settings) as buy_label:
            report = dispatch(shop.engine, SETTINGS, actor="t", at=utcnow(),
                              buy_label=buy_label, partial=partial)  # fmt: skip
        assert report.failed == []
        return report.shipped

    assert number not in run_dispatch(partial=False)  # 2 of 3 units: it waits for the third
    assert shop.erp(order_id).state == "open"

    assert number in run_dispatch(partial=True)
    assert shop.erp(order_id).state == "partially_shipped"
    assert number not in run_dispatch(partial=True)  # nothing more is there to ship

    stock.receive(shop.uow, article_number="SB-0005", quantity=1,
                  warehouse_code=MAIN_WAREHOUSE, actor="test")  # fmt: skip
    assert number in run_dispatch(partial=True)
    assert shop.erp(order_id).state == "shipped"

    with shop.uow as uow:
        shipped = [
            sum(line.quantity for line in shipment.lines)
            for shipment in uow.session.scalars(select(Shipment).order_by(Shipment.id))
        ]
        kinds = {
            document.number: (document.kind, sum(line.quantity for line in document.lines))
            for document in documents.documents_of(uow.session, number)
        }
    assert shipped == [2, 1]
    assert sorted(kinds.values()) == [
        (DocumentKind.DELIVERY_NOTE, 1),  # one per parcel
        (DocumentKind.DELIVERY_NOTE, 2),
        (DocumentKind.INVOICE, 4),  # the whole order (3 items and the shipping charge)
    ]
    confirmations = run(shop)
    assert confirmations.verified == 2
    assert sorted(sum(item.quantity for item in p.items) for p in packages(shop, order_id)) == [
        1,
        2,
    ]
