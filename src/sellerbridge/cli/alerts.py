"""``sellerbridge alerts``: what needs the operator's attention, and marking it dealt with."""

from __future__ import annotations

from typing import Annotated

import typer

from sellerbridge.cli.context import context
from sellerbridge.cli.render import table, when
from sellerbridge.core.clock import utcnow
from sellerbridge.services.alerts import open_alerts, resolve_alert

app = typer.Typer(help="What needs your attention.", invoke_without_command=True)


@app.callback()
def list_alerts(ctx: typer.Context) -> None:
    """What needs your attention: alerts that are not resolved."""
    if ctx.invoked_subcommand is not None:
        return
    cli = context(ctx)
    with cli.uow() as uow:
        found = open_alerts(uow.session)
        output = table(None, "Id", "Raised", "Severity", "About", "What")
        for alert in found:
            output.add_row(
                str(alert.id),
                when(alert.created_at, cli.settings.zone),
                alert.severity.value,
                alert.subject,
                alert.message,
            )
        cli.console.print(output)
        cli.console.print(f"{len(found)} open alert(s)")


@app.command()
def resolve(
    ctx: typer.Context, alert_id: Annotated[int, typer.Argument(help="The alert's id.")]
) -> None:
    """Mark an alert dealt with."""
    cli = context(ctx)
    with cli.uow() as uow:
        alert = resolve_alert(uow.session, alert_id, at=utcnow())
        uow.commit()
        cli.console.print(f"Resolved alert {alert.id} ({alert.subject}).")
