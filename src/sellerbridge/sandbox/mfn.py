"""Merchant Fulfillment API v0 (Amazon Buy Shipping). (Being built.)"""

from __future__ import annotations

from pydantic import BaseModel

from sellerbridge.sandbox.framework import Api

api = Api()


class MfnState(BaseModel):
    pass
