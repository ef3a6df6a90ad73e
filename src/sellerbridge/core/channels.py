"""Sales channels: where orders come from.

A channel is a named source of orders with its own warehouse and number series: "manual" for
orders typed in by the merchant, and one channel per Amazon account, marketplace and
fulfilment type (e.g. ``amazon-de-fbm``), the equivalent of Xentral's ``de_FBM`` projects.
"""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    MANUAL = "manual"
    AMAZON = "amazon"
