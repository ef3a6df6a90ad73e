"""Merchant Fulfillment API v0 (Buy Shipping): offers, labels, cancellation, as a client sees it."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sellerbridge.sandbox.core import Seller
from sellerbridge.sandbox.marketplaces import BY_CODE
from sellerbridge.sandbox.mfn import SERVICES
from sellerbridge.sandbox.order_records import (
    CARRIER_CODES,
    Address,
    FulfillmentStatus,
    Order,
    OrderItem,
    Package,
    PackageItem,
)
from tests.sandbox.harness import LiveSandbox, assert_conforms

ELIGIBLE = "/mfn/v0/eligibleShippingServices"
SHIPMENTS = "/mfn/v0/shipments"
SHIPMENT = "/mfn/v0/shipments/{shipmentId}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

SHIP_FROM_DE = {
    "Name": "Kaffeehaus Lager",
    "AddressLine1": "Lagerstraße 7",
    "City": "Hamburg",
    "PostalCode": "20457",
    "CountryCode": "DE",
    "Email": "versand@kaffeehaus.example",
    "Phone": "+49 40 1234567",
}
SHIP_FROM_GB = {
    "Name": "Kaffeehaus UK",
    "AddressLine1": "12 Dock Road",
    "City": "London",
    "PostalCode": "E16 1AA",
    "CountryCode": "GB",
    "Email": "dispatch@kaffeehaus.example",
    "Phone": "+44 20 7946 0000",
}
BERLIN = Address(
    name="Jürgen Weißmüller",
    line1="Schönhauser Allee 12",
    city="Berlin",
    postal_code="10119",
    country_code="DE",
    phone="+49 30 555555",
)


@pytest.fixture
def live(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """Fast enough to make many calls, and to see a refund applied a second after a cancel."""
    return start_sandbox(time_scale=3600)


def _place_order(
    live: LiveSandbox,
    *,
    order_id: str = "028-1234567-1234567",
    seller: Seller | None = None,
    marketplace: str = "DE",
    address: Address = BERLIN,
    fulfilled_by: str = "MERCHANT",
    status: FulfillmentStatus = FulfillmentStatus.UNSHIPPED,
    programs: tuple[str, ...] = (),
) -> Order:
    now = datetime.now(UTC)
    currency = BY_CODE[marketplace].currency
    order = Order.model_validate(
        {
            "order_id": order_id,
            "seller_id": (seller or live.seller).seller_id,
            "marketplace_id": BY_CODE[marketplace].id,
            "currency": currency,
            "created_time": now - timedelta(hours=2),
            "last_updated_time": now - timedelta(hours=2),
            "status": status,
            "fulfilled_by": fulfilled_by,
            "programs": list(programs),
            "buyer_name": address.name,
            "buyer_email": "x7k2m9q4@marketplace.amazon.de",
            "ship_from_country": "DE",
            "shipping_address": address,
            "ship_by_earliest": now,
            "ship_by_latest": now + timedelta(days=1),
            "deliver_by_earliest": now + timedelta(days=2),
            "deliver_by_latest": now + timedelta(days=4),
            "items": [
                OrderItem(
                    order_item_id="11111111111111",
                    asin="B0TESTAAA1",
                    seller_sku="SB-0001",
                    title="Espressobohnen Hausmischung 1 kg",
                    quantity=2,
                    vat_rate=Decimal("0.07"),
                    unit_price=Decimal("24.90"),
                    item_tax=Decimal("3.26"),
                ),
                OrderItem(
                    order_item_id="22222222222222",
                    asin="B0TESTAAA2",
                    seller_sku="SB-0007",
                    title="Handmühle Edelstahl",
                    quantity=1,
                    vat_rate=Decimal("0.19"),
                    unit_price=Decimal("49.00"),
                    item_tax=Decimal("7.82"),
                ),
            ],
        }
    )
    live.sandbox.state.orders.orders[order_id] = order
    return order


def _details(
    order: Order,
    *,
    items: list[tuple[str, int]] | None = None,
    grams: float = 1200,
    dimensions: tuple[float, float, float] = (30, 20, 10),
    ship_from: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    return {
        "AmazonOrderId": order.order_id,
        "ItemList": [
            {"OrderItemId": item_id, "Quantity": quantity}
            for item_id, quantity in (items or [("11111111111111", 2)])
        ],
        "ShipFromAddress": ship_from or SHIP_FROM_DE,
        "PackageDimensions": dict(
            zip(("Length", "Width", "Height"), dimensions, strict=True), Unit="centimeters"
        ),
        "Weight": {"Value": grams, "Unit": "g"},
        "ShippingServiceOptions": {
            "DeliveryExperience": "DeliveryConfirmationWithoutSignature",
            "CarrierWillPickUp": False,
            **options,
        },
    }


def _eligible(live: LiveSandbox, details: dict[str, Any], **body: Any) -> httpx.Response:
    response = live.call("POST", ELIGIBLE, json={"ShipmentRequestDetails": details, **body})
    assert_conforms("mfn.getEligibleShipmentServices", response)
    return response


def _services(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    return {service["ShippingServiceId"]: service for service in payload["ShippingServiceList"]}


def _buy(
    live: LiveSandbox,
    details: dict[str, Any],
    service_id: str,
    offer_id: str | None = None,
    **body: Any,
) -> httpx.Response:
    request: dict[str, Any] = {"ShipmentRequestDetails": details, "ShippingServiceId": service_id}
    if offer_id is not None:
        request["ShippingServiceOfferId"] = offer_id
    response = live.call(
        "POST", SHIPMENTS, token=live.rdt("POST", SHIPMENTS), json={**request, **body}
    )
    assert_conforms("mfn.createShipment", response)
    return response


def _offer_and_buy(
    live: LiveSandbox, details: dict[str, Any], service_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask for offers, buy ``service_id``'s; the offer and the shipment bought."""
    offer = _services(_eligible(live, details))[service_id]
    bought = _buy(live, details, service_id, offer["ShippingServiceOfferId"])
    assert bought.status_code == 200, bought.text
    return offer, bought.json()["payload"]


