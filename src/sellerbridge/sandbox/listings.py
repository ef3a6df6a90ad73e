"""Listings Items API 2021-08-01 and FBA Inventory API v1: what a seller offers, and how many.

Every new seller gets a listing for each product of its catalogue (:mod:`.catalog`) on each of
its marketplaces, with starting quantities drawn from the seed. Its ``-FBA`` SKUs are fulfilled
by Amazon (channel ``AMAZON_EU``): Amazon counts their stock, so they have FBA inventory
(fulfillable, inbound, reserved, researching and unfulfillable units) instead of a quantity the
merchant sets. Merchant-fulfilled SKUs (channel ``DEFAULT``) have a quantity per marketplace.

Amazon behaviour modelled (spapi.md §5.5, §5.6 and the models):

- ``getListingsItem`` answers the parts named in ``includedData`` (default ``summaries``) for
  the requested marketplaces, and 404 for a SKU the seller does not list there. A listing is
  ``DISCOVERABLE`` while active, and ``BUYABLE`` too while it has stock to sell.
- ``patchListingsItem`` changes ``/attributes/fulfillment_availability``, the merchant's
  stock, in each marketplace of ``marketplaceIds``: ``replace`` and ``add`` set the DEFAULT
  quantity (and ``lead_time_to_ship_max_days``, the handling time), ``merge`` changes only what
  it names, ``delete`` clears the quantity. Other top-level attributes are kept as given and
  shown under ``attributes``. ``mode=VALIDATION_PREVIEW`` answers VALID or INVALID and changes
  nothing; otherwise a valid patch is ACCEPTED.
- ``searchListingsItems`` filters, sorts (default ``lastUpdatedDate`` descending) and pages
  (``pageSize`` up to 20, default 10; ``pageToken`` takes ``pagination.nextToken`` or
  ``previousToken``, and only with the filters it was issued for).
- ``getInventorySummaries`` lists the FBA SKUs of one marketplace by SKU with a ``nextToken``
  that expires (30 seconds at Amazon); ``startDateTime`` (at most 18 months back) returns only
  the summaries changed since then and ignores the SKU filters, as the model describes.

Deviations and unverified choices:

- Amazon ACCEPTS a patch for a SKU it does not know and creates an incomplete offer-only
  listing (amzn/selling-partner-api-docs#3748). The sandbox answers INVALID instead, so a
  connector's wrong SKU is noticed; its listings come from the seller hook and the admin API.
- Amazon applies an ACCEPTED submission asynchronously; the sandbox applies it at once.
- Issue codes: ``13013`` a SKU the seller does not have (the legacy feeds' "SKU does not
  exist" code); ``90000900`` with category INVALID_ATTRIBUTE an invalid value: a quantity or
  handling time that is not a whole number of 0 or more, a quantity for a listing fulfilled by
  Amazon, another fulfilment channel than DEFAULT, a path below a top-level attribute (the code
  of Amazon's sandbox fixture for invalid attributes); ``90220`` with MISSING_ATTRIBUTE a
  ``replace`` or ``add`` without ``quantity`` (Amazon's code for a missing attribute).
- A ``sellerId`` that is not the caller's gives 403; a marketplace the seller does not sell on
  gives 400 (unverified).
- ``fulfillmentAvailability`` has no marketplace field, so for several ``marketplaceIds`` it
  shows the first requested marketplace's quantity; ``attributes.fulfillment_availability``
  has one entry per marketplace, with its ``marketplace_id`` (unverified).
- ``getInventorySummaries`` pages hold 50 summaries (unverified). Its ``nextToken`` lifetime
  is not shortened by the time scale: it bounds how fast the client pages, not how fast Amazon
  works. Listing search tokens do not expire (Amazon states no lifetime).
- The sandbox has no variation families, package hierarchies or listing issues, so
  ``variationParentSku``, ``packageHierarchySku`` and ``withIssueSeverity`` match nothing, and
  ``procurement`` (vendors only) is never returned.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from sellerbridge.sandbox import catalog
from sellerbridge.sandbox.admin import json_body, marketplace_ids
from sellerbridge.sandbox.errors import invalid_input, not_found, unauthorized
from sellerbridge.sandbox.framework import (
    Api,
    Call,
    Reply,
    check_marketplaces,
    decode_token,
    encode_token,
    iso,
)
from sellerbridge.sandbox.marketplaces import BY_ID

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox, Seller

api = Api()

Channel = Literal["DEFAULT", "AMAZON_EU", "AMAZON_NA"]
Severity = Literal["ERROR", "WARNING", "INFO"]

FULFILLMENT_AVAILABILITY = "fulfillment_availability"
ITEM_DATA = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)
SUBMISSION_DATA = ("identifiers", "issues")
IDENTIFIER_TYPES = ("ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
STATUSES = ("BUYABLE", "DISCOVERABLE")
SORT_FIELDS = ("sku", "createdDate", "lastUpdatedDate")
SEARCH_FILTERS = (
    "marketplaceIds",
    "identifiers",
    "identifiersType",
    "variationParentSku",
    "packageHierarchySku",
    "createdAfter",
    "createdBefore",
    "lastUpdatedAfter",
    "lastUpdatedBefore",
    "withIssueSeverity",
    "withStatus",
    "withoutStatus",
    "sortBy",
    "sortOrder",
)
SEARCH_PAGE_SIZE = 10
SEARCH_PAGE_MAX = 20
SEARCH_IDENTIFIERS_MAX = 20
INVENTORY_PAGE_SIZE = 50
INVENTORY_SKUS_MAX = 50
INVENTORY_HISTORY = timedelta(days=548)  # startDateTime: at most 18 months back
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Listing(BaseModel):
    """One SKU of a seller, on the marketplaces it is listed on."""

    sku: str
    asin: str
    product_type: str
    title: str
    condition: str = "new_new"
    fulfillment_channel: Channel = "DEFAULT"
    marketplace_ids: list[str]
    quantities: dict[str, int] = Field(default_factory=dict)
    """The merchant-fulfilled (DEFAULT) quantity per marketplace; absent when none is set."""
    prices: dict[str, Decimal] = Field(default_factory=dict)
    """The offer price per marketplace, in the marketplace's currency."""
    handling_time: int = 2
    """``lead_time_to_ship_max_days``: working days between order and dispatch."""
    active: bool = True
    gtin: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Top-level attributes patched in besides ``fulfillment_availability``."""
    created: datetime
    updated: datetime

    @property
    def amazon_fulfilled(self) -> bool:
        return self.fulfillment_channel != "DEFAULT"


class FbaInventory(BaseModel):
    """The units of one FBA SKU in (and on the way to) Amazon's fulfilment centres."""

    fnsku: str
    fulfillable: int = 0
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    reserved_pending_customer_order: int = 0
    reserved_transshipment: int = 0
    reserved_fc_processing: int = 0
    researching: int = 0
    unfulfillable: int = 0
    last_updated: datetime

    @property
    def reserved(self) -> int:
        return (
            self.reserved_pending_customer_order
            + self.reserved_transshipment
            + self.reserved_fc_processing
        )

    @property
    def total(self) -> int:
        return (
            self.fulfillable
            + self.inbound_working
            + self.inbound_shipped
            + self.inbound_receiving
            + self.reserved
            + self.researching
            + self.unfulfillable
        )


