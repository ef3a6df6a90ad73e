"""Free text typed by people: trimmed, length-checked, empty treated as absent."""

from __future__ import annotations

from sellerbridge.core.errors import InvalidInput


def clean_text(value: str | None, *, field: str, max_length: int) -> str | None:
    """Trim ``value``; ``None`` if empty; refuse it if longer than ``max_length`` characters."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > max_length:
        raise InvalidInput(
            field,
            f"is {len(text)} characters long; at most {max_length} fit",
            hint="Shorten it.",
        )
    return text


def required_text(value: str | None, *, field: str, max_length: int, hint: str) -> str:
    """Like :func:`clean_text`, but an empty value is refused with ``hint``."""
    text = clean_text(value, field=field, max_length=max_length)
    if text is None:
        raise InvalidInput(field, "is empty", hint=hint)
    return text
