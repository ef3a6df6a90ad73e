"""Buying labels through Amazon Buy Shipping, against the sandbox over real HTTP.

The expected service is worked out from what the sandbox offered for the very request the
provider sent (a spy on the client keeps the answer), and the bought label is compared with the
sandbox's own record of it (``GET /_sandbox/mfn/shipments``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sellerbridge.channels.amazon.labels import (
    AmazonLabelProvider,
    Label,
    LabelProvider,
    LabelRule,
    NoCarrierAvailable,
    NoServiceMeetsDeadline,
    Parcel,
    ShipFrom,
    choose_service,
)
from sellerbridge.channels.amazon.spapi.models.merchant_fulfillment import (
    GetEligibleShipmentServicesRequest,
    GetEligibleShipmentServicesResponse,
    GetEligibleShipmentServicesResult,
    ShipmentResponse,
    ShippingService,
)
from sellerbridge.db.models import AmazonOrderBinding, Article, SalesOrder, SalesOrderLine
from tests.amazon import Shop
from tests.unit.test_spapi_models import mismatches

SHIP_FROM = ShipFrom(
    name="Kaffeehaus Sonnenschein GmbH",
    street="Marktstraße 5",
    postal_code="70173",
    city="Stuttgart",
    country="DE",
    email="versand@kaffeehaus.example",
    phone="+49 711 1234567",
)
SKU = "SB-0001"
UNIT_WEIGHT_G = 300
# Small enough for Deutsche Post Warenpost and Hermes Päckchen, so the cheapest service (slow)
# and the fastest one differ.
SMALL_PARCEL = {
    "label_parcel_length_cm": Decimal(25),
    "label_parcel_width_cm": Decimal(17),
    "label_parcel_height_cm": Decimal(4),
}
DE_CARRIERS = ["DHL", "Deutsche Post", "Hermes", "DPD", "GLS", "UPS"]


@dataclass
class Offers:
    """The answers of ``getEligibleShipmentServices`` the provider received."""

    results: list[GetEligibleShipmentServicesResult] = field(default_factory=list)


@contextmanager
def buying(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, *, after_rating: Callable[[], None] = lambda: None
) -> Iterator[tuple[AmazonLabelProvider, Offers]]:
    settings = shop.settings.model_copy(update=SMALL_PARCEL)
    offers = Offers()
    with shop.client() as client:
        rate = client.get_eligible_shipment_services

        def spy(request: GetEligibleShipmentServicesRequest) -> GetEligibleShipmentServicesResult:
            result = rate(request)
            offers.results.append(result)
            after_rating()
            return result

        monkeypatch.setattr(client, "get_eligible_shipment_services", spy)
        yield AmazonLabelProvider(client, SHIP_FROM, settings), offers


def place_and_import(shop: Shop, quantity: int = 2, *, deliver_by: bool = True) -> str:
    """Place an FBM order of ``quantity`` units of a 300 g article and import it; without
    ``deliver_by`` the ERP order forgets its deliver-by date (the slow, cheap services count)."""
    with shop.uow as uow:
        article = uow.session.scalars(select(Article).where(Article.number == SKU)).one()
        article.weight_g = UNIT_WEIGHT_G
        uow.commit()
    order_id = shop.place(marketplace="DE", items=[{"sku": SKU, "quantity": quantity}])
    shop.sync()
    if not deliver_by:
        with shop.uow as uow:
            binding = uow.session.scalars(
                select(AmazonOrderBinding).where(AmazonOrderBinding.amazon_order_id == order_id)
            ).one()
            binding.order.deliver_by = None
            uow.commit()
    return order_id


def erp_order(shop: Shop, amazon_order_id: str) -> SalesOrder:
    """The imported order with its lines and articles, loaded and detached: labels are bought
    outside any transaction (the client records its calls in the database)."""
    with shop.uow as uow:
        order = uow.session.scalars(
            select(SalesOrder)
            .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
            .where(AmazonOrderBinding.amazon_order_id == amazon_order_id)
            .options(
                selectinload(SalesOrder.lines)
                .selectinload(SalesOrderLine.article)
                .selectinload(Article.components),
                selectinload(SalesOrder.lines).selectinload(SalesOrderLine.reservations),
            )
        ).one()
        uow.commit()
    return order


def sandbox_labels(shop: Shop) -> list[dict[str, Any]]:
    labels: list[dict[str, Any]] = shop.live.admin(
        "GET", "/mfn/shipments", params={"seller_id": shop.live.seller.seller_id}
    )
    return labels


def fits(service: ShippingService, order: SalesOrder) -> bool:
    latest = service.latest_estimated_delivery_date
    return (order.ship_by is None or service.ship_date <= order.ship_by) and (
        order.deliver_by is None or (latest is not None and latest <= order.deliver_by)
    )


def expected_choice(
    services: list[ShippingService], order: SalesOrder, rule: LabelRule
) -> ShippingService:
    fitting = [service for service in services if fits(service, order)]
    assert fitting, "the sandbox offered nothing that meets the order's dates"
    if rule == "cheapest":
        cheapest = min(service.rate.amount for service in fitting)
        candidates = [service for service in fitting if service.rate.amount == cheapest]
    else:
        dated = [s for s in fitting if s.latest_estimated_delivery_date is not None]
        soonest = min(
            s.latest_estimated_delivery_date for s in dated if s.latest_estimated_delivery_date
        )
        candidates = [s for s in dated if s.latest_estimated_delivery_date == soonest]
        candidates = [
            s for s in candidates if s.rate.amount == min(c.rate.amount for c in candidates)
        ]
    assert len(candidates) == 1, "the rule does not decide between these offers"
    return candidates[0]


def assert_real_file(label: Label) -> None:
    if label.format == "PDF":
        assert label.content.startswith(b"%PDF-")
        assert label.content.rstrip().endswith(b"%%EOF")
        # The sandbox's PDF is uncompressed: its text shows the tracking number.
        assert f"Tracking: {label.tracking_number}".encode() in label.content
    elif label.format == "PNG":
        assert label.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert label.content[12:16] == b"IHDR"
    else:
        assert label.format.startswith("ZPL")
        assert label.content.startswith(b"^XA")
        assert label.tracking_number.encode() in label.content


# --- the models ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "definition"),
    [
        (GetEligibleShipmentServicesResponse, "GetEligibleShipmentServicesResponse"),
        (ShipmentResponse, "CreateShipmentResponse"),
        (ShipmentResponse, "GetShipmentResponse"),
    ],
)
def test_the_buy_shipping_models_read_only_what_amazon_defines(
    model: type[BaseModel], definition: str
) -> None:
    assert mismatches(model, "mfn", definition, definition) == []


# --- buying ------------------------------------------------------------------------------------


@pytest.mark.parametrize("deliver_by", [True, False], ids=["deliver-by", "no-deliver-by"])
@pytest.mark.parametrize("rule", ["cheapest", "fastest"])
def test_the_rule_picks_the_service_and_the_label_is_the_one_amazon_recorded(
    start_shop: Callable[..., Shop],
    monkeypatch: pytest.MonkeyPatch,
    rule: LabelRule,
    deliver_by: bool,
) -> None:
    shop = start_shop()
    amazon_order_id = place_and_import(shop, quantity=2, deliver_by=deliver_by)

    with buying(shop, monkeypatch) as (provider, offers):
        order = erp_order(shop, amazon_order_id)
        labels: LabelProvider = provider
        label = labels.buy_label(order, Parcel.ready_of(order), rule)
        (result,) = offers.results
        chosen = expected_choice(result.shipping_service_list, order, rule)

    assert (label.carrier, label.service) == (chosen.carrier_name, chosen.shipping_service_name)
    assert (label.rate, label.currency) == (chosen.rate.amount, chosen.rate.currency_code)
    assert isinstance(label.rate, Decimal)
    assert_real_file(label)

    (recorded,) = sandbox_labels(shop)
    assert recorded["shipment_id"] == label.reference
    assert recorded["order_id"] == amazon_order_id
    assert recorded["tracking_id"] == label.tracking_number
    assert recorded["quote"]["service_id"] == chosen.shipping_service_id
    assert (recorded["carrier"], recorded["service_name"]) == (label.carrier, label.service)
    assert recorded["label"]["label_format"] == label.format
    assert recorded["weight"] == {"Value": 2 * UNIT_WEIGHT_G, "Unit": "g"}
    assert recorded["ship_from"]["PostalCode"] == SHIP_FROM.postal_code


def test_the_two_rules_choose_differently_for_a_small_parcel(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the test above: without a deliver-by date the cheapest offer for this parcel is
    not the fastest one, so the two rules are really told apart."""
    shop = start_shop()
    amazon_order_id = place_and_import(shop, deliver_by=False)
    with buying(shop, monkeypatch) as (provider, _):
        order = erp_order(shop, amazon_order_id)
        details = provider.shipment_details(order, Parcel.ready_of(order))
        with shop.client() as client:
            result = client.get_eligible_shipment_services(
                GetEligibleShipmentServicesRequest(shipment_request_details=details)
            )
        services = result.shipping_service_list
        assert expected_choice(services, order, "cheapest") != expected_choice(
            services, order, "fastest"
        )
    assert sandbox_labels(shop) == []  # rating buys nothing


