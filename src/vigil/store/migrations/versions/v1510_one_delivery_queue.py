"""One notification pipeline: alert notifications become deliveries of their outbox events.

`event_deliveries` becomes the one delivery queue: a row goes to a webhook subscription
(`subscription_id`) or to an alert channel (`channel`), exactly one of them. Each row of
`alert_deliveries` moves there, attached to the `alert.opened` (a trigger) or `alert.resolved`
(a resolve) event of its alert, with its state, attempts, errors and times, and with the body it
was queued with (`payload`), so that a pending notification still goes out as it was accepted.
A notification queued before the outbox existed (revision 0500) has no event: one is written for
it, dated when the notification was queued. Then `alert_deliveries` is dropped.

Revision ID: 1510
Revises: 0500 (collab)
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from vigil.store.base import UTCDateTime

revision = "1510"
down_revision: str | None = "0500"
branch_labels = None
depends_on = None

ONE_SUBSCRIBER = "(subscription_id IS NULL) <> (channel IS NULL)"
ALERT_EVENTS = {"trigger": "alert.opened", "resolve": "alert.resolved"}
_PAYLOAD_DATA = (
    "monitor",
    "target",
    "kind",
    "severity",
    "state",
    "message",
    "value",
    "first_window_start",
    "last_window_start",
)

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
events = sa.table(
    "events",
    sa.column("id", _id),
    sa.column("type", sa.String),
    sa.column("subject", sa.String),
    sa.column("actor", sa.String),
    sa.column("at", UTCDateTime()),
    sa.column("data", sa.JSON),
)
_delivery_columns = (
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", UTCDateTime()),
    sa.column("last_error", sa.Text),
    sa.column("created_at", UTCDateTime()),
    sa.column("sent_at", UTCDateTime()),
    sa.column("payload", sa.JSON),
)
alert_deliveries = sa.table(
    "alert_deliveries",
    *_delivery_columns,
    sa.column("alert_id", sa.Integer),
    sa.column("channel", sa.String),
    sa.column("event", sa.String),
)
event_deliveries = sa.table(
    "event_deliveries",
    *[sa.column(c.name, c.type) for c in _delivery_columns],
    sa.column("event_id", _id),
    sa.column("subscription_id", sa.Integer),
    sa.column("channel", sa.String),
)
_KEPT = ("state", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at", "payload")


def _alert_events(connection: sa.Connection) -> dict[tuple[str, int], int]:
    """{(event type, alert id): the first such event's id} of the alert events in the outbox."""
    found: dict[tuple[str, int], int] = {}
    rows = connection.execute(
        sa.select(events.c.id, events.c.type, events.c.data)
        .where(events.c.type.in_(list(ALERT_EVENTS.values())))
        .order_by(events.c.id)
    )
    for event_id, type_, data in rows:
        alert_id = (data or {}).get("alert_id")
        if isinstance(alert_id, int):
            found.setdefault((type_, alert_id), event_id)
    return found


def _event_for(connection: sa.Connection, type_: str, row: Any) -> int:
    """Write the event of a notification queued before the outbox existed."""
    payload = dict(row.payload or {})
    data = {"alert_id": row.alert_id, **{k: payload[k] for k in _PAYLOAD_DATA if k in payload}}
    data["note"] = ""
    inserted = connection.execute(
        sa.insert(events)
        .values(
            type=type_,
            subject=str(payload.get("target", "")),
            actor="vigil",
            at=row.created_at,
            data=data,
        )
        .returning(events.c.id)
    )
    return int(inserted.scalar_one())


def upgrade() -> None:
    with op.batch_alter_table("event_deliveries") as batch:
        batch.alter_column("subscription_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("channel", sa.String(200), nullable=True))
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_event_deliveries_one_subscriber"), ONE_SUBSCRIBER)
    connection = op.get_bind()
    known = _alert_events(connection)
    for row in connection.execute(sa.select(alert_deliveries).order_by(alert_deliveries.c.id)):
        type_ = ALERT_EVENTS.get(row.event, "alert.opened")
        event_id = known.get((type_, row.alert_id))
        if event_id is None:
            event_id = known[(type_, row.alert_id)] = _event_for(connection, type_, row)
        connection.execute(
            sa.insert(event_deliveries).values(
                event_id=event_id,
                subscription_id=None,
                channel=row.channel,
                **{name: getattr(row, name) for name in _KEPT},
            )
        )
    op.drop_table("alert_deliveries")


def downgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(
        op.f("ix_alert_deliveries_alert_id"), "alert_deliveries", ["alert_id"], unique=False
    )
    op.create_index(
        "ix_alert_deliveries_state_next", "alert_deliveries", ["state", "next_attempt_at"]
    )
    connection = op.get_bind()
    alerts = {a for (a,) in connection.execute(sa.text("SELECT id FROM alerts"))}
    channel_rows = connection.execute(
        sa.select(event_deliveries, events.c.type, events.c.data)
        .join(events, events.c.id == event_deliveries.c.event_id)
        .where(event_deliveries.c.channel.is_not(None))
        .order_by(event_deliveries.c.id)
    ).all()
    for row in channel_rows:
        data = dict(row.data or {})
        alert_id = data.get("alert_id")
        if alert_id not in alerts:
            continue  # the old table's rows went with their alert
        event = "resolve" if row.type == "alert.resolved" else "trigger"
        payload = row.payload or {
            "id": alert_id,
            **{k: v for k, v in data.items() if k not in ("alert_id", "note")},
            "event": event,
        }
        connection.execute(
            sa.insert(alert_deliveries).values(
                alert_id=alert_id,
                channel=row.channel,
                event=event,
                **{name: getattr(row, name) for name in _KEPT if name != "payload"},
                payload=payload,
            )
        )
    connection.execute(sa.delete(event_deliveries).where(event_deliveries.c.channel.is_not(None)))
    with op.batch_alter_table("event_deliveries") as batch:
        batch.drop_constraint(op.f("ck_event_deliveries_one_subscriber"), type_="check")
        batch.drop_column("payload")
        batch.drop_column("channel")
        batch.alter_column("subscription_id", existing_type=sa.Integer(), nullable=False)
