"""Listings Items API and FBA Inventory API: the stock a connector reads and changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import LiveSandbox, assert_conforms

DE, FR, US = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "ATVPDKIKX0DER"
ALL_ITEM_DATA = (
    "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,"
    "productTypes"
)
INVENTORY = "/fba/inventory/v1/summaries"


@pytest.fixture
def fast(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """A sandbox whose usage plans refill 1000 times faster than Amazon's."""
    return start_sandbox(time_scale=1000)


def items_path(live: LiveSandbox, seller_id: str | None = None) -> str:
    return f"/listings/2021-08-01/items/{seller_id or live.seller.seller_id}"


def get_item(live: LiveSandbox, sku: str, **params: str) -> httpx.Response:
    params.setdefault("marketplaceIds", DE)
    return live.call("GET", f"{items_path(live)}/{sku}", params=params)


def patch_item(
    live: LiveSandbox, sku: str, patches: list[dict[str, Any]], **params: str
) -> httpx.Response:
    params.setdefault("marketplaceIds", DE)
    response = live.call(
        "PATCH",
        f"{items_path(live)}/{sku}",
        params=params,
        json={"productType": "PRODUCT", "patches": patches},
    )
    assert_conforms("listings.patchListingsItem", response)
    return response


def stock(op: str, **entry: Any) -> list[dict[str, Any]]:
    value = [{"fulfillment_channel_code": "DEFAULT", **entry}] if entry else None
    patch: dict[str, Any] = {"op": op, "path": "/attributes/fulfillment_availability"}
    if value is not None:
        patch["value"] = value
    return [patch]


def quantity(live: LiveSandbox, sku: str, marketplace_id: str = DE) -> int | None:
    response = get_item(
        live, sku, marketplaceIds=marketplace_id, includedData="fulfillmentAvailability"
    )
    assert_conforms("listings.getListingsItem", response)
    value: int | None = response.json()["fulfillmentAvailability"][0].get("quantity")
    return value


def rows(live: LiveSandbox) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = live.admin(
        "GET", "/listings", params={"seller_id": live.seller.seller_id}
    )
    return result


def inventory(live: LiveSandbox, **params: str) -> httpx.Response:
    params = {"granularityType": "Marketplace", "granularityId": DE, "marketplaceIds": DE, **params}
    response = live.call("GET", INVENTORY, params=params)
    assert_conforms("fbaInventory.getInventorySummaries", response)
    return response


def test_every_new_seller_lists_its_catalogue_with_seeded_stock(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    first, second = start_sandbox(seed=5), start_sandbox(seed=5)
    listed = rows(first)

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["sku"], row["marketplace"], row["fulfillment_channel"], row["quantity"])

    assert sorted(map(key, listed)) == sorted(map(key, rows(second)))
    skus = {row["sku"] for row in listed}
    assert len(skus) == 32  # 24 products, every third also as an -FBA SKU
    assert {row["marketplace"] for row in listed} == {
        "DE", "FR", "IT", "ES", "NL", "BE", "PL", "SE", "IE", "UK",
    }  # fmt: skip
    for row in listed:
        assert row["fulfillment_channel"] == (
            "AMAZON_EU" if row["sku"].endswith("-FBA") else "DEFAULT"
        )
        assert ("BUYABLE" in row["status"]) == (row["quantity"] > 0)
    merchant = [row["quantity"] for row in listed if row["fulfillment_channel"] == "DEFAULT"]
    assert 0 in merchant
    assert max(merchant) > 0


