"""Should this order be imported yet? One named rule, as the classic ERP connectors keep it.

- Orders created before the account's start date, of a marketplace or a fulfilment channel the
  account does not import, are skipped.
- Merchant-fulfilled (FBM) orders are imported once Amazon releases them for shipping
  (UNSHIPPED, PARTIALLY_SHIPPED), and when they are first seen already SHIPPED: they were
  shipped outside sellerbridge (before the account was connected, in a backfill, or through
  Seller Central) and are stored as shipped, so no order of the account is missing.
- Amazon-fulfilled (FBA) orders are imported when Amazon has shipped them.
- PENDING orders (payment not authorised), and FBA orders Amazon is still shipping, wait: a
  later import sees them again, because their status change updates ``lastUpdatedTime``.
- An order cancelled before it was ever imported has nothing to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sellerbridge.channels.amazon.orders.mapper import ImportedOrder

FBM_IMPORTED = frozenset({"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"})
FBA_IMPORTED = frozenset({"SHIPPED"})


class Decision(StrEnum):
    IMPORT = "import"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True)
class ImportRules:
    start_date: datetime
    """Orders created before it are not imported (a backfill moves it back)."""
    taken_over: datetime
    """The account's start date: from then on sellerbridge ships its FBM orders, so one that
    Amazon reports shipped before sellerbridge saw it went out another way."""
    import_fbm: bool
    import_fba: bool
    marketplace_ids: frozenset[str]


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str


def decide(order: ImportedOrder, rules: ImportRules) -> Verdict:
    """Whether ``order``, not imported so far, is imported now."""
    merchant = order.fulfilled_by == "MERCHANT"
    skips = (
        (order.created < rules.start_date, "created before the account's start date"),
        (
            order.marketplace_id not in rules.marketplace_ids,
            f"marketplace {order.marketplace_id} is not imported",
        ),
        (merchant and not rules.import_fbm, "FBM orders are not imported for this account"),
        (not merchant and not rules.import_fba, "FBA orders are not imported for this account"),
        (order.status == "CANCELLED", "cancelled before it was imported"),
    )
    for applies, reason in skips:
        if applies:
            return Verdict(Decision.SKIP, reason)
    if order.status in (FBM_IMPORTED if merchant else FBA_IMPORTED):
        return Verdict(Decision.IMPORT, f"{order.status.lower()} order")
    return Verdict(Decision.WAIT, f"{order.status.lower()}: not ready to import yet")
