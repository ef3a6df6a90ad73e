"""Shipment confirmations against a live sandbox: each package told to Amazon once, verified.

Orders are placed in the sandbox, imported, released and shipped through the shipping service;
what Amazon holds afterwards is read from the sandbox's own records, never from sellerbridge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from sellerbridge.channels.amazon.shipments.carriers import amazon_carrier
from sellerbridge.channels.amazon.shipments.confirm import (
    FAILED_ALERT,
    ConfirmationExporter,
    ConfirmationReport,
    retry_confirmation,
)
from sellerbridge.channels.amazon.spapi.models.orders_v0 import (
    ConfirmShipmentOrderItem,
    ConfirmShipmentRequest,
    PackageDetail,
)
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import (
    AmazonAccount,
    ImportMode,
    ShipmentConfirmation,
)
from sellerbridge.sandbox import spec
from sellerbridge.sandbox.order_records import Package as SandboxPackage
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.orders import release_order
from sellerbridge.services.shipping import Package, ship_order
from tests.amazon import Shop

CONFIRM = "ordersV0.confirmShipment"


class Clock:
    """utcnow, moved on at will past the exporter's pauses."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@contextmanager
def exporter(shop: Shop, clock: Callable[[], datetime] = utcnow) -> Iterator[ConfirmationExporter]:
    with shop.client() as client:
        yield ConfirmationExporter(shop.engine, shop.account_id, client, shop.settings,
                                   clock=clock)  # fmt: skip


def run(shop: Shop, clock: Callable[[], datetime] = utcnow) -> ConfirmationReport:
    with exporter(shop, clock) as confirmations:
        return confirmations.run()


def shipped_order(shop: Shop, **spec: Any) -> tuple[str, str]:
    """Place an FBM order, import and release it: (Amazon order id, ERP order number)."""
    order_id = shop.place(marketplace="DE", **spec)
    shop.sync()
    number = shop.erp(order_id).number
    release_order(shop.uow, number, actor="test")
    return order_id, number


