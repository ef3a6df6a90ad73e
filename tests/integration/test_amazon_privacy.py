"""Personal data stays where it belongs, and credentials are unreadable at rest.

Buyers' names, e-mail addresses and streets go into the orders (that is their purpose) and
nowhere else: not into log lines, not into the call log, not into the requests Amazon sees. The
refresh token and the client secret are stored encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from sellerbridge import logs
from sellerbridge.db.base import Base
from sellerbridge.db.models import SpApiCall
from tests.amazon import Shop

CANARY = "Kanarienvogel-7Q2"


def personal_data(shop: Shop) -> set[str]:
    """Every buyer's name, e-mail and street in the sandbox: each must stay in the orders."""
    values = set()
    for order in shop.sandbox_orders():
        address = order.shipping_address
        values |= {order.buyer_name, order.buyer_email, address.name, address.line1}
    return {value for value in values if value and len(value) >= 6}


def table_text(engine: Engine, table: str) -> str:
    with engine.connect() as connection:
        rows = connection.execute(text(f'SELECT * FROM "{table}"'))
        return "\n".join(json.dumps([str(value) for value in row]) for row in rows)


def test_personal_data_appears_in_no_log_line_call_row_or_request(
    start_shop: Callable[..., Shop], capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("DEBUG", json=True)
    shop = start_shop(orders=300)
    shop.place(marketplace="DE", buyer_name=f"Erika {CANARY}", items=[{"sku": "SB-0001"}])
    shop.backfill()
    shop.sync()
    secrets = personal_data(shop)
    assert any(CANARY in value for value in secrets)

    log_lines = capsys.readouterr().err
    assert "orders.searchOrders" in log_lines  # the calls were logged ...
    leaked = [value for value in secrets if value in log_lines]
    assert leaked == []  # ... and said nothing about the buyers

    with shop.uow as uow:
        assert uow.session.scalars(select(SpApiCall)).first() is not None
    calls = table_text(shop.engine, "spapi_calls")
    assert [value for value in secrets if value in calls] == []

    requests = json.dumps(shop.live.admin("GET", "/requests"))
    assert [value for value in secrets if value in requests] == []

    # The orders do carry them: the check above looks for data that is there.
    addresses = table_text(shop.engine, "addresses")
    assert CANARY in addresses


def test_the_refresh_token_and_client_secret_are_not_readable_in_the_database(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.sync()
    secrets = [shop.live.seller.refresh_token, shop.live.app.client_secret]

    everything = "\n".join(
        table_text(shop.engine, table.name) for table in Base.metadata.sorted_tables
    )
    assert shop.live.app.client_id in everything  # the account is there ...
    assert [secret for secret in secrets if secret in everything] == []  # ... encrypted

    if shop.engine.dialect.name == "sqlite":
        database = Path(str(shop.engine.url.database))
        for file in (database, database.with_name(database.name + "-wal")):
            if file.exists():
                content = file.read_bytes()
                assert [s for s in secrets if s.encode() in content] == []