class InventoryQuery(BaseModel):
    """What a ``getInventorySummaries`` call lists, and from which summary on."""

    seller_id: str
    marketplace_id: str
    start: datetime | None
    skus: list[str] | None
    offset: int = 0


class InventoryToken(InventoryQuery):
    """Where a ``getInventorySummaries`` listing continues, until the token expires."""

    expires_at: datetime


class ListingsState(BaseModel):
    listings: dict[str, dict[str, Listing]] = Field(default_factory=dict)
    """Per seller id, per SKU."""
    inventory: dict[str, dict[str, FbaInventory]] = Field(default_factory=dict)
    """Per seller id, per FBA SKU."""
    inventory_tokens: dict[str, InventoryToken] = Field(default_factory=dict)


@dataclass(frozen=True)
class Issue:
    """A problem with a listings submission, as the Listings API and feed reports state it."""

    code: str
    message: str
    categories: tuple[str, ...] = ()
    attribute: str | None = None
    severity: Severity = "ERROR"

    def as_listings_issue(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "categories": list(self.categories),
        }
        if self.attribute:
            issue["attributeNames"] = [self.attribute]
        return issue


def unknown_sku(sku: str) -> Issue:
    return Issue(
        "13013",
        f"The SKU '{sku}' does not exist for this seller in the requested marketplaces. "
        "Create the listing before changing it.",
    )


def _invalid(message: str, attribute: str | None = FULFILLMENT_AVAILABILITY) -> Issue:
    return Issue("90000900", message, ("INVALID_ATTRIBUTE",), attribute)


# --- state ---------------------------------------------------------------------------------


def seller_listings(sandbox: Sandbox, seller_id: str) -> dict[str, Listing]:
    return sandbox.state.listings.listings.setdefault(seller_id, {})


def seller_inventory(sandbox: Sandbox, seller_id: str) -> dict[str, FbaInventory]:
    return sandbox.state.listings.inventory.setdefault(seller_id, {})


def find_listing(sandbox: Sandbox, seller_id: str, sku: str) -> Listing | None:
    return seller_listings(sandbox, seller_id).get(sku)


def available(sandbox: Sandbox, seller_id: str, listing: Listing, marketplace_id: str) -> int:
    """Units a buyer can order now: the merchant's quantity, or Amazon's fulfillable units."""
    if not listing.amazon_fulfilled:
        return listing.quantities.get(marketplace_id, 0)
    inventory = seller_inventory(sandbox, seller_id).get(listing.sku)
    return inventory.fulfillable if inventory else 0


def listing_status(
    sandbox: Sandbox, seller_id: str, listing: Listing, marketplace_id: str
) -> list[str]:
    if not listing.active:
        return []
    if available(sandbox, seller_id, listing, marketplace_id) > 0:
        return ["BUYABLE", "DISCOVERABLE"]
    return ["DISCOVERABLE"]


def _amazon_channel(marketplace_ids_: list[str]) -> Channel:
    regions = {BY_ID[mid].region for mid in marketplace_ids_}
    return "AMAZON_NA" if regions == {"NA"} else "AMAZON_EU"


def _fnsku(random_: random.Random) -> str:
    return "X00" + "".join(random_.choice(_ALPHANUMERIC) for _ in range(7))


def _prices(product: catalog.Product, marketplace_ids_: list[str]) -> dict[str, Decimal]:
    # The catalogue prices goods in the currencies of Amazon Europe.
    return {
        mid: product.price(BY_ID[mid].currency)
        for mid in marketplace_ids_
        if BY_ID[mid].region == "EU"
    }


