"""The forecasts shown, their steps and their views.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticker", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("interval_width", sa.Float, nullable=False),
        sa.Column("horizon", sa.Integer, nullable=False),
        sa.Column("window", sa.String(16)),
        sa.Column("last_price", sa.Float, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "ticker",
            "source",
            "kind",
            "as_of",
            "method",
            "model_version",
            "interval_width",
            "horizon",
            name="forecasts_one_row_each",
        ),
    )
    op.create_table(
        "forecast_steps",
        sa.Column("forecast_id", sa.Integer, sa.ForeignKey("forecasts.id"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("ds", sa.Date, nullable=False),
        sa.Column("yhat", sa.Float, nullable=False),
        sa.Column("yhat_lower", sa.Float, nullable=False),
        sa.Column("yhat_upper", sa.Float, nullable=False),
    )
    op.create_index("ix_forecast_steps_ds", "forecast_steps", ["ds"])
    op.create_table(
        "forecast_views",
        sa.Column("forecast_id", sa.Integer, sa.ForeignKey("forecasts.id"), primary_key=True),
        sa.Column("views", sa.Integer, nullable=False),
        sa.Column("first_shown", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_shown", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forecast_views")
    op.drop_index("ix_forecast_steps_ds", "forecast_steps")
    op.drop_table("forecast_steps")
    op.drop_table("forecasts")