def _get(live: LiveSandbox, shipment_id: str, token: str | None = None) -> httpx.Response:
    path = f"{SHIPMENTS}/{shipment_id}"
    response = live.call("GET", path, token=token or live.rdt("GET", SHIPMENT))
    assert_conforms("mfn.getShipment", response)
    return response


def _cancel(live: LiveSandbox, shipment_id: str) -> httpx.Response:
    path = f"{SHIPMENTS}/{shipment_id}"
    response = live.call("DELETE", path, token=live.rdt("DELETE", SHIPMENT))
    assert_conforms("mfn.cancelShipment", response)
    return response


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == code, error
    message: str = error["message"]
    return message


def _status(order: Order) -> FulfillmentStatus:
    """The order's status now (the sandbox changes it behind the test's back)."""
    return order.status


def _label_file(shipment: dict[str, Any]) -> bytes:
    contents = shipment["Label"]["FileContents"]
    packed = base64.b64decode(contents["Contents"])
    assert base64.b64encode(hashlib.md5(packed).digest()).decode() == contents["Checksum"]
    return gzip.decompress(packed)


# --- getEligibleShipmentServices -----------------------------------------------------------


def test_a_german_order_gets_the_german_carriers_priced_by_weight(live: LiveSandbox) -> None:
    order = _place_order(live)
    light = _eligible(live, _details(order, grams=800))
    services = _services(light)
    assert {"DHL_DE_PAKET", "HERMES_DE_PAKET", "DPD_CLASSIC", "GLS_BUSINESSPARCEL"} <= set(services)
    assert "UPS_STANDARD" in services
    assert "DHL_DE_PAKET_PRIO" not in services  # only for Prime orders
    assert "RM_TRACKED_24" not in services  # Royal Mail ships from Great Britain only
    dhl = services["DHL_DE_PAKET"]
    assert dhl["CarrierName"] == "DHL"
    assert dhl["ShippingServiceName"] == "DHL Paket"
    assert dhl["ShippingServiceOfferId"]
    assert dhl["Rate"]["CurrencyCode"] == "EUR"
    assert dhl["RequiresAdditionalSellerInputs"] is False
    ship_date = datetime.fromisoformat(dhl["ShipDate"])
    earliest = datetime.fromisoformat(dhl["EarliestEstimatedDeliveryDate"])
    latest = datetime.fromisoformat(dhl["LatestEstimatedDeliveryDate"])
    assert ship_date < earliest <= latest
    assert earliest.weekday() < 5
    assert latest.weekday() < 5
    rates = [s["Rate"]["Amount"] for s in light.json()["payload"]["ShippingServiceList"]]
    assert rates == sorted(rates)
    # Deutsche Post Warenpost takes at most 1 kg and fits a 30 x 20 x 10 cm box? It does not.
    rejected = {
        r["ShippingServiceId"]: r for r in light.json()["payload"]["RejectedShippingServiceList"]
    }
    assert rejected["DP_DE_WARENPOST"]["RejectionReasonCode"] == "PACKAGE_EXCEEDS_SIZE_LIMIT"

    heavy = _services(_eligible(live, _details(order, grams=9200)))
    assert heavy["DHL_DE_PAKET"]["Rate"]["Amount"] > dhl["Rate"]["Amount"]