def test_get_listings_item_answers_the_parts_asked_for(fast: LiveSandbox) -> None:
    expected = next(r for r in rows(fast) if r["sku"] == "SB-0001" and r["marketplace"] == "DE")
    response = get_item(fast, "SB-0001", includedData=ALL_ITEM_DATA)
    assert_conforms("listings.getListingsItem", response)
    item = response.json()
    assert item["sku"] == "SB-0001"
    (summary,) = item["summaries"]
    assert summary["marketplaceId"] == DE
    assert summary["itemName"] == "Espressobohnen Hausmischung 1 kg"
    assert summary["productType"] == "COFFEE"
    assert summary["status"] == expected["status"]
    assert item["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": expected["quantity"]}
    ]
    assert item["offers"][0]["price"] == {"currencyCode": "EUR", "amount": "24.90"}
    assert item["attributes"]["item_name"][0]["value"] == "Espressobohnen Hausmischung 1 kg"
    assert item["issues"] == []
    assert item["productTypes"] == [{"marketplaceId": DE, "productType": "COFFEE"}]

    only_summaries = get_item(fast, "SB-0001").json()
    assert set(only_summaries) == {"sku", "summaries"}

    fba = get_item(fast, "SB-0003-FBA", includedData="summaries,fulfillmentAvailability")
    assert_conforms("listings.getListingsItem", fba)
    fba_row = next(r for r in rows(fast) if r["sku"] == "SB-0003-FBA" and r["marketplace"] == "DE")
    assert fba.json()["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "AMAZON_EU", "quantity": fba_row["quantity"]}
    ]
    assert fba.json()["summaries"][0]["fnSku"].startswith("X00")

    poland = get_item(fast, "SB-0001", marketplaceIds="A1C3SOZRARQ6R3", includedData="offers")
    assert poland.json()["offers"][0]["price"]["currencyCode"] == "PLN"


def test_get_listings_item_refuses_what_amazon_refuses(fast: LiveSandbox) -> None:
    unknown = get_item(fast, "NO-SUCH-SKU")
    assert unknown.status_code == 404
    assert_conforms("listings.getListingsItem", unknown)
    for params, status in (
        ({"marketplaceIds": ""}, 400),
        ({"marketplaceIds": US}, 400),
        ({"includedData": "everything"}, 400),
    ):
        response = get_item(fast, "SB-0001", **params)
        assert response.status_code == status, params
        assert_conforms("listings.getListingsItem", response)
    other_seller = fast.call(
        "GET", f"{items_path(fast, 'A2OTHERSELLER')}/SB-0001", params={"marketplaceIds": DE}
    )
    assert other_seller.status_code == 403
    assert_conforms("listings.getListingsItem", other_seller)


def test_patches_set_merge_and_clear_the_merchant_quantity(fast: LiveSandbox) -> None:
    france_before = quantity(fast, "SB-0002", FR)
    accepted = patch_item(fast, "SB-0002", stock("replace", quantity=7))
    assert accepted.json()["status"] == "ACCEPTED"
    assert accepted.json()["issues"] == []
    assert quantity(fast, "SB-0002") == 7
    assert quantity(fast, "SB-0002", FR) == france_before  # only the marketplace asked for

    patch_item(fast, "SB-0002", stock("merge", lead_time_to_ship_max_days=5))
    item = get_item(fast, "SB-0002", includedData="attributes").json()
    (availability,) = item["attributes"]["fulfillment_availability"]
    assert availability["quantity"] == 7
    assert availability["lead_time_to_ship_max_days"] == 5

    patch_item(fast, "SB-0002", stock("merge", quantity=0))
    assert quantity(fast, "SB-0002") == 0
    assert get_item(fast, "SB-0002").json()["summaries"][0]["status"] == ["DISCOVERABLE"]

    patch_item(fast, "SB-0002", stock("replace", quantity=3), marketplaceIds=f"{DE},{FR}")
    assert quantity(fast, "SB-0002") == quantity(fast, "SB-0002", FR) == 3
    assert get_item(fast, "SB-0002").json()["summaries"][0]["status"] == [
        "BUYABLE",
        "DISCOVERABLE",
    ]

    patch_item(fast, "SB-0002", stock("delete"))
    assert quantity(fast, "SB-0002") is None
    assert quantity(fast, "SB-0002", FR) == 3


