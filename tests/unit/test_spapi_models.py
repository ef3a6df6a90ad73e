"""Every field the typed SP-API models read exists in Amazon's official model.

Starting from each response model, the test walks the pydantic fields alongside the Swagger
definitions (following ``$ref`` and arrays) and reports a field Amazon does not define, a nested
model where Amazon has none, and a field our model requires that Amazon may leave out (which
would make a valid answer unreadable).
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel

from sellerbridge.channels.amazon.spapi.models.fba_inventory import GetInventorySummariesResponse
from sellerbridge.channels.amazon.spapi.models.feeds import (
    CreateFeedResponse,
    DocumentLocation,
    Feed,
    FeedDocumentUpload,
    ProcessingStatus,
)
from sellerbridge.channels.amazon.spapi.models.finances import ListFinancialEventsResponse
from sellerbridge.channels.amazon.spapi.models.listings import (
    Issue,
    ListingsSubmission,
    SubmissionStatus,
)
from sellerbridge.channels.amazon.spapi.models.orders import GetOrderResponse, SearchOrdersResponse
from sellerbridge.channels.amazon.spapi.models.reports import CreateReportResponse, Report
from sellerbridge.channels.amazon.spapi.models.sellers import GetMarketplaceParticipationsResponse
from sellerbridge.sandbox import spec


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _nested_model(argument)
        if found is not None:
            return found
    return None


def _definition(api: str, schema: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Follow ``$ref``s and array items down to an object definition (name, schema)."""
    definitions = spec.model(api)["definitions"]
    name = None
    for _ in range(10):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = definitions[name]
        elif schema.get("type") == "array":
            schema = schema["items"]
        else:
            break
    return name, schema


def mismatches(model: type[BaseModel], api: str, definition: str, where: str) -> list[str]:
    schema = spec.model(api)["definitions"][definition]
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    problems = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{where}.{key}"
        if key not in properties:
            problems.append(f"{path}: not in Amazon's {definition}")
            continue
        if field.is_required() and key not in required:
            problems.append(f"{path}: required here, optional in Amazon's {definition}")
        nested = _nested_model(field.annotation)
        if nested is None:
            continue
        target, _ = _definition(api, properties[key])
        if target is None:
            problems.append(f"{path}: a model here, a plain value in Amazon's {definition}")
            continue
        problems.extend(mismatches(nested, api, target, path))
    return problems


def test_the_sellers_model_reads_only_what_amazon_defines() -> None:
    root = "GetMarketplaceParticipationsResponse"
    assert mismatches(GetMarketplaceParticipationsResponse, "sellers", root, root) == []


@pytest.mark.parametrize(
    ("model", "definition"),
    [(SearchOrdersResponse, "SearchOrdersResponse"), (GetOrderResponse, "GetOrderResponse")],
)
def test_the_order_models_agree_with_amazons(model: type[BaseModel], definition: str) -> None:
    assert mismatches(model, "orders", definition, "R") == []


def test_the_walk_notices_a_field_amazon_does_not_have() -> None:
    class Wrong(BaseModel):
        payload: list[int] = []
        store: str

    assert mismatches(Wrong, "sellers", "MarketplaceParticipation", "M") == [
        "M.payload: not in Amazon's MarketplaceParticipation",
        "M.store: not in Amazon's MarketplaceParticipation",
    ]


@pytest.mark.parametrize(
    ("model", "api", "definition"),
    [
        (FeedDocumentUpload, "feeds", "CreateFeedDocumentResponse"),
        (CreateFeedResponse, "feeds", "CreateFeedResponse"),
        (Feed, "feeds", "Feed"),
        (DocumentLocation, "feeds", "FeedDocument"),
        (CreateReportResponse, "reports", "CreateReportResponse"),
        (Report, "reports", "Report"),
        (DocumentLocation, "reports", "ReportDocument"),
        (ListingsSubmission, "listings", "ListingsItemSubmissionResponse"),
    ],
)
def test_the_feeds_reports_and_listings_models_read_only_what_amazon_defines(
    model: type[BaseModel], api: str, definition: str
) -> None:
    assert mismatches(model, api, definition, definition) == []


def test_the_inventory_model_requires_only_what_a_summary_cannot_do_without() -> None:
    """Amazon's model makes everything optional; a page without summaries, or a summary without
    its SKU or total, has nothing to synchronise, so reading it fails."""
    root = "GetInventorySummariesResponse"
    summary = f"{root}.payload.inventorySummaries"
    assert mismatches(GetInventorySummariesResponse, "fbaInventory", root, root) == [
        f"{root}.payload: required here, optional in Amazon's {root}",
        f"{summary}.sellerSku: required here, optional in Amazon's InventorySummary",
        f"{summary}.totalQuantity: required here, optional in Amazon's InventorySummary",
    ]


def test_the_finances_model_requires_only_what_an_event_cannot_do_without() -> None:
    """Amazon's model makes everything optional; a shipment or refund without its order or
    posted date cannot be booked, so reading it fails."""
    root = "ListFinancialEventsResponse"
    events = f"{root}.payload.FinancialEvents"
    assert mismatches(ListFinancialEventsResponse, "finances", root, root) == [
        f"{root}.payload: required here, optional in Amazon's {root}",
        *(
            f"{events}.{event_list}.{field}: required here, optional in Amazon's ShipmentEvent"
            for event_list in ("ShipmentEventList", "RefundEventList")
            for field in ("AmazonOrderId", "PostedDate")
        ),
    ]


def test_the_statuses_and_values_are_amazons() -> None:
    def values(api: str, definition: str, field: str) -> set[str]:
        found: list[str] = spec.model(api)["definitions"][definition]["properties"][field]["enum"]
        return set(found)

    statuses = set(ProcessingStatus)
    assert statuses == values("feeds", "Feed", "processingStatus")
    assert statuses == values("reports", "Report", "processingStatus")
    assert set(SubmissionStatus) == values("listings", "ListingsItemSubmissionResponse", "status")
    severities = typing.get_args(Issue.model_fields["severity"].annotation)
    assert set(severities) == values("listings", "Issue", "severity")
    optional = DocumentLocation.model_fields["compression_algorithm"].annotation
    compressions = set(typing.get_args(typing.get_args(optional)[0]))  # Literal[...] | None
    assert compressions == values("feeds", "FeedDocument", "compressionAlgorithm")
    assert compressions == values("reports", "ReportDocument", "compressionAlgorithm")