def test_a_heavy_package_puts_the_carriers_that_cannot_take_it_in_the_rejected_list(
    live: LiveSandbox,
) -> None:
    order = _place_order(live)
    response = _eligible(live, _details(order, grams=32_000, dimensions=(60, 40, 40)))
    offered = _services(response)
    rejected = {
        r["ShippingServiceId"]: r for r in response.json()["payload"]["RejectedShippingServiceList"]
    }
    assert set(offered) == {"GLS_BUSINESSPARCEL", "UPS_STANDARD"}
    for service_id in ("DHL_DE_PAKET", "DPD_CLASSIC", "HERMES_DE_PAKET", "DP_DE_WARENPOST"):
        assert rejected[service_id]["RejectionReasonCode"] == "PACKAGE_EXCEEDS_WEIGHT_LIMIT"
    assert rejected["DHL_DE_PAKET"]["CarrierName"] == "DHL"
    assert "32.000 kg" in rejected["DHL_DE_PAKET"]["RejectionReasonMessage"]


def test_prime_orders_get_dhl_paket_prio_and_ups_bills_volumetric_weight(
    live: LiveSandbox,
) -> None:
    order = _place_order(live, programs=("PRIME",))
    small = _services(_eligible(live, _details(order, grams=1000, dimensions=(20, 15, 10))))
    prio, standard = small["DHL_DE_PAKET_PRIO"], small["DHL_DE_PAKET"]
    assert prio["ShippingServiceName"] == "DHL Paket Prio"
    assert prio["LatestEstimatedDeliveryDate"] <= standard["LatestEstimatedDeliveryDate"]
    # The same kilogram in a 60 x 50 x 40 cm box weighs 24 kg by volume at UPS, not at DHL.
    bulky = _services(_eligible(live, _details(order, grams=1000, dimensions=(60, 50, 40))))
    assert bulky["UPS_STANDARD"]["Rate"]["Amount"] > small["UPS_STANDARD"]["Rate"]["Amount"]
    assert bulky["DHL_DE_PAKET"]["Rate"] == small["DHL_DE_PAKET"]["Rate"]


def test_a_british_order_is_offered_royal_mail_in_pounds(live: LiveSandbox) -> None:
    london = Address(
        name="Olivia Smith", line1="221 Baker Street", city="London",
        postal_code="NW1 6XE", country_code="GB",
    )  # fmt: skip
    order = _place_order(live, marketplace="UK", address=london)
    services = _services(_eligible(live, _details(order, ship_from=SHIP_FROM_GB)))
    assert {"RM_TRACKED_24", "RM_TRACKED_48", "DPD_UK_NEXT_DAY", "UPS_STANDARD"} <= set(services)
    assert not {"DHL_DE_PAKET", "HERMES_DE_PAKET", "RM_INTERNATIONAL_TRACKED"} & set(services)
    assert services["RM_TRACKED_24"]["CarrierName"] == "Royal Mail"
    assert {s["Rate"]["CurrencyCode"] for s in services.values()} == {"GBP"}


