"""Structured logs that never carry a secret or personal data.

Every log line is a set of named fields (structlog). Before a line is written, one processor
replaces the value of any field whose name says it holds a secret (token, secret, password,
authorization, ...) or personal data (name, address, e-mail, phone, ...) with ``"[redacted]"``,
however deeply it is nested. Code should not log such fields in the first place; this is the
net under that rule, and ``tests/unit/test_logs.py`` holds it in place.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

_SENSITIVE = re.compile(
    r"token|secret|password|passwd|authorization|api[_-]?key|credential|cookie|"
    r"(^|_)name$|buyer|recipient|address|street|postal|zip|city|e-?mail|phone|vat[_-]?id",
    re.IGNORECASE,
)
_ALLOWED = frozenset({"event", "logger", "level", "timestamp", "operation"})


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _sensitive(str(key)) else _redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


def _sensitive(key: str) -> bool:
    return key not in _ALLOWED and bool(_SENSITIVE.search(key))


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank every field that may hold a secret or personal data."""
    for key in list(event_dict):
        if _sensitive(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


class _StandardError:
    """Standard error as it is when a line is written (tests and runners replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", *, json: bool = False) -> None:
    """Set up structlog (and the standard library's logging it writes through) once."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    # Tracebacks without local variables: a frame's locals can hold a token or an address.
    renderers: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_StandardError()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