def _give_listings(sandbox: Sandbox, seller: Seller) -> None:
    """A new seller lists its whole catalogue on all its marketplaces."""
    random_ = random.Random(f"{sandbox.config.seed}:{seller.seller_id}:listings")
    anchor = sandbox.config.anchor or sandbox.now()
    listings = seller_listings(sandbox, seller.seller_id)
    inventory = seller_inventory(sandbox, seller.seller_id)
    for product in catalog.catalogue(sandbox.config.seed, seller.seller_id):
        created = anchor - timedelta(
            days=random_.randint(60, 720), seconds=random_.randint(0, 86_399)
        )
        updated = anchor - timedelta(
            days=random_.randint(1, 59), seconds=random_.randint(0, 86_399)
        )
        listing = Listing(
            sku=product.sku,
            asin=product.asin,
            product_type=product.product_type,
            title=product.title,
            fulfillment_channel=(
                _amazon_channel(seller.marketplace_ids)
                if product.fulfilled_by_amazon
                else "DEFAULT"
            ),
            marketplace_ids=list(seller.marketplace_ids),
            prices=_prices(product, seller.marketplace_ids),
            handling_time=random_.choice((1, 1, 2, 2, 3)),
            gtin=product.gtin,
            created=created,
            updated=updated,
        )
        if product.fulfilled_by_amazon:
            inventory[product.sku] = FbaInventory(
                fnsku=_fnsku(random_),
                fulfillable=0 if random_.random() < 0.1 else random_.randint(5, 400),
                inbound_working=random_.choice((0, 0, random_.randint(1, 60))),
                inbound_shipped=random_.choice((0, 0, random_.randint(1, 120))),
                inbound_receiving=random_.choice((0, 0, 0, random_.randint(1, 40))),
                reserved_pending_customer_order=random_.randint(0, 12),
                reserved_transshipment=random_.choice((0, 0, random_.randint(1, 20))),
                reserved_fc_processing=random_.choice((0, 0, random_.randint(1, 8))),
                researching=random_.choice((0, 0, 0, random_.randint(1, 3))),
                unfulfillable=random_.choice((0, 0, random_.randint(1, 5))),
                last_updated=updated,
            )
        else:
            listing.quantities = {
                mid: 0 if random_.random() < 0.15 else random_.randint(1, 150)
                for mid in seller.marketplace_ids
            }
        listings[product.sku] = listing


def setup(sandbox: Sandbox) -> None:
    sandbox.on_seller_created(_give_listings)


# --- changing listings (patchListingsItem and JSON_LISTINGS_FEED) ---------------------------


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _set_availability(
    listing: Listing, op: str, value: Any, marketplace_ids_: list[str]
) -> list[Issue]:
    if not isinstance(value, list) or not value:
        return [
            _invalid(
                "'fulfillment_availability' needs a value such as "
                '[{"fulfillment_channel_code": "DEFAULT", "quantity": 10}].'
            )
        ]
    issues: list[Issue] = []
    for entry in value:
        channel = entry.get("fulfillment_channel_code") if isinstance(entry, dict) else None
        if channel != "DEFAULT":
            issues.append(
                _invalid(
                    f"The fulfillment_channel_code {channel!r} is not valid for SKU "
                    f"'{listing.sku}': it is fulfilled by the merchant (DEFAULT); the sandbox "
                    "does not move listings to Fulfillment by Amazon."
                )
            )
            continue
        quantity, lead_time = entry.get("quantity"), entry.get("lead_time_to_ship_max_days")
        if quantity is None and op != "merge":
            issues.append(
                Issue(
                    "90220",
                    "'quantity' is required but not supplied.",
                    ("MISSING_ATTRIBUTE",),
                    FULFILLMENT_AVAILABILITY,
                )
            )
        elif quantity is not None and not _whole_number(quantity):
            issues.append(
                _invalid(
                    f"The quantity {quantity!r} for SKU '{listing.sku}' is not valid: it must "
                    "be a whole number of 0 or more."
                )
            )
        elif lead_time is not None and not _whole_number(lead_time):
            issues.append(
                _invalid(
                    f"The lead_time_to_ship_max_days {lead_time!r} is not valid: it must be a "
                    "whole number of 0 or more."
                )
            )
        else:
            for marketplace_id in marketplace_ids_:
                if marketplace_id not in listing.marketplace_ids:
                    listing.marketplace_ids.append(marketplace_id)
                if quantity is not None:
                    listing.quantities[marketplace_id] = quantity
            if lead_time is not None:
                listing.handling_time = lead_time
    return issues


def _apply_patch(
    listing: Listing, patch: dict[str, Any], marketplace_ids_: list[str]
) -> list[Issue]:
    path = str(patch.get("path", ""))
    parts = path.split("/")
    if len(parts) != 3 or parts[0] or parts[1] != "attributes" or not parts[2]:
        return [
            _invalid(
                f"The path '{path}' cannot be patched: only top-level attributes "
                "(/attributes/<name>) can.",
                attribute=None,
            )
        ]
    name, op = parts[2], patch["op"]
    if name != FULFILLMENT_AVAILABILITY:
        if op == "delete":
            listing.attributes.pop(name, None)
        else:
            listing.attributes[name] = patch.get("value", [])
        return []
    if listing.amazon_fulfilled:
        return [
            _invalid(
                f"SKU '{listing.sku}' is fulfilled by Amazon ({listing.fulfillment_channel}): "
                "Amazon counts its stock, so its fulfillment_availability cannot be set."
            )
        ]
    if op == "delete":
        for marketplace_id in marketplace_ids_:
            listing.quantities.pop(marketplace_id, None)
        return []
    return _set_availability(listing, op, patch.get("value"), marketplace_ids_)