def test_unavailable_carriers_and_unaccepted_terms_say_what_to_do(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = start_shop()
    amazon_order_id = place_and_import(shop)
    shop.live.admin(
        "PUT",
        f"/mfn/carriers/{shop.live.seller.seller_id}",
        json={"terms_not_accepted": DE_CARRIERS[:3], "temporarily_unavailable": DE_CARRIERS[3:]},
    )

    with buying(shop, monkeypatch) as (provider, _):
        order = erp_order(shop, amazon_order_id)
        with pytest.raises(NoCarrierAvailable) as raised:
            provider.buy_label(order, Parcel.ready_of(order), "cheapest")

    message = str(raised.value)
    assert order.number in message
    assert "terms and conditions of DHL, Deutsche Post, Hermes are not accepted" in message
    assert "DPD, GLS, UPS temporarily unavailable" in message
    assert "Seller Central" in message
    assert sandbox_labels(shop) == []


def test_terms_refused_at_purchase_say_what_to_do(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terms are withdrawn between rating and buying: Amazon refuses the purchase (403)."""
    shop = start_shop()
    amazon_order_id = place_and_import(shop)

    def withdraw_terms() -> None:
        shop.live.admin(
            "PUT", f"/mfn/carriers/{shop.live.seller.seller_id}",
            json={"terms_not_accepted": DE_CARRIERS},
        )  # fmt: skip

    with buying(shop, monkeypatch, after_rating=withdraw_terms) as (provider, _):
        order = erp_order(shop, amazon_order_id)
        with pytest.raises(NoCarrierAvailable, match="Seller Central") as raised:
            provider.buy_label(order, Parcel.ready_of(order), "cheapest")

    assert "terms and conditions" in str(raised.value)
    assert sandbox_labels(shop) == []


def test_an_order_past_its_dates_still_ships_with_the_fastest_service(
    start_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = start_shop()
    amazon_order_id = place_and_import(shop)
    with shop.uow as uow:
        binding = uow.session.scalars(
            select(AmazonOrderBinding).where(AmazonOrderBinding.amazon_order_id == amazon_order_id)
        ).one()
        binding.order.ship_by = binding.order.ordered_at  # overdue: every carrier ships later
        uow.commit()

    with buying(shop, monkeypatch) as (provider, offers):
        order = erp_order(shop, amazon_order_id)
        label = provider.buy_label(order, Parcel.ready_of(order), "cheapest")

    first, last = offers.results[0], offers.results[-1]
    assert first.shipping_service_list  # services were offered, just none in time
    with pytest.raises(NoServiceMeetsDeadline, match="after the ship-by date"):
        choose_service(first.shipping_service_list, "cheapest", ship_by=order.ship_by,
                       deliver_by=order.deliver_by, order_number=order.number)  # fmt: skip
    # Late is better than never: the fastest service, not the cheapest.
    fastest = min(last.shipping_service_list,
                  key=lambda s: (s.latest_estimated_delivery_date, s.rate.amount))  # fmt: skip
    assert label.service == fastest.shipping_service_name
    (bought,) = sandbox_labels(shop)
    assert bought["tracking_id"] == label.tracking_number
