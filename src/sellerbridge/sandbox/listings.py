"""Listings Items API 2021-08-01 and FBA Inventory API v1. (Being built.)"""

from __future__ import annotations

from pydantic import BaseModel

from sellerbridge.sandbox.framework import Api

api = Api()


class ListingsState(BaseModel):
    pass
