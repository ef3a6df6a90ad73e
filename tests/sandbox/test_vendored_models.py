"""The models the sandbox reads are Amazon's, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from sellerbridge.sandbox.spec import SPAPI

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "spapi"


@pytest.mark.skipif(not REFERENCE.exists(), reason="the reference copy ../shared/spapi is absent")
def test_vendored_models_equal_the_reference_copy() -> None:
    vendored = Path(str(SPAPI))
    files = sorted(p for p in vendored.rglob("*") if p.is_file() and p.name != "SOURCE.md")
    assert len(files) > 10
    for path in files:
        relative = path.relative_to(vendored)
        assert path.read_bytes() == (REFERENCE / relative).read_bytes(), relative