def apply_patches(
    sandbox: Sandbox,
    seller_id: str,
    sku: str,
    marketplace_ids_: list[str],
    patches: list[dict[str, Any]],
    now: datetime,
    *,
    apply: bool,
) -> list[Issue]:
    """Check JSON Patch operations on a listing; apply them if ``apply`` and all are valid."""
    listing = find_listing(sandbox, seller_id, sku)
    if listing is None:
        return [unknown_sku(sku)]
    # The patches work on a copy, kept only if all are valid. They change the marketplaces,
    # the quantities and top-level attributes (replaced, never changed in place), so copying
    # those containers is enough; a deep copy took most of the time of a big listings feed.
    changed = listing.model_copy(
        update={
            "marketplace_ids": list(listing.marketplace_ids),
            "quantities": dict(listing.quantities),
            "attributes": dict(listing.attributes),
        }
    )
    issues = [
        issue for patch in patches for issue in _apply_patch(changed, patch, marketplace_ids_)
    ]
    if apply and not any(issue.severity == "ERROR" for issue in issues):
        changed.updated = now
        seller_listings(sandbox, seller_id)[sku] = changed
    return issues


def replace_attributes(
    sandbox: Sandbox,
    seller_id: str,
    sku: str,
    marketplace_ids_: list[str],
    attributes: dict[str, Any],
    now: datetime,
) -> list[Issue]:
    """A full update: the given attributes replace all others; without a
    ``fulfillment_availability`` a merchant-fulfilled listing loses its quantity."""
    listing = find_listing(sandbox, seller_id, sku)
    if listing is None:
        return [unknown_sku(sku)]
    patches: list[dict[str, Any]] = [
        {"op": "delete", "path": f"/attributes/{name}"}
        for name in listing.attributes
        if name not in attributes
    ]
    patches.extend(
        {"op": "replace", "path": f"/attributes/{name}", "value": value}
        for name, value in attributes.items()
    )
    if FULFILLMENT_AVAILABILITY not in attributes and not listing.amazon_fulfilled:
        patches.append({"op": "delete", "path": f"/attributes/{FULFILLMENT_AVAILABILITY}"})
    return apply_patches(sandbox, seller_id, sku, marketplace_ids_, patches, now, apply=True)


def delete_listing(
    sandbox: Sandbox, seller_id: str, sku: str, marketplace_ids_: list[str], now: datetime
) -> list[Issue]:
    """Remove a listing from the given marketplaces; gone from all, it is deleted."""
    listing = find_listing(sandbox, seller_id, sku)
    if listing is None or not set(marketplace_ids_) & set(listing.marketplace_ids):
        return [unknown_sku(sku)]
    listing.marketplace_ids = [m for m in listing.marketplace_ids if m not in marketplace_ids_]
    for marketplace_id in marketplace_ids_:
        listing.quantities.pop(marketplace_id, None)
        listing.prices.pop(marketplace_id, None)
    listing.updated = now
    if not listing.marketplace_ids:
        del seller_listings(sandbox, seller_id)[sku]
        seller_inventory(sandbox, seller_id).pop(sku, None)
    return []


# --- rendering ------------------------------------------------------------------------------


def _attributes(listing: Listing, marketplace_ids_: list[str]) -> dict[str, Any]:
    availability: list[dict[str, Any]] = []
    for marketplace_id in marketplace_ids_:
        entry: dict[str, Any] = {
            "fulfillment_channel_code": listing.fulfillment_channel,
            "marketplace_id": marketplace_id,
        }
        if not listing.amazon_fulfilled:
            if marketplace_id in listing.quantities:
                entry["quantity"] = listing.quantities[marketplace_id]
            entry["lead_time_to_ship_max_days"] = listing.handling_time
        availability.append(entry)
    return {
        "item_name": [
            {
                "value": listing.title,
                "language_tag": BY_ID[mid].language,
                "marketplace_id": mid,
            }
            for mid in marketplace_ids_
        ],
        "condition_type": [
            {"value": listing.condition, "marketplace_id": mid} for mid in marketplace_ids_
        ],
        FULFILLMENT_AVAILABILITY: availability,
        **listing.attributes,
    }


def _fulfillment_availability(
    sandbox: Sandbox, seller_id: str, listing: Listing, marketplace_ids_: list[str]
) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {"fulfillmentChannelCode": listing.fulfillment_channel}
    first = marketplace_ids_[0]
    if listing.amazon_fulfilled or first in listing.quantities:
        entry["quantity"] = available(sandbox, seller_id, listing, first)
    return [entry]