def test_validation_preview_answers_without_applying(fast: LiveSandbox) -> None:
    before = quantity(fast, "SB-0004")
    valid = patch_item(
        fast,
        "SB-0004",
        stock("replace", quantity=99),
        mode="VALIDATION_PREVIEW",
        includedData="identifiers,issues",
    )
    assert valid.json()["status"] == "VALID"
    assert valid.json()["identifiers"][0]["marketplaceId"] == DE
    assert valid.json()["identifiers"][0]["asin"].startswith("B0")
    invalid = patch_item(fast, "SB-0004", stock("replace", quantity=-1), mode="VALIDATION_PREVIEW")
    assert invalid.json()["status"] == "INVALID"
    assert invalid.json()["issues"][0]["code"] == "90000900"
    assert quantity(fast, "SB-0004") == before
    identifiers_without_preview = fast.call(
        "PATCH",
        f"{items_path(fast)}/SB-0004",
        params={"marketplaceIds": DE, "includedData": "identifiers"},
        json={"productType": "PRODUCT", "patches": stock("replace", quantity=1)},
    )
    assert identifiers_without_preview.status_code == 400
    assert_conforms("listings.patchListingsItem", identifiers_without_preview)


def test_invalid_patches_say_why_and_change_nothing(fast: LiveSandbox) -> None:
    before = quantity(fast, "SB-0005")
    cases = [
        ("NO-SUCH-SKU", stock("replace", quantity=1), "13013"),
        ("SB-0005", stock("replace", quantity=-3), "90000900"),
        ("SB-0005", stock("replace", quantity="12"), "90000900"),
        ("SB-0005", stock("replace", lead_time_to_ship_max_days=2), "90220"),
        ("SB-0006-FBA", stock("replace", quantity=4), "90000900"),
        (
            "SB-0005",
            [{"op": "replace", "path": "/attributes/fulfillment_availability/0", "value": [{}]}],
            "90000900",
        ),
    ]
    for sku, patches, code in cases:
        response = patch_item(fast, sku, patches)
        body = response.json()
        assert body["status"] == "INVALID", (sku, patches)
        assert [issue["code"] for issue in body["issues"]] == [code], body
        assert body["issues"][0]["severity"] == "ERROR"
    fba = patch_item(fast, "SB-0006-FBA", stock("replace", quantity=4)).json()
    assert "fulfilled by Amazon" in fba["issues"][0]["message"]
    assert quantity(fast, "SB-0005") == before
    no_patches = fast.call(
        "PATCH",
        f"{items_path(fast)}/SB-0005",
        params={"marketplaceIds": DE},
        json={"productType": "PRODUCT", "patches": []},
    )
    assert no_patches.status_code == 400
    assert_conforms("listings.patchListingsItem", no_patches)
    other_seller = fast.call(
        "PATCH",
        f"{items_path(fast, 'A2OTHERSELLER')}/SB-0005",
        params={"marketplaceIds": DE},
        json={"productType": "PRODUCT", "patches": stock("replace", quantity=1)},
    )
    assert other_seller.status_code == 403
    assert_conforms("listings.patchListingsItem", other_seller)


def search(live: LiveSandbox, **params: str) -> httpx.Response:
    params.setdefault("marketplaceIds", DE)
    response = live.call("GET", items_path(live), params=params)
    assert_conforms("listings.searchListingsItems", response)
    return response


def test_search_pages_through_every_listing(fast: LiveSandbox) -> None:
    pages: list[dict[str, Any]] = [search(fast, pageSize="7").json()]
    while "nextToken" in pages[-1].get("pagination", {}):
        token = pages[-1]["pagination"]["nextToken"]
        pages.append(search(fast, pageSize="7", pageToken=token).json())
    assert [len(page["items"]) for page in pages] == [7, 7, 7, 7, 4]
    assert all(page["numberOfResults"] == 32 for page in pages)
    skus = [item["sku"] for page in pages for item in page["items"]]
    assert sorted(skus) == sorted({row["sku"] for row in rows(fast)})
    updated = [item["summaries"][0]["lastUpdatedDate"] for p in pages for item in p["items"]]
    assert updated == sorted(updated, reverse=True)  # lastUpdatedDate, newest first

    back = search(fast, pageSize="7", pageToken=pages[1]["pagination"]["previousToken"])
    assert back.json()["items"] == pages[0]["items"]

    by_sku = search(fast, sortBy="sku", sortOrder="ASC", pageSize="20").json()
    assert [item["sku"] for item in by_sku["items"]] == sorted(skus)[:20]