def test_cross_border_parcels_cost_more_and_take_longer(live: LiveSandbox) -> None:
    paris = Address(
        name="Élodie Durand", line1="8 rue de Rivoli", city="Paris",
        postal_code="75004", country_code="FR",
    )  # fmt: skip
    domestic = _services(_eligible(live, _details(_place_order(live))))
    french = _place_order(live, order_id="171-7654321-7654321", marketplace="FR", address=paris)
    abroad = _services(_eligible(live, _details(french)))
    assert "HERMES_DE_PAKET" not in abroad  # Hermes ships within Germany only
    assert abroad["DHL_DE_PAKET"]["Rate"]["Amount"] > domestic["DHL_DE_PAKET"]["Rate"]["Amount"]
    assert (
        abroad["DHL_DE_PAKET"]["LatestEstimatedDeliveryDate"]
        > domestic["DHL_DE_PAKET"]["LatestEstimatedDeliveryDate"]
    )


def test_a_packstation_address_leaves_dhl_and_deutsche_post(live: LiveSandbox) -> None:
    packstation = Address(
        name="Anna Schmidt", line1="Packstation 143", line2="Postnummer 12345678",
        city="München", postal_code="80331", country_code="DE", address_type="PICKUP_POINT",
    )  # fmt: skip
    order = _place_order(live, address=packstation)
    response = _eligible(live, _details(order, grams=700, dimensions=(30, 20, 4)))
    assert set(_services(response)) == {"DHL_DE_PAKET", "DP_DE_WARENPOST"}
    codes = {
        r["ShippingServiceId"]: r["RejectionReasonCode"]
        for r in response.json()["payload"]["RejectedShippingServiceList"]
    }
    assert codes["DPD_CLASSIC"] == codes["UPS_STANDARD"] == "CARRIER_CANNOT_SHIP_TO_PICKUP_POINT"


def test_options_filter_and_price_the_offers(live: LiveSandbox) -> None:
    order = _place_order(live)
    plain = _services(_eligible(live, _details(order)))
    adult = _eligible(
        live, _details(order, DeliveryExperience="DeliveryConfirmationWithAdultSignature")
    )
    assert set(_services(adult)) == {"DHL_DE_PAKET", "UPS_STANDARD"}
    ups = _services(adult)["UPS_STANDARD"]
    assert ups["Rate"]["Amount"] > plain["UPS_STANDARD"]["Rate"]["Amount"]
    assert ups["ShippingServiceOptions"]["DeliveryExperience"] == (
        "DeliveryConfirmationWithAdultSignature"
    )

    untracked = _eligible(
        live, _details(order, grams=800, dimensions=(30, 20, 4), DeliveryExperience="NoTracking")
    )
    assert _services(untracked) == {}
    assert {
        r["RejectionReasonCode"] for r in untracked.json()["payload"]["RejectedShippingServiceList"]
    } == {"DELIVERY_EXPERIENCE_NOT_SUPPORTED"}

    pickup = _services(_eligible(live, _details(order, CarrierWillPickUp=True)))
    assert "HERMES_DE_PAKET" not in pickup
    assert pickup["DHL_DE_PAKET"]["Rate"]["Amount"] > plain["DHL_DE_PAKET"]["Rate"]["Amount"]

    filtered = _eligible(
        live,
        _details(order),
        ShippingOfferingFilter={"DeliveryExperience": "DeliveryConfirmationWithSignature"},
    )
    assert "DP_DE_WARENPOST" not in _services(filtered)
    assert "DP_DE_WARENPOST" not in {
        r["ShippingServiceId"] for r in filtered.json()["payload"]["RejectedShippingServiceList"]
    }

    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    hurried = _eligible(live, {**_details(order), "MustArriveByDate": soon})
    assert _services(hurried) == {}
    assert "CANNOT_MEET_MUST_ARRIVE_BY_DATE" in {
        r["RejectionReasonCode"] for r in hurried.json()["payload"]["RejectedShippingServiceList"]
    }


