"""Log lines never carry a secret or personal data, whatever the code logs by mistake."""

from __future__ import annotations

import json

import pytest
import structlog

from sellerbridge.logs import REDACTED, configure

CANARY = "Canary-7f3a Kaffeestraße 9"


def test_fields_named_like_secrets_or_personal_data_are_blanked_however_deep(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(json=True)
    structlog.get_logger().info(
        "imported",
        operation="orders.searchOrders",
        refresh_token=CANARY,
        buyer={"buyer_name": CANARY},
        orders=[{"order_id": "302-1", "shipping_address": {"street": CANARY}}],
        count=3,
    )
    line = json.loads(capsys.readouterr().err)
    assert CANARY not in json.dumps(line)
    assert line["refresh_token"] == REDACTED
    assert line["buyer"] == REDACTED
    assert line["orders"] == [{"order_id": "302-1", "shipping_address": REDACTED}]
    assert (line["operation"], line["count"]) == ("orders.searchOrders", 3)


@pytest.mark.parametrize("as_json", [False, True])
def test_a_logged_traceback_does_not_show_local_variables(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    configure(json=as_json)

    def fail(token: str) -> None:
        raise RuntimeError("the call failed")

    try:
        fail(CANARY)
    except RuntimeError:
        structlog.get_logger().exception("call failed")
    output = capsys.readouterr().err
    assert "RuntimeError: the call failed" in output
    assert CANARY not in output
