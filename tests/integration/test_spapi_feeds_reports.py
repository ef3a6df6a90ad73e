"""Feeds, reports, listings and FBA inventory through the SP-API client, against the sandbox
over real HTTP.

What the client reads is compared with the sandbox's own state (its listings, FBA inventory,
orders and stored documents) and its request log, never with what the client sent. Each test
runs on SQLite and PostgreSQL: the client is the one a workspace builds (buckets and call
records in its database).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from sellerbridge import logs
from sellerbridge.channels.amazon.spapi import (
    AmbiguousError,
    AuthError,
    AuthReason,
    RejectedError,
    RetryableError,
)
from sellerbridge.channels.amazon.spapi.models.feeds import Feed, ProcessingStatus
from sellerbridge.channels.amazon.spapi.models.listings import SubmissionStatus
from sellerbridge.channels.amazon.spapi.models.reports import Report
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import SpApiCall
from sellerbridge.sandbox.vat_invoices import order_shipments
from tests.amazon import Shop

DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"
LISTINGS_FEED = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
VIDR = "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT"
UNKNOWN_SKU = "SB-9999"
FINAL = {ProcessingStatus.DONE, ProcessingStatus.FATAL, ProcessingStatus.CANCELLED}
GZIP_MAGIC = b"\x1f\x8b"

Processed = TypeVar("Processed", Feed, Report)


def finished(read: Callable[[], Processed]) -> Processed:
    """Poll a feed or report until it is DONE, FATAL or CANCELLED (the sandbox runs at 600x)."""
    deadline = time.monotonic() + 15
    while (current := read()).processing_status not in FINAL:
        assert time.monotonic() < deadline, f"still {current.processing_status}"
        time.sleep(0.05)
    return current


def availability(quantity: int) -> dict[str, Any]:
    """The patch that sets a merchant-fulfilled quantity."""
    return {
        "op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    }


def stock_feed(seller_id: str, quantities: dict[str, int]) -> bytes:
    """A JSON_LISTINGS_FEED setting the quantity of each SKU, one PATCH message per SKU."""
    messages = [
        {
            "messageId": number,
            "sku": sku,
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": [availability(quantity)],
        }
        for number, (sku, quantity) in enumerate(quantities.items(), start=1)
    ]
    header = {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}
    return json.dumps({"header": header, "messages": messages}).encode()


def quantities(shop: Shop) -> dict[tuple[str, str], int | None]:
    """The sandbox's quantity of each (SKU, marketplace) of the seller."""
    rows = shop.live.admin("GET", "/listings", params={"seller_id": shop.live.seller.seller_id})
    return {(row["sku"], row["marketplace_id"]): row["quantity"] for row in rows}


def requests(shop: Shop, operation: str) -> list[dict[str, Any]]:
    logged: list[dict[str, Any]] = shop.live.admin(
        "GET", "/requests", params={"operation": operation}
    )
    return logged


def recorded(shop: Shop, operation: str) -> list[tuple[str, int | None]]:
    """(path, status) of each attempt the client recorded for ``operation``."""
    with shop.uow as uow:
        rows = uow.session.execute(
            select(SpApiCall.path, SpApiCall.status)
            .where(SpApiCall.operation == operation)
            .order_by(SpApiCall.id)
        )
        return [(path, status) for path, status in rows]


def table(content: bytes) -> list[dict[str, str]]:
    """The rows of a tab-separated report, by column name."""
    header, *lines = content.decode("utf-8").splitlines()
    columns = header.split("\t")
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]


# --- feeds ---------------------------------------------------------------------------------------


