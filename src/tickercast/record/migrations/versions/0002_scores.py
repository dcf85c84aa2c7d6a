"""Scores of each step, and the totals by group, step and month that pages read.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _group() -> list[sa.Column[object]]:
    return [
        sa.Column("ticker", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("method", sa.String(32), primary_key=True),
        sa.Column("interval_width", sa.Float, primary_key=True),
    ]


def _sums() -> list[sa.Column[object]]:
    return [
        sa.Column("scored", sa.Integer, nullable=False),
        sa.Column("sum_error", sa.Float, nullable=False),
        sa.Column("sum_walk_error", sa.Float, nullable=False),
        sa.Column("inside", sa.Integer, nullable=False),
        sa.Column("sum_interval_score", sa.Float, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "step_scores",
        sa.Column("forecast_id", sa.Integer, sa.ForeignKey("forecasts.id"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("actual", sa.Float, nullable=False),
        sa.Column("error", sa.Float, nullable=False),
        sa.Column("walk_error", sa.Float, nullable=False),
        sa.Column("inside", sa.Boolean, nullable=False),
        sa.Column("interval_score", sa.Float, nullable=False),
    )
    op.create_table(
        "group_totals",
        *_group(),
        sa.Column("forecasts", sa.Integer, nullable=False),
        sa.Column("first_as_of", sa.Date, nullable=False),
        sa.Column("last_as_of", sa.Date, nullable=False),
        *_sums(),
    )
    op.create_table(
        "step_totals", *_group(), sa.Column("step", sa.Integer, primary_key=True), *_sums()
    )
    op.create_table(
        "month_totals", *_group(), sa.Column("month", sa.Date, primary_key=True), *_sums()
    )


def downgrade() -> None:
    for name in ("month_totals", "step_totals", "group_totals", "step_scores"):
        op.drop_table(name)
