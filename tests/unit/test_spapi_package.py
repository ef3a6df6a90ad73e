"""The SP-API client's public API is exactly what ``__all__`` lists (as httpx checks its own)."""

from __future__ import annotations

import types

from sellerbridge.channels.amazon import spapi


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(spapi).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(spapi.__all__) == public
    assert len(spapi.__all__) == len(set(spapi.__all__))


def test_every_error_is_an_sp_api_error() -> None:
    errors = [
        getattr(spapi, name)
        for name in spapi.__all__
        if isinstance(getattr(spapi, name), type) and name.endswith("Error")
    ]
    assert {error.__name__ for error in errors} == {
        "SpApiError",
        "ThrottledError",
        "RetryableError",
        "UnreachableError",
        "AmbiguousError",
        "RejectedError",
        "AuthError",
    }
    assert all(issubclass(error, spapi.SpApiError) for error in errors)
    assert issubclass(spapi.AmbiguousError, spapi.RetryableError)
    assert issubclass(spapi.UnreachableError, spapi.RetryableError)