def render_item(
    sandbox: Sandbox,
    seller_id: str,
    listing: Listing,
    marketplace_ids_: list[str],
    included: list[str],
) -> dict[str, Any]:
    """A Listings API ``Item`` with the parts in ``included``, for the listed marketplaces."""
    listed = [mid for mid in marketplace_ids_ if mid in listing.marketplace_ids]
    item: dict[str, Any] = {"sku": listing.sku}
    if "summaries" in included:
        summaries = []
        for mid in listed:
            summary: dict[str, Any] = {
                "marketplaceId": mid,
                "asin": listing.asin,
                "productType": listing.product_type,
                "conditionType": listing.condition,
                "status": listing_status(sandbox, seller_id, listing, mid),
                "itemName": listing.title,
                "createdDate": iso(listing.created),
                "lastUpdatedDate": iso(listing.updated),
            }
            inventory = seller_inventory(sandbox, seller_id).get(listing.sku)
            if inventory is not None:
                summary["fnSku"] = inventory.fnsku
            summaries.append(summary)
        item["summaries"] = summaries
    if "attributes" in included:
        item["attributes"] = _attributes(listing, listed)
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        item["offers"] = [
            {
                "marketplaceId": mid,
                "offerType": "B2C",
                "price": {
                    "currencyCode": BY_ID[mid].currency,
                    "amount": str(listing.prices[mid]),
                },
            }
            for mid in listed
            if mid in listing.prices
        ]
    if "fulfillmentAvailability" in included and listed:
        item["fulfillmentAvailability"] = _fulfillment_availability(
            sandbox, seller_id, listing, listed
        )
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": mid, "relationships": []} for mid in listed]
    if "productTypes" in included:
        item["productTypes"] = [
            {"marketplaceId": mid, "productType": listing.product_type} for mid in listed
        ]
    return item


# --- request parameters ---------------------------------------------------------------------


def _own_seller(call: Call) -> str:
    seller_id = call.path["sellerId"]
    if seller_id != call.seller.seller_id:
        raise unauthorized(
            f"The sellerId {seller_id} is not the selling partner that authorised this token."
        )
    return seller_id


# --- Listings Items API ---------------------------------------------------------------------


@api.operation("listings.getListingsItem")
def get_listings_item(call: Call) -> Reply:
    seller_id = _own_seller(call)
    marketplaces = call.marketplaces()
    included = call.choices("includedData", ITEM_DATA, ("summaries",))
    sku = call.path["sku"]
    listing = find_listing(call.sandbox, seller_id, sku)
    if listing is None or not set(marketplaces) & set(listing.marketplace_ids):
        raise not_found(f"SKU '{sku}' not found in marketplace(s) {', '.join(marketplaces)}.")
    return Reply(body=render_item(call.sandbox, seller_id, listing, marketplaces, included))


def _submission_id(sandbox: Sandbox) -> str:
    digits = f"{sandbox.random.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


@api.operation("listings.patchListingsItem")
def patch_listings_item(call: Call) -> Reply:
    seller_id = _own_seller(call)
    marketplaces = call.marketplaces()
    included = call.choices("includedData", SUBMISSION_DATA, ("issues",))
    preview = call.choice("mode", ("VALIDATION_PREVIEW",), None) is not None
    if "identifiers" in included and not preview:
        raise invalid_input(
            "includedData=identifiers can only be requested with mode=VALIDATION_PREVIEW."
        )
    sku = call.path["sku"]
    issues = apply_patches(
        call.sandbox,
        seller_id,
        sku,
        marketplaces,
        call.body["patches"],
        call.now,
        apply=not preview,
    )
    valid = not any(issue.severity == "ERROR" for issue in issues)
    body: dict[str, Any] = {
        "sku": sku,
        "status": ("VALID" if valid else "INVALID")
        if preview
        else ("ACCEPTED" if valid else "INVALID"),
        "submissionId": _submission_id(call.sandbox),
    }
    if "issues" in included:
        body["issues"] = [issue.as_listings_issue() for issue in issues]
    if "identifiers" in included:
        listing = find_listing(call.sandbox, seller_id, sku)
        body["identifiers"] = (
            []
            if listing is None
            else [{"marketplaceId": mid, "asin": listing.asin} for mid in marketplaces]
        )
    return Reply(body=body)


def _identified(
    sandbox: Sandbox, seller_id: str, listing: Listing, kind: str, identifiers: list[str]
) -> bool:
    if kind == "SKU":
        return listing.sku in identifiers
    if kind == "ASIN":
        return listing.asin in identifiers
    if kind in ("EAN", "GTIN"):
        return listing.gtin in identifiers
    if kind == "FNSKU":
        inventory = seller_inventory(sandbox, seller_id).get(listing.sku)
        return inventory is not None and inventory.fnsku in identifiers
    return False  # ISBN, JAN, MINSAN, UPC: the sandbox's products have none


@dataclass(frozen=True)
class _Search:
    """The filters of a ``searchListingsItems`` call."""

    marketplace_ids: list[str]
    identifiers: list[str]
    identifiers_type: str | None
    family_filter: bool
    created_after: datetime | None
    created_before: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    issue_filter: bool
    with_status: list[str]
    without_status: list[str]

    def matches(self, sandbox: Sandbox, seller_id: str, listing: Listing) -> bool:
        listed = [mid for mid in self.marketplace_ids if mid in listing.marketplace_ids]
        if not listed or self.family_filter or self.issue_filter:
            return False
        if self.identifiers_type and not _identified(
            sandbox, seller_id, listing, self.identifiers_type, self.identifiers
        ):
            return False
        if (self.created_after and listing.created < self.created_after) or (
            self.created_before and listing.created > self.created_before
        ):
            return False
        if (self.updated_after and listing.updated < self.updated_after) or (
            self.updated_before and listing.updated > self.updated_before
        ):
            return False
        statuses = {s for mid in listed for s in listing_status(sandbox, seller_id, listing, mid)}
        if self.with_status and not statuses & set(self.with_status):
            return False
        return not statuses & set(self.without_status)


