from __future__ import annotations

import pytest

from sellerbridge.core.errors import InvalidInput
from sellerbridge.core.numbering import SeriesFormat


def test_numbers_are_padded_to_the_width() -> None:
    assert SeriesFormat("SO-", 6).format(42) == "SO-000042"
    assert SeriesFormat("SO-", 6).format(1234567) == "SO-1234567"  # grows, never wraps


def test_a_width_outside_1_to_12_is_refused() -> None:
    with pytest.raises(InvalidInput, match="between 1 and 12"):
        SeriesFormat("SO-", 0)
