"""How a sandbox instance behaves: its speed, its randomness and where it keeps its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 1
    """Seed of everything random: generated orders, credentials of the default seller, faults."""
    orders: int = 0
    """Orders generated for the default seller at start-up."""
    time_scale: float = 1.0
    """Multiplies every rate limit and divides every processing delay: 600 makes a quota-bound
    run that takes an hour at Amazon's default plans finish in six seconds."""
    state_file: Path | None = None
    """Where the state is kept between runs (JSON); ``None`` keeps it in memory only."""
    anchor: datetime | None = None
    """The moment generated orders are dated back from; ``None`` is the start-up time. Fixing it
    makes two runs with the same seed produce identical orders."""
    feed_queue_seconds: float = 30.0
    feed_processing_seconds: float = 90.0
    report_processing_seconds: float = 60.0
    vcs_invoice_delay_seconds: float = 3 * 24 * 3600.0
    """How long after a shipment Amazon's VAT calculation report shows its invoice (Amazon:
    three days); scaled by the time scale like every delay."""
    document_url_seconds: float = 300.0
    """Lifetime of a pre-signed document URL (Amazon: 5 minutes)."""
    search_token_seconds: float = 24 * 3600.0
    """Lifetime of a ``searchOrders`` pagination token (Amazon: 24 hours)."""
    inventory_token_seconds: float = 30.0
    """Lifetime of a ``getInventorySummaries`` next token (Amazon: 30 seconds)."""
    access_token_seconds: int = 3600
    hang_seconds: float = 600.0
    """How long a "hang" fault keeps the request open."""
    require_rdt: bool = True
    """Restricted operations (Merchant Fulfillment, restricted reports) need a Restricted Data
    Token, as on Amazon; switch off to test a client before it handles tokens."""

    def scaled(self, seconds: float) -> float:
        """A processing delay as it passes at this time scale."""
        return seconds / self.time_scale