def _search_filters(call: Call, marketplaces: list[str]) -> _Search:
    identifiers = call.query_list("identifiers")
    identifiers_type = call.choice("identifiersType", IDENTIFIER_TYPES, None)
    if bool(identifiers) != bool(identifiers_type):
        raise invalid_input("identifiers and identifiersType must be given together.")
    if len(identifiers) > SEARCH_IDENTIFIERS_MAX:
        raise invalid_input(f"At most {SEARCH_IDENTIFIERS_MAX} identifiers can be given.")
    family = bool(call.query("variationParentSku") or call.query("packageHierarchySku"))
    if family and identifiers:
        raise invalid_input(
            "identifiers cannot be combined with variationParentSku or packageHierarchySku."
        )
    return _Search(
        marketplace_ids=marketplaces,
        identifiers=identifiers,
        identifiers_type=identifiers_type,
        family_filter=family,
        created_after=call.time("createdAfter"),
        created_before=call.time("createdBefore"),
        updated_after=call.time("lastUpdatedAfter"),
        updated_before=call.time("lastUpdatedBefore"),
        issue_filter=bool(call.choices("withIssueSeverity", ("WARNING", "ERROR"), ())),
        with_status=call.choices("withStatus", STATUSES, ()),
        without_status=call.choices("withoutStatus", STATUSES, ()),
    )


def _sort_key(listing: Listing, sort_by: str) -> tuple[Any, str]:
    if sort_by == "sku":
        return (listing.sku, listing.sku)
    return (listing.created if sort_by == "createdDate" else listing.updated, listing.sku)


