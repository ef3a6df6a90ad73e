"""Orders API 2026-01-01 (searchOrders, getOrder) and Orders v0 confirmShipment. (Being built.)"""

from __future__ import annotations

from sellerbridge.sandbox.framework import Api

api = Api()
