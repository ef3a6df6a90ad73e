"""The quantity to offer: free stock, less the buffer, within threshold and caps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sellerbridge.core.errors import InvalidInput
from sellerbridge.core.offers import OfferRule, bundle_available, quantity_to_offer


@pytest.mark.parametrize(
    ("available", "rule", "backorder", "expected"),
    [
        (10, OfferRule(), False, 10),
        (-2, OfferRule(), False, 0),  # more reserved than on hand: nothing to offer
        (10, OfferRule(buffer=3), False, 7),
        (2, OfferRule(buffer=3), False, 0),
        # 10 % of 15 is 1.5, kept back as 2 whole units: 15 - 2 = 13
        (15, OfferRule(buffer_percent=Decimal(10)), False, 13),
        # 2 units and 10 % of 40 (4): 40 - 6 = 34
        (40, OfferRule(buffer=2, buffer_percent=Decimal(10)), False, 34),
        (4, OfferRule(zero_below=5), False, 0),  # fewer than 5 would show: offer none
        (5, OfferRule(zero_below=5), False, 5),
        (500, OfferRule(maximum=100), False, 100),
        (0, OfferRule(minimum=3), False, 0),  # a minimum never sells stock that is not there
        (0, OfferRule(minimum=3), True, 3),  # ... unless the article may be sold without it
        (50, OfferRule(minimum=3, maximum=20), True, 20),
    ],
)
def test_quantity_to_offer(available: int, rule: OfferRule, backorder: bool, expected: int) -> None:
    assert quantity_to_offer(available, rule, backorder=backorder) == expected


def test_a_bundle_offers_what_its_scarcest_component_allows() -> None:
    # A bundle of 2 × article 1 and 1 × article 2: 7 // 2 = 3 and 5 // 1 = 5 → 3 bundles.
    assert bundle_available([(1, 2), (2, 1)], {1: 7, 2: 5}) == 3
    assert bundle_available([(1, 2), (2, 1)], {1: 7}) == 0  # a component with no stock
    assert bundle_available([(1, 1)], {1: -4}) == 0


@pytest.mark.parametrize(
    "values",
    [{"buffer": -1}, {"buffer_percent": Decimal(101)}, {"minimum": 5, "maximum": 4}],
)
def test_a_rule_that_makes_no_sense_is_refused(values: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        OfferRule(**values)  # type: ignore[arg-type]
