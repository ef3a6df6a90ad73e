"""Reports API 2021-06-30 and the reports it generates. (Being built.)"""

from __future__ import annotations

from pydantic import BaseModel

from sellerbridge.sandbox.framework import Api

api = Api()


class ReportsState(BaseModel):
    pass
