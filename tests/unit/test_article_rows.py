"""Reading an article from a CSV row: every bad cell is named, with what to do."""

from __future__ import annotations

import pytest

from sellerbridge.core.articles import Component, article_spec, article_spec_from_row
from sellerbridge.core.errors import InvalidFields, InvalidInput
from sellerbridge.core.tax import TaxClass


def test_a_full_row_is_read() -> None:
    spec = article_spec_from_row(
        {
            "article_number": " KAF-1000 ",
            "name": "Espresso 1 kg",
            "gtin": "4006381333931",
            "tax_class": "Reduced",
            "weight_g": "1050",
            "stock_tracked": "ja",
            "allow_backorder": "no",
            "components": "",
        }
    )
    assert spec.number == "KAF-1000"
    assert spec.tax_class is TaxClass.REDUCED
    assert spec.weight_g == 1050
    assert spec.stock_tracked
    assert not spec.allow_backorder


def test_every_bad_cell_of_a_row_is_reported() -> None:
    with pytest.raises(InvalidFields) as raised:
        article_spec_from_row(
            {
                "article_number": "A 1",
                "name": "",
                "gtin": "4006381333932",
                "tax_class": "luxury",
                "weight_g": "-5",
                "stock_tracked": "maybe",
            }
        )
    fields = [problem.field for problem in raised.value.problems]
    assert fields == ["article_number", "name", "gtin", "tax_class", "weight_g", "stock_tracked"]
    text = str(raised.value)
    assert "check digit" in text
    assert "standard, reduced, super_reduced, zero" in text


def test_bundles_are_never_stock_tracked_themselves() -> None:
    spec = article_spec_from_row(
        {"article_number": "SET", "name": "Set", "components": "A-1:2; B-2", "stock_tracked": "1"}
    )
    assert spec.components == (Component("A-1", 2), Component("B-2", 1))
    assert spec.is_bundle
    assert not spec.stock_tracked


@pytest.mark.parametrize(
    ("components", "message"),
    [("A-1:0", "at least 1"), ("A-1; A-1", "listed twice"), ("A-1:x", "whole number")],
)
def test_bad_components_are_explained(components: str, message: str) -> None:
    with pytest.raises(InvalidFields, match=message):
        article_spec_from_row({"article_number": "SET", "name": "Set", "components": components})


def test_a_bundle_cannot_contain_itself() -> None:
    with pytest.raises(InvalidInput, match="component of itself"):
        article_spec(number="SET", name="Set", components=(Component("SET", 1),))
