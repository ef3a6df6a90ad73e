from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sellerbridge.core.errors import InvalidInput
from sellerbridge.core.numbering import SeriesFormat


def test_numbers_are_padded_and_the_year_filled_in() -> None:
    at = datetime(2026, 11, 27, tzinfo=UTC)
    assert SeriesFormat("RE-{year}-", 5).format(42, at) == "RE-2026-00042"
    assert SeriesFormat("SO-", 6).format(1234567, at) == "SO-1234567"


def test_unknown_placeholders_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"\{month\}"):
        SeriesFormat("RE-{month}-", 5)