def test_search_filters_and_refusals(fast: LiveSandbox) -> None:
    found = search(
        fast,
        identifiers="SB-0001,SB-0003-FBA,NO-SUCH-SKU",
        identifiersType="SKU",
        includedData="summaries,fulfillmentAvailability",
    ).json()
    assert found["numberOfResults"] == 2
    assert {item["sku"] for item in found["items"]} == {"SB-0001", "SB-0003-FBA"}
    assert "pagination" not in found

    patch_item(fast, "SB-0001", stock("replace", quantity=0))
    out_of_stock = search(fast, withoutStatus="BUYABLE", pageSize="20").json()
    assert "SB-0001" in {item["sku"] for item in out_of_stock["items"]}
    assert all("BUYABLE" not in item["summaries"][0]["status"] for item in out_of_stock["items"])

    first_page = search(fast, pageSize="5").json()
    for params in (
        {"identifiers": "SB-0001"},
        {"pageSize": "21"},
        {"pageToken": "not-a-token"},
        {"pageToken": first_page["pagination"]["nextToken"], "sortBy": "sku"},
        {"marketplaceIds": US},
    ):
        response = fast.call("GET", items_path(fast), params={"marketplaceIds": DE, **params})
        assert response.status_code == 400, params
        assert_conforms("listings.searchListingsItems", response)
    other_seller = fast.call(
        "GET", items_path(fast, "A2OTHERSELLER"), params={"marketplaceIds": DE}
    )
    assert other_seller.status_code == 403
    assert_conforms("listings.searchListingsItems", other_seller)


def test_inventory_summaries_list_fba_skus_with_their_details(fast: LiveSandbox) -> None:
    summaries = inventory(fast, details="true").json()["payload"]["inventorySummaries"]
    assert [s["sellerSku"] for s in summaries] == [
        f"SB-{n:04d}-FBA" for n in (3, 6, 9, 12, 15, 18, 21, 24)
    ]
    for summary in summaries:
        details = summary["inventoryDetails"]
        assert summary["totalQuantity"] == (
            details["fulfillableQuantity"]
            + details["inboundWorkingQuantity"]
            + details["inboundShippedQuantity"]
            + details["inboundReceivingQuantity"]
            + details["reservedQuantity"]["totalReservedQuantity"]
            + details["researchingQuantity"]["totalResearchingQuantity"]
            + details["unfulfillableQuantity"]["totalUnfulfillableQuantity"]
        )
    plain = inventory(fast, sellerSkus="SB-0006-FBA,SB-0009-FBA").json()["payload"]
    assert [s["sellerSku"] for s in plain["inventorySummaries"]] == ["SB-0006-FBA", "SB-0009-FBA"]
    assert "inventoryDetails" not in plain["inventorySummaries"][0]

    seller_id = fast.seller.seller_id
    fast.admin("PUT", f"/inventory/{seller_id}/SB-0006-FBA", json={"fulfillable": 0})
    assert quantity(fast, "SB-0006-FBA") == 0
    assert get_item(fast, "SB-0006-FBA").json()["summaries"][0]["status"] == ["DISCOVERABLE"]
    fast.admin(
        "PUT",
        f"/inventory/{seller_id}/SB-0006-FBA",
        json={"fulfillable": 40, "reserved_pending_customer_order": 2, "inbound_shipped": 10},
    )
    (changed,) = inventory(fast, sellerSku="SB-0006-FBA", details="true").json()["payload"][
        "inventorySummaries"
    ]
    assert changed["inventoryDetails"]["fulfillableQuantity"] == 40
    assert changed["inventoryDetails"]["reservedQuantity"]["pendingCustomerOrderQuantity"] == 2
    assert changed["inventoryDetails"]["inboundShippedQuantity"] == 10


