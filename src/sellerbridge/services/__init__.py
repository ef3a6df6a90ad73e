"""Use cases: what the CLI, the web app and the jobs ask the system to do.

Each public use case takes a :class:`~sellerbridge.db.uow.UnitOfWork` and runs in exactly one
transaction: it commits all of its effects or none. Functions that take a ``Session`` instead
are building blocks that run inside the caller's transaction.
"""