def test_a_listings_feed_sets_the_quantities_and_reports_the_unknown_sku(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    seller_id = shop.live.seller.seller_id
    before = quantities(shop)
    wanted = {sku: (before[(sku, DE)] or 0) + 17 for sku in ("SB-0001", "SB-0002")}
    document = stock_feed(seller_id, {**wanted, UNKNOWN_SKU: 5})

    with shop.client() as client:
        upload = client.create_feed_document(FEED_CONTENT_TYPE)
        client.upload_document(upload.url, document, FEED_CONTENT_TYPE)
        feed_id = client.create_feed(LISTINGS_FEED, [DE], upload.feed_document_id)
        feed = finished(lambda: client.get_feed(feed_id))
        assert feed.result_feed_document_id is not None
        location = client.get_feed_document(feed.result_feed_document_id)
        report = json.loads(client.download_document(location))
        with pytest.raises(RetryableError, match="content: not GZIP"):
            client.download_document(location.model_copy(update={"compression_algorithm": "GZIP"}))

    stored = shop.live.sandbox.state.documents.documents[upload.feed_document_id]
    assert (stored.content, stored.content_type) == (document, FEED_CONTENT_TYPE)
    assert (feed.feed_id, feed.feed_type, feed.marketplace_ids, feed.processing_status) == (
        feed_id,
        LISTINGS_FEED,
        (DE,),
        ProcessingStatus.DONE,
    )
    assert feed.processing_end_time is not None
    assert feed.processing_end_time >= feed.created_time
    assert location.compression_algorithm is None
    assert [(i["messageId"], i["sku"], i["code"]) for i in report["issues"]] == [
        (3, UNKNOWN_SKU, "13013")
    ]
    assert report["summary"]["messagesAccepted"] == 2
    assert quantities(shop) == before | {(sku, DE): quantity for sku, quantity in wanted.items()}
    assert recorded(shop, "documents.download") == [(urlsplit(location.url).path, 200)] * 2


def test_an_upload_is_refused_for_another_content_type_and_its_url_is_never_logged(
    start_shop: Callable[..., Shop], capsys: pytest.CaptureFixture[str]
) -> None:
    shop = start_shop()
    logs.configure(json=True)  # here, not in a fixture: pytest swaps stderr after setup
    with shop.client() as client:
        upload = client.create_feed_document(FEED_CONTENT_TYPE)
        with pytest.raises(RejectedError) as raised:
            client.upload_document(upload.url, b"{}", "text/plain; charset=UTF-8")
        client.upload_document(upload.url, b"{}", FEED_CONTENT_TYPE)

    assert (raised.value.status, raised.value.codes) == (403, ("SignatureDoesNotMatch",))
    assert shop.live.sandbox.state.documents.documents[upload.feed_document_id].content == b"{}"
    # The URL's signature is in its query string: only its path is logged and recorded.
    path = urlsplit(upload.url).path
    assert recorded(shop, "documents.upload") == [(path, 403), (path, 200)]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [
        (line["event"], line["path"], line["status"])
        for line in lines
        if line.get("operation") == "documents.upload"
    ] == [("spapi.call_failed", path, 403), ("spapi.call", path, 200)]
    assert "Signature=" not in json.dumps(lines)
    assert "Signature=" not in str(raised.value)


def test_a_lost_answer_to_create_feed_is_ambiguous_and_not_repeated(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    seller_id = shop.live.seller.seller_id
    with shop.client() as client:
        upload = client.create_feed_document(FEED_CONTENT_TYPE)
        client.upload_document(upload.url, stock_feed(seller_id, {"SB-0001": 3}), FEED_CONTENT_TYPE)
        shop.live.admin(
            "PUT", "/faults", json=[{"operation": "feeds.createFeed", "kind": "lost_response"}]
        )
        with pytest.raises(AmbiguousError) as raised:
            client.create_feed(LISTINGS_FEED, [DE], upload.feed_document_id)

    assert raised.value.operation == "feeds.createFeed"
    assert [entry["fault"] for entry in requests(shop, "feeds.createFeed")] == ["lost_response"]
    feeds = shop.live.sandbox.state.feeds.feeds.values()
    # Amazon has the feed: sending it again would have queued a second one.
    assert [feed.input_document_id for feed in feeds] == [upload.feed_document_id]


# --- listings ------------------------------------------------------------------------------------


def test_patch_listings_item_sets_a_quantity_or_says_why_not(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    seller_id = shop.live.seller.seller_id
    odd_sku = "KAF 1000/rot#2"  # a space, a slash and a hash: only a quoted path reaches it
    shop.live.admin("PUT", f"/listings/{seller_id}/{quote(odd_sku, safe='')}", json={"quantity": 1})

    with shop.client() as client:
        accepted = client.patch_listings_item(seller_id, odd_sku, [DE], [availability(23)])
        unknown = client.patch_listings_item(seller_id, UNKNOWN_SKU, [DE], [availability(5)])
        amazons = client.patch_listings_item(seller_id, "SB-0003-FBA", [DE], [availability(5)])

    assert (accepted.sku, accepted.status, accepted.issues) == (
        odd_sku,
        SubmissionStatus.ACCEPTED,
        (),
    )
    assert accepted.submission_id
    assert (unknown.sku, unknown.status) == (UNKNOWN_SKU, SubmissionStatus.INVALID)
    assert [(i.code, i.severity) for i in unknown.issues] == [("13013", "ERROR")]
    assert amazons.status is SubmissionStatus.INVALID
    assert [(i.code, i.attribute_names) for i in amazons.issues] == [
        ("90000900", ("fulfillment_availability",))
    ]
    after = quantities(shop)
    assert (after[(odd_sku, DE)], after[(odd_sku, FR)]) == (23, 1)
    assert (UNKNOWN_SKU, DE) not in after


# --- reports -------------------------------------------------------------------------------------


def test_an_order_report_arrives_compressed_with_the_orders_of_its_range(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(orders=300)  # enough order items for a document above 100 kB
    marketplaces = shop.live.seller.marketplace_ids
    start, end = shop.since, utcnow()
    # The times go out in UTC to the second, rounded down.
    first, last = start.replace(microsecond=0), end.replace(microsecond=0)
    orders = [o for o in shop.sandbox_orders() if first <= o.last_updated_time <= last]

    with shop.client() as client:
        report_id = client.create_report(
            ALL_ORDERS, marketplaces, data_start_time=start, data_end_time=end
        )
        empty_id = client.create_report(
            ALL_ORDERS,
            marketplaces,
            data_start_time=shop.since - timedelta(days=60),
            data_end_time=shop.since - timedelta(days=59),
        )
        report = finished(lambda: client.get_report(report_id))
        empty = finished(lambda: client.get_report(empty_id))
        assert report.report_document_id is not None
        location = client.get_report_document(report.report_document_id)
        content = client.download_document(location)
        packed = client.download_document(
            location.model_copy(update={"compression_algorithm": None})
        )

    assert (report.report_type, report.marketplace_ids, report.processing_status) == (
        ALL_ORDERS,
        tuple(marketplaces),
        ProcessingStatus.DONE,
    )
    assert (report.data_start_time, report.data_end_time) == (first, last)
    assert location.compression_algorithm == "GZIP"
    assert packed[:2] == GZIP_MAGIC
    assert gzip.decompress(packed) == content
    rows = table(content)
    assert {row["amazon-order-id"] for row in rows} == {order.order_id for order in orders}
    assert len(rows) == sum(len(order.items) for order in orders)
    # An order report without orders in its range is cancelled, without a document.
    assert (empty.processing_status, empty.report_document_id) == (ProcessingStatus.CANCELLED, None)


def test_the_vat_invoice_data_report_is_read_with_a_restricted_data_token(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(orders=60)
    shipments = {
        shipment.shipment_id
        for order in shop.sandbox_orders()
        if order.marketplace_id == DE
        for shipment in order_shipments(order)
    }

    with shop.client() as client:
        report_id = client.create_report(VIDR, [DE])
        report = finished(lambda: client.get_report(report_id))
        document_id = report.report_document_id
        assert document_id is not None
        with pytest.raises(AuthError) as refused:
            client.get_report_document(document_id)
        location = client.get_report_document(document_id, restricted=True)
        content = client.download_document(location)

    assert refused.value.reason is AuthReason.RESTRICTED_DATA
    rows = table(content)
    assert {row["shipping-id"] for row in rows} == shipments
    assert {row["marketplace-id"] for row in rows} == {DE}
    assert [entry["status"] for entry in requests(shop, "reports.getReportDocument")] == [403, 200]
    assert len(requests(shop, "tokens.createRestrictedDataToken")) == 1


# --- FBA inventory -------------------------------------------------------------------------------


def test_inventory_summaries_page_through_every_fba_sku_with_amazons_figures(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    seller_id = shop.live.seller.seller_id
    for number in range(1, 46):  # with the catalogue's 8 FBA SKUs more than one page
        shop.live.admin(
            "PUT",
            f"/listings/{seller_id}/EXTRA-{number:03d}-FBA",
            json={"fulfillment_channel": "AMAZON_EU"},
        )
    figures = {
        "fulfillable": 40,
        "inbound_working": 1,
        "inbound_shipped": 2,
        "inbound_receiving": 3,
        "reserved_pending_customer_order": 4,
        "reserved_transshipment": 5,
        "reserved_fc_processing": 6,
        "researching": 7,
        "unfulfillable": 8,
    }
    shop.live.admin("PUT", f"/inventory/{seller_id}/SB-0003-FBA", json=figures)
    stock = shop.live.sandbox.state.listings.inventory[seller_id]

    with shop.client() as client:
        pages = [client.get_inventory_summaries(DE)]
        while (token := pages[-1].next_token) is not None:
            pages.append(client.get_inventory_summaries(DE, next_token=token))
        chosen = client.get_inventory_summaries(
            DE, seller_skus=["SB-0003-FBA", "SB-0006-FBA"], details=False
        )

    assert len(pages) > 1
    summaries = {s.seller_sku: s for page in pages for s in page.summaries}
    assert sum(len(page.summaries) for page in pages) == len(summaries) == len(stock) == 53
    set_here = summaries["SB-0003-FBA"]
    assert (
        set_here.total_quantity,
        set_here.fulfillable_quantity,
        set_here.inbound,
        set_here.reserved_quantity,
        set_here.researching,
        set_here.unfulfillable_quantity,
    ) == (76, 40, 6, 15, 7, 8)
    for sku, units in stock.items():
        summary = summaries[sku]
        inbound = units.inbound_working + units.inbound_shipped + units.inbound_receiving
        assert (
            summary.fn_sku,
            summary.total_quantity,
            summary.fulfillable_quantity,
            summary.inbound,
            summary.reserved_quantity,
            summary.researching,
            summary.unfulfillable_quantity,
            summary.last_updated_time,
        ) == (
            units.fnsku,
            units.total,
            units.fulfillable,
            inbound,
            units.reserved,
            units.researching,
            units.unfulfillable,
            units.last_updated.replace(microsecond=0),
        ), sku
    assert chosen.next_token is None
    assert {s.seller_sku: s.total_quantity for s in chosen.summaries} == {
        "SB-0003-FBA": 76,
        "SB-0006-FBA": stock["SB-0006-FBA"].total,
    }
    assert all(s.fulfillable_quantity is None and s.inbound is None for s in chosen.summaries)
