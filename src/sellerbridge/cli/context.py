"""What every command needs: the settings, the database, who is acting, and the console."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from functools import cached_property

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from sellerbridge.config import Settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.engine import make_engine
from sellerbridge.db.migrate import current_revision, head_revision
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import SecretBox, secret_box


@dataclass
class CliContext:
    settings: Settings
    # Markup off: names and addresses are printed as they are, never read as styling.
    console: Console = field(default_factory=lambda: Console(markup=False, highlight=False))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.effective_database_url)

    def close(self) -> None:
        """Close the database connections, if any were opened."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    @property
    def database_label(self) -> str:
        """The database URL without its password, fit to show."""
        return make_url(self.settings.effective_database_url).render_as_string(hide_password=True)

    def uow(self) -> UnitOfWork:
        """A unit of work on a database whose schema is up to date, or a clear error."""
        current, head = current_revision(self.engine), head_revision(self.engine)
        if current is None:
            raise DomainError(
                f"The database {self.database_label} is not set up.",
                hint="Run `sellerbridge init` first.",
            )
        if current != head:
            raise DomainError(
                f"The database {self.database_label} has schema {current}; this version needs "
                f"{head}.",
                hint="Run `sellerbridge db upgrade`.",
            )
        return UnitOfWork(self.engine)

    @cached_property
    def secret_box(self) -> SecretBox:
        return secret_box(self.settings)

    @property
    def actor(self) -> str:
        return f"cli:{getpass.getuser()}"


def context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):
        raise RuntimeError("the CLI context was not set up by the main callback")
    return obj
