"""Persistence: SQLAlchemy 2.0 models, Alembic migrations, engines and the unit of work.

SQLite (embedded, the default) and PostgreSQL (when a merchant outgrows one machine) are both
first-class: every database test runs on both.
"""
