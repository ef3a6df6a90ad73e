"""Background work with Huey: idempotent reconcilers per account, run on a schedule.

Each task looks at the database to decide what to do ("import what changed for every account
that imports automatically"), so a task message that is lost or delivered twice is harmless:
the state lives in the database, and the order import holds a lock per account that a crashed
worker gives back. Huey keeps its queue in a SQLite file in the data directory, or in Redis
when ``SELLERBRIDGE_REDIS_URL`` is set (several machines).
"""

from __future__ import annotations

from sellerbridge.jobs.app import Jobs, build_jobs

__all__ = ["Jobs", "build_jobs"]