def packages(shop: Shop, order_id: str) -> list[SandboxPackage]:
    (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
    return list(order.packages)


def states(shop: Shop) -> list[str]:
    with shop.uow as uow:
        rows = uow.session.scalars(select(ShipmentConfirmation).order_by(ShipmentConfirmation.id))
        return [row.status.value for row in rows]


def failure_alerts(shop: Shop) -> list[tuple[str, str]]:
    """(subject, message) of the open confirmation failure alerts."""
    with shop.uow as uow:
        return [(a.subject, a.message) for a in open_alerts(uow.session) if a.kind == FAILED_ALERT]


def confirm_calls(shop: Shop) -> list[Any]:
    calls: list[Any] = shop.live.admin("GET", "/requests", params={"operation": CONFIRM})
    return calls


def test_the_request_model_names_only_what_amazon_defines() -> None:
    definitions = spec.model("ordersV0")["definitions"]
    for model, definition in (
        (ConfirmShipmentRequest, "ConfirmShipmentRequest"),
        (PackageDetail, "PackageDetail"),
        (ConfirmShipmentOrderItem, "ConfirmShipmentOrderItem"),
    ):
        names = {f.serialization_alias or name for name, f in model.model_fields.items()}
        schema = definitions[definition]
        assert names <= set(schema["properties"]), definition
        assert set(schema.get("required", [])) <= names, definition


def test_carriers_map_to_amazon_codes_and_the_setting_wins() -> None:
    assert amazon_carrier("dhl-paket").code == "DHL"
    assert amazon_carrier("Hermes").code == "Hermes Logistik Gruppe"
    assert amazon_carrier("Colissimo").code == "La Poste"
    postnl = amazon_carrier("PostNL")
    assert (postnl.code, postnl.name) == ("Other", "PostNL")
    assert amazon_carrier("PostNL", {"postnl": "PostNL"}).code == "PostNL"
    assert amazon_carrier("DHL", {"DHL": "Other"}).name == "DHL"


def test_a_shipped_order_is_confirmed_and_verified(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0001", "quantity": 2}])
    (shipment_id,) = ship_order(shop.uow, number, [Package("DHL", "00340434161234567890",
                                "DHL Paket")], actor="test", at=utcnow())  # fmt: skip

    report = run(shop)

    assert (report.sent, report.verified, report.failed) == (1, 1, 0)
    assert states(shop) == ["verified"]
    (package,) = packages(shop, order_id)
    assert package.package_reference_id == str(shipment_id)
    assert (package.carrier_code, package.tracking_number) == ("DHL", "00340434161234567890")
    assert package.shipping_method == "DHL Paket"
    assert [(i.quantity) for i in package.items] == [2]
    assert run(shop).sent == 0  # nothing twice
    assert len(confirm_calls(shop)) == 1


def test_two_packages_of_one_order_carry_their_own_quantities(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id, number = shipped_order(
        shop, items=[{"sku": "SB-0001", "quantity": 3}, {"sku": "SB-0002", "quantity": 1}]
    )
    first = ship_order(shop.uow, number, [Package("DPD", "01234567890123", lines={1: 2})],
                       actor="test", at=utcnow())  # fmt: skip
    run(shop)
    second = ship_order(shop.uow, number, [Package("GLS", "GLS-998877", lines=None)],
                        actor="test", at=utcnow())  # fmt: skip

    report = run(shop)

    assert report.verified == 1
    assert states(shop) == ["verified", "verified"]
    shown = {p.package_reference_id: p for p in packages(shop, order_id)}
    assert set(shown) == {str(first[0]), str(second[0])}
    (order,) = [o for o in shop.sandbox_orders() if o.order_id == order_id]
    item_ids = [item.order_item_id for item in order.items]
    assert {(i.order_item_id, i.quantity) for i in shown[str(first[0])].items} == {(item_ids[0], 2)}
    assert {(i.order_item_id, i.quantity) for i in shown[str(second[0])].items} == {
        (item_ids[0], 1),
        (item_ids[1], 1),
    }
    assert shown[str(second[0])].carrier_code == "GLS"
    assert order.status.value == "SHIPPED"


def test_an_unknown_carrier_goes_as_other_with_its_name(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0001"}])
    ship_order(shop.uow, number, [Package("Kurier Schmidt", "KS-1")], actor="test", at=utcnow())

    assert run(shop).verified == 1

    (package,) = packages(shop, order_id)
    assert (package.carrier_code, package.carrier_name) == ("Other", "Kurier Schmidt")


def test_a_refused_carrier_code_fails_with_advice_then_the_fixed_mapping_goes_through(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.settings = shop.settings.model_copy(update={"amazon_carrier_codes": {"DHL": "DHL-XX"}})
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0001"}])
    ship_order(shop.uow, number, [Package("DHL", "123456789")], actor="test", at=utcnow())

    report = run(shop)

    assert (report.sent, report.failed) == (0, 1)
    assert states(shop) == ["failed"]
    (problem,) = report.problems
    assert '"DHL"' in problem
    assert '"DHL-XX"' in problem
    assert "amazon_carrier_codes" in problem
    assert f"sellerbridge amazon confirmations retry {number}" in problem
    ((subject, message),) = failure_alerts(shop)
    assert number in subject
    assert message == problem
    assert shop.erp(order_id).state == "shipped"  # stays shipped locally
    assert packages(shop, order_id) == []

    shop.settings = shop.settings.model_copy(update={"amazon_carrier_codes": {"DHL": "DHL"}})
    with shop.uow as uow:
        retry_confirmation(uow.session, number, utcnow())
        uow.commit()
    report = run(shop)

    assert report.verified == 1
    assert states(shop) == ["verified"]
    assert [p.carrier_code for p in packages(shop, order_id)] == ["DHL"]
    assert failure_alerts(shop) == []


def test_faults_and_lost_responses_confirm_every_package_exactly_once(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shipped: dict[str, int] = {}
    for index in range(8):
        order_id, number = shipped_order(shop, items=[{"sku": "SB-0001", "quantity": 2}])
        ids = ship_order(shop.uow, number, [Package("UPS", f"1Z{index:04d}A", lines={1: 1}),
                         Package("UPS", f"1Z{index:04d}B", lines={1: 1})],
                         actor="test", at=utcnow())  # fmt: skip
        shipped.update({f"{order_id}/{i}": 1 for i in ids})
    shop.live.admin("PUT", "/faults", json=[
        {"operation": CONFIRM, "kind": "lost_response", "probability": 0.1},
        {"operation": CONFIRM, "kind": "error500", "probability": 0.05},
        {"operation": "*", "kind": "reset", "probability": 0.05},
    ])  # fmt: skip
    clock = Clock()

    for _ in range(12):
        run(shop, clock)
        if set(states(shop)) == {"verified"}:
            break
        clock.offset += timedelta(hours=5)  # past every pause

    assert states(shop) == ["verified"] * 16
    found: dict[str, int] = {}
    for order in shop.sandbox_orders():
        for package in order.packages:
            key = f"{order.order_id}/{package.package_reference_id}"
            found[key] = found.get(key, 0) + 1
    assert found == shipped  # every package once, none twice, none missing
    for order in shop.sandbox_orders():
        assert len(order.packages) in (0, 2)


def test_a_package_amazon_shows_without_our_carrier_fails_with_an_alert(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = start_shop()
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0001"}])
    ship_order(shop.uow, number, [Package("DPD", "0987654321")], actor="test", at=utcnow())
    with monkeypatch.context() as patch:  # send only; the read-back comes in the next run
        patch.setattr(ConfirmationExporter, "_verify", lambda *args: None)
        assert run(shop).sent == 1
    # Amazon accepted it and dropped the carrier (selling-partner-api-models#5232).
    (package,) = packages(shop, order_id)
    package.carrier_code, package.carrier_name = "Other", "Unknown"

    report = run(shop)

    assert report.failed == 1
    assert "without our carrier" in report.problems[0]
    assert states(shop) == ["failed"]


def test_demo_mode_sends_nothing(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0001"}])
    with shop.uow as uow:
        uow.session.get_one(AmazonAccount, shop.account_id).import_mode = ImportMode.DEMO
        uow.commit()
    ship_order(shop.uow, number, [Package("DHL", "555")], actor="test", at=utcnow())

    report = run(shop)

    assert (report.sent, report.held) == (0, 1)
    assert states(shop) == ["pending"]
    with shop.uow as uow:
        (row,) = uow.session.scalars(select(ShipmentConfirmation))
        assert "demo mode" in (row.last_error or "")
    assert confirm_calls(shop) == []
    assert packages(shop, order_id) == []