def test_start_date_time_returns_only_summaries_changed_since(fast: LiveSandbox) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fast.admin("PUT", f"/inventory/{fast.seller.seller_id}/SB-0012-FBA", json={"fulfillable": 17})
    changed = inventory(fast, startDateTime=since, sellerSkus="SB-0003-FBA", details="true")
    (summary,) = changed.json()["payload"]["inventorySummaries"]  # sellerSkus is ignored
    assert summary["sellerSku"] == "SB-0012-FBA"
    assert summary["inventoryDetails"]["fulfillableQuantity"] == 17


def test_inventory_summaries_refuse_bad_parameters(fast: LiveSandbox) -> None:
    two_years_ago = (datetime.now(UTC) - timedelta(days=730)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for params in (
        {"marketplaceIds": f"{DE},{FR}"},
        {"granularityType": "Country"},
        {"granularityId": FR, "marketplaceIds": DE},
        {"granularityId": US, "marketplaceIds": US},
        {"sellerSkus": ",".join(f"SKU-{n}" for n in range(51))},
        {"startDateTime": two_years_ago},
        {"details": "maybe"},
        {"nextToken": "made-up"},
    ):
        response = inventory(fast, **params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_inventory_next_token_pages_and_then_expires(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=1000, inventory_token_seconds=1)
    for n in range(52):
        live.admin(
            "PUT",
            f"/listings/{live.seller.seller_id}/EXTRA-{n:03d}-FBA",
            json={"fulfillment_channel": "AMAZON_EU", "marketplaces": ["DE"]},
        )
    first = inventory(live).json()
    second = inventory(live, nextToken=first["pagination"]["nextToken"]).json()
    assert len(first["payload"]["inventorySummaries"]) == 50
    assert len(second["payload"]["inventorySummaries"]) == 10
    assert "pagination" not in second
    skus = [
        s["sellerSku"] for page in (first, second) for s in page["payload"]["inventorySummaries"]
    ]
    assert len(set(skus)) == 60

    token = inventory(live).json()["pagination"]["nextToken"]
    time.sleep(1.3)
    expired = inventory(live, nextToken=token)
    assert expired.status_code == 400
    assert "expired" in expired.json()["errors"][0]["message"]


def test_admin_creates_and_changes_listings(fast: LiveSandbox) -> None:
    seller_id = fast.seller.seller_id
    created = fast.admin(
        "PUT",
        f"/listings/{seller_id}/NEW-1",
        json={"title": "Neuer Artikel", "marketplaces": ["DE", "FR"], "quantity": 4},
    )
    assert created["marketplace_ids"] == [DE, FR]
    assert quantity(fast, "NEW-1") == quantity(fast, "NEW-1", FR) == 4
    fast.admin("PUT", f"/listings/{seller_id}/NEW-1", json={"quantities": {"FR": 0}})
    assert quantity(fast, "NEW-1", FR) == 0
    assert quantity(fast, "NEW-1") == 4
    new_rows = [r for r in rows(fast) if r["sku"] == "NEW-1"]
    assert {(r["marketplace"], r["quantity"], tuple(r["status"])) for r in new_rows} == {
        ("DE", 4, ("BUYABLE", "DISCOVERABLE")),
        ("FR", 0, ("DISCOVERABLE",)),
    }
    assert get_item(fast, "NEW-1", marketplaceIds=US).status_code == 400

    refused = [
        fast.http.put(f"/_sandbox/listings/{seller_id}/SB-0003-FBA", json={"quantity": 2}),
        fast.http.put(f"/_sandbox/listings/{seller_id}/NEW-1", json={"quantity": -1}),
        fast.http.put(f"/_sandbox/listings/{seller_id}/NEW-1", json={"marketplaces": ["US"]}),
        fast.http.put(f"/_sandbox/inventory/{seller_id}/SB-0001", json={"fulfillable": 2}),
        fast.http.put("/_sandbox/listings/A2NOBODY/NEW-1", json={"quantity": 1}),
    ]
    assert [response.status_code for response in refused] == [400, 400, 400, 404, 404]
    assert quantity(fast, "NEW-1") == 4
