"""Alerts: what an operator must look at, raised where it is noticed, listed by the CLI.

An alert is about one thing (its kind and subject) and stays open until an operator resolves
it or the code that raised it sees its cause gone; raising it again while it is open changes
nothing, so a problem found on every run is one alert, not one per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerbridge.core.errors import NotFound
from sellerbridge.db.models import Alert, Severity


def _open(session: Session, kind: str, subject: str) -> Sequence[Alert]:
    return session.scalars(
        select(Alert).where(
            Alert.kind == kind, Alert.subject == subject, Alert.resolved_at.is_(None)
        )
    ).all()


def raise_alert(
    session: Session,
    *,
    kind: str,
    severity: Severity,
    subject: str,
    message: str,
    at: datetime,
) -> Alert:
    """Raise an alert, unless the same one (kind and subject) is open already."""
    for alert in _open(session, kind, subject):
        return alert
    alert = Alert(kind=kind, severity=severity, subject=subject, message=message, created_at=at)
    session.add(alert)
    return alert


def resolve_alerts(session: Session, *, kind: str, subject: str, at: datetime) -> int:
    """Resolve the open alerts of ``kind`` about ``subject`` once their cause is gone."""
    found = _open(session, kind, subject)
    for alert in found:
        alert.resolved_at = at
    return len(found)


def resolve_alert(session: Session, alert_id: int, *, at: datetime) -> Alert:
    """Mark an alert dealt with; it leaves the list of open alerts."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(
            f"There is no alert {alert_id}.", hint="List them with `sellerbridge alerts`."
        )
    if alert.resolved_at is None:
        alert.resolved_at = at
    return alert


def open_alerts(session: Session) -> Sequence[Alert]:
    query = select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.created_at)
    return session.scalars(query).all()