def test_eligibility_is_refused_for_orders_and_items_that_cannot_ship(live: LiveSandbox) -> None:
    order = _place_order(live)
    fba = _place_order(live, order_id="028-0000000-0000001", fulfilled_by="AMAZON")
    pending = _place_order(live, order_id="028-0000000-0000002", status=FulfillmentStatus.PENDING)
    shipped = _place_order(live, order_id="028-0000000-0000003")
    shipped.add_package(
        Package(
            package_reference_id="1", shipment_id="D1234567", carrier_code="DPD",
            tracking_number="01234567890123", ship_date=datetime.now(UTC),
            created_at=datetime.now(UTC),
            items=[PackageItem(order_item_id=i.order_item_id, quantity=i.quantity)
                   for i in shipped.items],
        )
    )  # fmt: skip
    other_seller = live.sandbox.create_seller("Other GmbH", [BY_CODE["DE"].id])
    theirs = _place_order(live, order_id="028-0000000-0000004", seller=other_seller)

    assert "fulfilled by Amazon" in _error(_eligible(live, _details(fba)), 400, "InvalidInput")
    assert "PENDING" in _error(_eligible(live, _details(pending)), 400, "InvalidInput")
    assert "0 of 2 units" in _error(_eligible(live, _details(shipped)), 400, "InvalidInput")
    _error(_eligible(live, _details(theirs)), 404, "ResourceNotFound")
    unknown = {**_details(order), "AmazonOrderId": "028-9999999-9999999"}
    _error(_eligible(live, unknown), 404, "ResourceNotFound")
    _error(_eligible(live, _details(order, items=[("99999999999999", 1)])), 404, "ItemsNotInOrder")
    too_many = _details(order, items=[("11111111111111", 3)])
    assert "Only 2 of 2 units" in _error(_eligible(live, too_many), 400, "InvalidInput")
    usa = _details(order, ship_from={**SHIP_FROM_DE, "CountryCode": "DEU"})
    assert "Member must have length less than or equal to 2" in _error(
        _eligible(live, usa), 400, "InvalidInput"
    )
    incomplete = _details(order)
    incomplete["PackageDimensions"] = {"Length": 10, "Unit": "centimeters"}
    _error(_eligible(live, incomplete), 400, "InvalidInput")


# --- createShipment and getShipment --------------------------------------------------------


def test_restricted_operations_need_a_restricted_data_token_for_their_path(
    live: LiveSandbox,
) -> None:
    order = _place_order(live)
    details = _details(order)
    offer = _services(_eligible(live, details))["DHL_DE_PAKET"]
    body = {
        "ShipmentRequestDetails": details,
        "ShippingServiceId": "DHL_DE_PAKET",
        "ShippingServiceOfferId": offer["ShippingServiceOfferId"],
    }
    plain = live.call("POST", SHIPMENTS, json=body)
    assert plain.status_code == 403
    assert_conforms("mfn.createShipment", plain)
    wrong = live.call("POST", SHIPMENTS, json=body, token=live.rdt("GET", SHIPMENT))
    assert wrong.status_code == 403
    assert_conforms("mfn.createShipment", wrong)
    assert _status(order) is FulfillmentStatus.UNSHIPPED  # nothing was bought

    bought = live.call("POST", SHIPMENTS, json=body, token=live.rdt("POST", SHIPMENTS))
    assert_conforms("mfn.createShipment", bought)
    shipment_id = bought.json()["payload"]["ShipmentId"]
    path = f"{SHIPMENTS}/{shipment_id}"
    denied = live.call("GET", path)
    assert denied.status_code == 403
    assert_conforms("mfn.getShipment", denied)
    get_token = live.rdt("GET", SHIPMENT)
    not_for_delete = live.call("DELETE", path, token=get_token)
    assert not_for_delete.status_code == 403
    assert_conforms("mfn.cancelShipment", not_for_delete)
    assert _get(live, shipment_id, get_token).status_code == 200
    specific = live.rdt("GET", path)  # an RDT may also name the very shipment
    assert _get(live, shipment_id, specific).status_code == 200