@api.operation("listings.searchListingsItems")
def search_listings_items(call: Call) -> Reply:
    seller_id = _own_seller(call)
    marketplaces = call.marketplaces()
    included = call.choices("includedData", ITEM_DATA, ("summaries",))
    page_size = call.integer(
        "pageSize", default=SEARCH_PAGE_SIZE, lowest=1, highest=SEARCH_PAGE_MAX
    )
    search = _search_filters(call, marketplaces)
    sort_by = call.choice("sortBy", SORT_FIELDS, "lastUpdatedDate") or "lastUpdatedDate"
    descending = call.choice("sortOrder", ("ASC", "DESC"), "DESC") == "DESC"
    fingerprint = hashlib.sha256(
        json.dumps(
            [seller_id, *(call.query_list(name) for name in SEARCH_FILTERS)], sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    offset = 0
    token = call.query("pageToken")
    if token is not None:
        data = decode_token(token, "pageToken")
        offset = data.get("offset", -1)
        if data.get("search") != fingerprint or not _whole_number(offset):
            raise invalid_input("Invalid pageToken: it belongs to another search.")
    found = sorted(
        (
            listing
            for listing in seller_listings(call.sandbox, seller_id).values()
            if search.matches(call.sandbox, seller_id, listing)
        ),
        key=lambda listing: _sort_key(listing, sort_by),
        reverse=descending,
    )
    page = found[offset : offset + page_size]
    body: dict[str, Any] = {
        "numberOfResults": len(found),
        "items": [
            render_item(call.sandbox, seller_id, listing, marketplaces, included)
            for listing in page
        ],
    }
    pagination: dict[str, str] = {}
    if offset + page_size < len(found):
        pagination["nextToken"] = encode_token(
            {"search": fingerprint, "offset": offset + page_size}
        )
    if offset > 0:
        pagination["previousToken"] = encode_token(
            {"search": fingerprint, "offset": max(offset - page_size, 0)}
        )
    if pagination:
        body["pagination"] = pagination
    return Reply(body=body)


# --- FBA Inventory API ----------------------------------------------------------------------


def _inventory_summary(listing: Listing, inventory: FbaInventory, details: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "asin": listing.asin,
        "fnSku": inventory.fnsku,
        "sellerSku": listing.sku,
        "condition": "NewItem",
        "productName": listing.title,
        "lastUpdatedTime": iso(inventory.last_updated),
        "totalQuantity": inventory.total,
    }
    if details:
        summary["inventoryDetails"] = {
            "fulfillableQuantity": inventory.fulfillable,
            "inboundWorkingQuantity": inventory.inbound_working,
            "inboundShippedQuantity": inventory.inbound_shipped,
            "inboundReceivingQuantity": inventory.inbound_receiving,
            "reservedQuantity": {
                "totalReservedQuantity": inventory.reserved,
                "pendingCustomerOrderQuantity": inventory.reserved_pending_customer_order,
                "pendingTransshipmentQuantity": inventory.reserved_transshipment,
                "fcProcessingQuantity": inventory.reserved_fc_processing,
            },
            "researchingQuantity": {"totalResearchingQuantity": inventory.researching},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": inventory.unfulfillable},
        }
    return summary


def _inventory_query(call: Call, marketplace_id: str) -> InventoryQuery:
    """Where this call starts: a fresh query, or the page its ``nextToken`` points to."""
    state = call.sandbox.state.listings
    state.inventory_tokens = {
        key: token for key, token in state.inventory_tokens.items() if token.expires_at > call.now
    }
    next_token = call.query("nextToken")
    if next_token is not None:
        token = state.inventory_tokens.get(next_token)
        if token is None or token.seller_id != call.seller.seller_id:
            raise invalid_input("The nextToken is invalid or has expired.")
        if token.marketplace_id != marketplace_id:
            raise invalid_input("The nextToken was issued for another marketplace.")
        return token
    start = call.time("startDateTime")
    if start is not None and start < call.now - INVENTORY_HISTORY:
        raise invalid_input("startDateTime cannot be more than 18 months in the past.")
    skus = call.query_list("sellerSkus")
    if len(skus) > INVENTORY_SKUS_MAX:
        raise invalid_input(f"At most {INVENTORY_SKUS_MAX} sellerSkus can be given.")
    single = call.query("sellerSku")
    return InventoryQuery(
        seller_id=call.seller.seller_id,
        marketplace_id=marketplace_id,
        start=start,
        skus=None if start is not None else (skus or ([single] if single else None)),
    )


@api.operation("fbaInventory.getInventorySummaries")
def get_inventory_summaries(call: Call) -> Reply:
    details = call.choice("details", ("true", "false"), "false") == "true"
    if call.required("granularityType") != "Marketplace":
        raise invalid_input("granularityType must be Marketplace.")
    granularity_id = call.required("granularityId")
    marketplaces = call.marketplaces()
    if len(marketplaces) != 1:
        raise invalid_input("marketplaceIds takes exactly one marketplace.")
    if granularity_id != marketplaces[0]:
        raise invalid_input("granularityId must be the marketplace in marketplaceIds.")
    query = _inventory_query(call, granularity_id)
    seller_id = call.seller.seller_id
    inventory = seller_inventory(call.sandbox, seller_id)
    rows = [
        (listing, inventory[listing.sku])
        for listing in sorted(
            seller_listings(call.sandbox, seller_id).values(), key=lambda item: item.sku
        )
        if listing.sku in inventory
        and granularity_id in listing.marketplace_ids
        and (query.skus is None or listing.sku in query.skus)
        and (query.start is None or inventory[listing.sku].last_updated >= query.start)
    ]
    page = rows[query.offset : query.offset + INVENTORY_PAGE_SIZE]
    body: dict[str, Any] = {
        "payload": {
            "granularity": {"granularityType": "Marketplace", "granularityId": granularity_id},
            "inventorySummaries": [
                _inventory_summary(listing, stock, details) for listing, stock in page
            ],
        }
    }
    if query.offset + INVENTORY_PAGE_SIZE < len(rows):
        token = call.sandbox.random_token(64)
        call.sandbox.state.listings.inventory_tokens[token] = InventoryToken(
            **query.model_dump(exclude={"offset"}),
            offset=query.offset + INVENTORY_PAGE_SIZE,
            expires_at=call.now + timedelta(seconds=call.sandbox.config.inventory_token_seconds),
        )
        body["pagination"] = {"nextToken": token}
    return Reply(body=body)


# --- admin ----------------------------------------------------------------------------------


class ListingChange(BaseModel):
    """``PUT /_sandbox/listings/{seller_id}/{sku}``: create a listing or change some of it."""

    model_config = ConfigDict(extra="forbid")

    asin: str | None = None
    title: str | None = None
    product_type: str | None = None
    fulfillment_channel: Channel | None = None
    marketplaces: list[str] | None = None
    """Where it is listed (ids or codes such as DE); new listings default to all the seller's."""
    quantity: int | None = Field(default=None, ge=0)
    """The DEFAULT quantity on all its marketplaces."""
    quantities: dict[str, int] | None = None
    """The DEFAULT quantity per marketplace (ids or codes)."""
    prices: dict[str, Decimal] | None = None
    handling_time: int | None = Field(default=None, ge=0)
    active: bool | None = None


class InventoryChange(BaseModel):
    """``PUT /_sandbox/inventory/{seller_id}/{sku}``: set some FBA figures of a SKU."""

    model_config = ConfigDict(extra="forbid")

    fulfillable: int | None = Field(default=None, ge=0)
    inbound_working: int | None = Field(default=None, ge=0)
    inbound_shipped: int | None = Field(default=None, ge=0)
    inbound_receiving: int | None = Field(default=None, ge=0)
    reserved_pending_customer_order: int | None = Field(default=None, ge=0)
    reserved_transshipment: int | None = Field(default=None, ge=0)
    reserved_fc_processing: int | None = Field(default=None, ge=0)
    researching: int | None = Field(default=None, ge=0)
    unfulfillable: int | None = Field(default=None, ge=0)


def _per_marketplace(seller: Seller, values: dict[str, Any]) -> dict[str, Any]:
    keyed = dict(zip(marketplace_ids(list(values)), values.values(), strict=True))
    check_marketplaces(seller, list(keyed))
    return keyed


def _new_listing(sandbox: Sandbox, seller: Seller, sku: str, now: datetime) -> Listing:
    random_ = random.Random(f"{sandbox.config.seed}:{seller.seller_id}:{sku}:listing")
    return Listing(
        sku=sku,
        asin="B0" + "".join(random_.choice(_ALPHANUMERIC) for _ in range(8)),
        product_type="PRODUCT",
        title=sku,
        marketplace_ids=list(seller.marketplace_ids),
        created=now,
        updated=now,
    )


def _change_listing(
    sandbox: Sandbox, seller: Seller, listing: Listing, change: ListingChange, now: datetime
) -> None:
    if change.marketplaces is not None:
        listing.marketplace_ids = marketplace_ids(change.marketplaces)
        check_marketplaces(seller, listing.marketplace_ids)
    for name in ("asin", "title", "product_type", "handling_time", "active"):
        value = getattr(change, name)
        if value is not None:
            setattr(listing, name, value)
    if change.prices is not None:
        listing.prices.update(_per_marketplace(seller, change.prices))
    inventory = seller_inventory(sandbox, seller.seller_id)
    if change.fulfillment_channel is not None:
        listing.fulfillment_channel = change.fulfillment_channel
    if listing.amazon_fulfilled:
        if change.quantity is not None or change.quantities is not None:
            raise invalid_input(
                f"{listing.sku} is fulfilled by Amazon: set its units with "
                f"PUT /_sandbox/inventory/{seller.seller_id}/{listing.sku}."
            )
        listing.quantities = {}
        if listing.sku not in inventory:
            random_ = random.Random(f"{sandbox.config.seed}:{seller.seller_id}:{listing.sku}:fba")
            inventory[listing.sku] = FbaInventory(fnsku=_fnsku(random_), last_updated=now)
    else:
        quantities = _per_marketplace(seller, change.quantities or {})
        if not all(_whole_number(quantity) for quantity in quantities.values()):
            raise invalid_input("Quantities must be whole numbers of 0 or more.")
        if change.quantity is not None:
            listing.quantities.update(dict.fromkeys(listing.marketplace_ids, change.quantity))
        listing.quantities.update(quantities)
        inventory.pop(listing.sku, None)
    listing.quantities = {
        mid: q for mid, q in listing.quantities.items() if mid in listing.marketplace_ids
    }
    listing.updated = now


@api.admin("PUT", "/_sandbox/listings/{seller_id}/{sku}")
async def put_listing(sandbox: Sandbox, request: Request) -> Any:
    """Create a listing or change it, e.g. ``{"quantity": 5}`` or ``{"quantities": {"DE": 0}}``."""
    seller = sandbox.known_seller(request.path_params["seller_id"])
    sku = request.path_params["sku"]
    try:
        change = ListingChange.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid listing change.", str(error)) from None
    now = sandbox.now()
    current = find_listing(sandbox, seller.seller_id, sku)
    listing = (current or _new_listing(sandbox, seller, sku, now)).model_copy(deep=True)
    _change_listing(sandbox, seller, listing, change, now)
    seller_listings(sandbox, seller.seller_id)[sku] = listing
    return listing.model_dump(mode="json")


class BulkListings(BaseModel):
    """``POST /_sandbox/listings/{seller_id}/bulk``: many merchant-fulfilled listings at once
    (SKUs ``{prefix}000001`` ...), for tests and benchmarks of sellers with large catalogues."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=1_000_000)
    prefix: str = Field(default="BULK-", min_length=1, max_length=30)
    quantity: int = Field(default=0, ge=0)
    """The DEFAULT quantity on each of its marketplaces."""
    marketplaces: list[str] | None = None
    """Where they are listed (ids or codes); by default all the seller's marketplaces."""


@api.admin("POST", "/_sandbox/listings/{seller_id}/bulk")
async def bulk_listings(sandbox: Sandbox, request: Request) -> Any:
    seller = sandbox.known_seller(request.path_params["seller_id"])
    try:
        bulk = BulkListings.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid bulk listings.", str(error)) from None
    chosen = marketplace_ids(bulk.marketplaces) if bulk.marketplaces else seller.marketplace_ids
    check_marketplaces(seller, chosen)
    now = sandbox.now()
    listings = seller_listings(sandbox, seller.seller_id)
    for index in range(1, bulk.count + 1):
        sku = f"{bulk.prefix}{index:06d}"
        listings[sku] = Listing(
            sku=sku,
            asin=f"B{index:09d}",
            product_type="PRODUCT",
            title=f"Article {sku}",
            marketplace_ids=list(chosen),
            quantities=dict.fromkeys(chosen, bulk.quantity),
            created=now,
            updated=now,
        )
    return {"seller_id": seller.seller_id, "created": bulk.count}


@api.admin("PUT", "/_sandbox/inventory/{seller_id}/{sku}")
async def put_inventory(sandbox: Sandbox, request: Request) -> Any:
    """Set FBA figures of an FBA SKU, e.g. ``{"fulfillable": 40, "inbound_shipped": 12}``."""
    seller = sandbox.known_seller(request.path_params["seller_id"])
    sku = request.path_params["sku"]
    try:
        change = InventoryChange.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid inventory change.", str(error)) from None
    inventory = seller_inventory(sandbox, seller.seller_id).get(sku)
    if inventory is None:
        raise not_found(f"{seller.seller_id} has no SKU {sku} fulfilled by Amazon.")
    for name, value in change.model_dump(exclude_none=True).items():
        setattr(inventory, name, value)
    inventory.last_updated = sandbox.now()
    return inventory.model_dump(mode="json")


@api.admin("GET", "/_sandbox/listings")
def get_listings(sandbox: Sandbox, request: Request) -> Any:
    """Per seller, SKU and marketplace: channel, quantity (FBA: fulfillable units), status."""
    wanted = request.query_params.get("seller_id")
    rows: list[dict[str, Any]] = []
    for seller_id, listings in sandbox.state.listings.listings.items():
        if wanted is not None and seller_id != wanted:
            continue
        for listing in listings.values():
            for mid in listing.marketplace_ids:
                rows.append(
                    {
                        "seller_id": seller_id,
                        "sku": listing.sku,
                        "asin": listing.asin,
                        "marketplace_id": mid,
                        "marketplace": BY_ID[mid].code,
                        "fulfillment_channel": listing.fulfillment_channel,
                        "quantity": (
                            available(sandbox, seller_id, listing, mid)
                            if listing.amazon_fulfilled or mid in listing.quantities
                            else None
                        ),
                        "handling_time": listing.handling_time,
                        "status": listing_status(sandbox, seller_id, listing, mid),
                        "updated": iso(listing.updated),
                    }
                )
    return rows