def test_buying_a_label_returns_a_real_pdf_and_confirms_the_shipment(live: LiveSandbox) -> None:
    order = _place_order(live)
    details = _details(order, items=[("11111111111111", 2)])
    offer, shipment = _offer_and_buy(live, details, "DHL_DE_PAKET")

    assert UUID.fullmatch(shipment["ShipmentId"])
    assert re.fullmatch(r"00340434\d{12}", shipment["TrackingId"])
    assert shipment["Status"] == "Purchased"
    assert shipment["AmazonOrderId"] == order.order_id
    assert shipment["ShippingService"]["Rate"] == offer["Rate"]
    assert shipment["ShippingService"]["ShippingServiceId"] == "DHL_DE_PAKET"
    assert shipment["ShipFromAddress"] == SHIP_FROM_DE
    assert shipment["ShipToAddress"]["Name"] == "Jürgen Weißmüller"
    assert shipment["ShipToAddress"]["City"] == "Berlin"
    assert shipment["Weight"] == {"Value": 1200, "Unit": "g"}
    assert shipment["Insurance"] == {"CurrencyCode": "EUR", "Amount": 49.8}
    assert shipment["Label"]["LabelFormat"] == "PDF"
    assert shipment["Label"]["FileContents"]["FileType"] == "application/pdf"
    pdf = _label_file(shipment)
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert shipment["TrackingId"].encode() in pdf
    startxref = int(re.search(rb"startxref\n(\d+)", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref")
    offsets = [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n ", pdf)]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    assert b"Weimuller" not in pdf
    assert "Weißmüller".encode("cp1252") in pdf

    # The label confirmed the shipment: the order shows the package with the tracking id.
    assert _status(order) is FulfillmentStatus.PARTIALLY_SHIPPED
    (package,) = order.packages
    assert package.tracking_number == shipment["TrackingId"]
    assert package.shipment_id.startswith("D")  # Amazon's shipment id, as for confirmShipment
    assert package.carrier_code == "DHL"
    assert [(i.order_item_id, i.quantity) for i in package.items] == [("11111111111111", 2)]

    again = _get(live, shipment["ShipmentId"]).json()["payload"]
    assert again == shipment
    listed = live.admin("GET", "/mfn/shipments", params={"seller_id": live.seller.seller_id})
    assert [(s["shipment_id"], s["tracking_id"], s["carrier"]) for s in listed] == [
        (shipment["ShipmentId"], shipment["TrackingId"], "DHL")
    ]
    assert "contents" not in listed[0]["label"]


def test_labels_come_as_png_or_zpl_when_the_carrier_prints_them_so(live: LiveSandbox) -> None:
    order = _place_order(live)
    ups_details = _details(order, items=[("11111111111111", 2)])
    _, ups = _offer_and_buy(live, ups_details, "UPS_STANDARD")  # UPS defaults to PNG
    assert re.fullmatch(r"1Z[0-9A-Z]{6}11\d{8}", ups["TrackingId"])
    png = _label_file(ups)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (400, 600)

    zpl_details = _details(
        order, items=[("22222222222222", 1)], LabelFormat="ZPL203",
    )  # fmt: skip
    zpl_details["LabelCustomization"] = {
        "CustomTextForLabel": "Fragile", "StandardIdForLabel": "AmazonOrderId",
    }  # fmt: skip
    _, dhl = _offer_and_buy(live, zpl_details, "DHL_DE_PAKET")
    assert dhl["Label"]["FileContents"]["FileType"] == "application/zpl"
    assert dhl["Label"]["CustomTextForLabel"] == "Fragile"
    zpl = _label_file(dhl).decode()
    assert zpl.startswith("^XA")
    assert zpl.rstrip().endswith("^XZ")
    assert dhl["TrackingId"] in zpl
    assert order.order_id in zpl
    assert "Fragile" in zpl
    assert _status(order) is FulfillmentStatus.SHIPPED

    other = _place_order(live, order_id="028-7777777-7777777")
    zpl300 = _details(other, LabelFormat="ZPL300")
    offer = _services(_eligible(live, zpl300))["DHL_DE_PAKET"]
    assert "ZPL300" not in offer["AvailableLabelFormats"]
    refused = _buy(live, zpl300, "DHL_DE_PAKET", offer["ShippingServiceOfferId"])
    _error(refused, 400, "LabelFormatNotSupported")
    assert _status(other) is FulfillmentStatus.UNSHIPPED


def test_the_same_items_cannot_get_a_second_label(live: LiveSandbox) -> None:
    order = _place_order(live)
    details = _details(order)
    _, shipment = _offer_and_buy(live, details, "HERMES_DE_PAKET")
    assert re.fullmatch(r"H\d{19}", shipment["TrackingId"])
    again = _eligible(live, details)
    assert shipment["ShipmentId"] in _error(again, 400, "ShipmentAlreadyExists")
    twice = _buy(live, details, "HERMES_DE_PAKET")
    assert shipment["ShipmentId"] in _error(twice, 400, "ShipmentAlreadyExists")
    # The other item of the order has not shipped yet and can have its own label.
    rest = _details(order, items=[("22222222222222", 1)])
    _offer_and_buy(live, rest, "DPD_CLASSIC")
    assert _status(order) is FulfillmentStatus.SHIPPED
    assert len(order.packages) == 2


def test_an_offer_is_for_one_service_and_its_shipment_details_and_expires(
    live: LiveSandbox,
) -> None:
    order = _place_order(live)
    details = _details(order)
    _error(_buy(live, details, "DHL_DE_PAKET"), 400, "ShippingServiceOfferNotAvailable")
    services = _services(_eligible(live, details))
    dhl_offer = services["DHL_DE_PAKET"]["ShippingServiceOfferId"]
    _error(_buy(live, details, "NO_SUCH_SERVICE"), 404, "ShippingServiceNotAvailable")
    _error(
        _buy(live, details, "DHL_DE_PAKET", "bm90LWFuLW9mZmVy"),
        400,
        "InvalidShippingServiceOfferId",
    )
    _error(_buy(live, details, "DPD_CLASSIC", dhl_offer), 400, "InvalidShippingServiceOfferId")
    heavier = _details(order, grams=2500)
    message = _error(
        _buy(live, heavier, "DHL_DE_PAKET", dhl_offer), 400, "ShippingServiceOfferNotAvailable"
    )
    assert "differ" in message

    offer = live.sandbox.state.mfn.offers[dhl_offer]
    offer.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    message = _error(
        _buy(live, details, "DHL_DE_PAKET", dhl_offer), 400, "ShippingServiceOfferNotAvailable"
    )
    assert "expired" in message
    assert _status(order) is FulfillmentStatus.UNSHIPPED

    # Without an offer id the newest current offer for the same details is bought.
    _eligible(live, details)
    bought = _buy(live, details, "DPD_CLASSIC")
    assert bought.status_code == 200, bought.text
    assert re.fullmatch(r"0\d{13}", bought.json()["payload"]["TrackingId"])


def test_unknown_and_malformed_shipment_ids(live: LiveSandbox) -> None:
    malformed = _get(live, "TEST_CASE_400")
    assert "regular expression pattern" in _error(malformed, 400, "InvalidInput")
    _error(_get(live, "0f0e0d0c-0b0a-4908-8706-050403020100"), 404, "ResourceNotFound")
    _error(_cancel(live, "0f0e0d0c-0b0a-4908-8706-050403020100"), 404, "ResourceNotFound")
    order = _place_order(live)
    _, shipment = _offer_and_buy(live, _details(order), "GLS_BUSINESSPARCEL")
    other = live.sandbox.create_seller("Other GmbH", [BY_CODE["DE"].id])
    their_token = live.token(other)
    their_rdt = live.call(
        "POST", "/tokens/2021-03-01/restrictedDataToken", token=their_token,
        json={"restrictedResources": [{"method": "GET", "path": SHIPMENT}]},
    ).json()["restrictedDataToken"]  # fmt: skip
    _error(_get(live, shipment["ShipmentId"], their_rdt), 404, "ResourceNotFound")


# --- cancelShipment ------------------------------------------------------------------------


def test_cancelling_a_label_unships_the_order_and_refunds_it_later(live: LiveSandbox) -> None:
    order = _place_order(live)
    details = _details(order)
    _, shipment = _offer_and_buy(live, details, "DHL_DE_PAKET")
    assert _status(order) is FulfillmentStatus.PARTIALLY_SHIPPED

    cancelled = _cancel(live, shipment["ShipmentId"])
    assert cancelled.status_code == 200, cancelled.text
    payload = cancelled.json()["payload"]
    assert payload["Status"] == "RefundPending"
    assert payload["TrackingId"] == shipment["TrackingId"]
    assert payload["Label"]["FileContents"]["Contents"] == ""
    assert _status(order) is FulfillmentStatus.UNSHIPPED
    assert order.packages == []
    assert order.items[0].quantity_shipped == 0

    twice = _cancel(live, shipment["ShipmentId"])
    assert "RefundPending" in _error(twice, 404, "InvalidState")

    token = live.rdt("GET", SHIPMENT)
    deadline = time.monotonic() + 5  # the refund takes an hour at Amazon, 1 s at this scale
    status = "RefundPending"
    while status == "RefundPending" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _get(live, shipment["ShipmentId"], token).json()["payload"]["Status"]
    assert status == "RefundApplied"
    _error(_cancel(live, shipment["ShipmentId"]), 404, "InvalidState")

    # The units are unshipped again, so a new label can be bought for them.
    _, replacement = _offer_and_buy(live, details, "DPD_CLASSIC")
    assert replacement["ShipmentId"] != shipment["ShipmentId"]
    assert order.packages[0].tracking_number == replacement["TrackingId"]


def test_a_label_cannot_be_cancelled_after_24_hours(live: LiveSandbox) -> None:
    order = _place_order(live)
    _, shipment = _offer_and_buy(live, _details(order), "DHL_DE_PAKET")
    record = live.sandbox.state.mfn.shipments[shipment["ShipmentId"]]
    record.created_at -= timedelta(hours=25)
    _error(_cancel(live, shipment["ShipmentId"]), 400, "LabelCancelWindowExpired")
    assert _get(live, shipment["ShipmentId"]).json()["payload"]["Status"] == "Purchased"
    assert _status(order) is FulfillmentStatus.PARTIALLY_SHIPPED


# --- carriers, admin, determinism ------------------------------------------------------------


def test_unavailable_carriers_and_unaccepted_terms_are_listed_apart(live: LiveSandbox) -> None:
    order = _place_order(live)
    details = _details(order)
    gls_offer = _services(_eligible(live, details))["GLS_BUSINESSPARCEL"]
    seller_id = live.seller.seller_id
    live.admin(
        "PUT", f"/mfn/carriers/{seller_id}",
        json={"temporarily_unavailable": ["UPS"], "terms_not_accepted": ["GLS"]},
    )  # fmt: skip
    response = _eligible(live, details)
    payload = response.json()["payload"]
    assert payload["TemporarilyUnavailableCarrierList"] == [{"CarrierName": "UPS"}]
    assert payload["TermsAndConditionsNotAcceptedCarrierList"] == [{"CarrierName": "GLS"}]
    assert not {"UPS_STANDARD", "GLS_BUSINESSPARCEL"} & set(_services(response))
    refused = _buy(live, details, "GLS_BUSINESSPARCEL", gls_offer["ShippingServiceOfferId"])
    _error(refused, 403, "TermsAndConditionsNotAccepted")
    unknown = live.http.put(
        f"/_sandbox/mfn/carriers/{seller_id}", json={"temporarily_unavailable": ["Pony Express"]}
    )
    assert unknown.status_code == 400
    assert live.http.put("/_sandbox/mfn/carriers/NOSUCHSELLER", json={}).status_code == 404


def test_the_admin_list_shows_one_sellers_labels(live: LiveSandbox) -> None:
    _offer_and_buy(live, _details(_place_order(live)), "DHL_DE_PAKET")
    other = live.sandbox.create_seller("Other GmbH", [BY_CODE["DE"].id])
    assert live.admin("GET", "/mfn/shipments", params={"seller_id": other.seller_id}) == []
    assert len(live.admin("GET", "/mfn/shipments")) == 1
    assert live.http.get("/_sandbox/mfn/shipments?seller_id=NOSUCHSELLER").status_code == 404


def test_the_same_seed_buys_the_same_labels(start_sandbox: Callable[..., LiveSandbox]) -> None:
    bought = []
    for _ in range(2):
        live = start_sandbox(seed=11, time_scale=3600)
        _, shipment = _offer_and_buy(live, _details(_place_order(live)), "DHL_DE_PAKET")
        bought.append((shipment["ShipmentId"], shipment["TrackingId"], _label_file(shipment)))
    assert bought[0] == bought[1]


def test_every_service_confirms_with_an_amazon_carrier_code() -> None:
    assert {service.carrier_code for service in SERVICES} <= CARRIER_CODES
