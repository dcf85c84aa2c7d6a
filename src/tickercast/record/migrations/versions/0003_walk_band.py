"""The random walk's band's interval score and the trailing volatility at as_of for each
scored step, and the sums the interval score ratio is read from.

Steps scored before this revision keep null in both (their prices are not read again): the
ratio counts only the steps that have the random walk's score (`walk_scored` and its sums start
at 0, which is what the totals hold then), and regime coverage only the steps with a volatility.
The group's totals gain the steps scored and inside the band in each third of its origins by
that volatility (kept by the scorer, so a page reads them without a scan).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TOTALS = ("group_totals", "step_totals", "month_totals")
WALK_SUMS = (
    ("walk_scored", sa.Integer),
    ("sum_paired_interval_score", sa.Float),
    ("sum_walk_interval_score", sa.Float),
)
STEP_COLUMNS = ("walk_interval_score", "origin_volatility")
REGIME_COUNTS = tuple(
    f"{regime}_{count}" for regime in ("calm", "middle", "stormy") for count in ("scored", "inside")
)


def upgrade() -> None:
    for name in STEP_COLUMNS:
        op.add_column("step_scores", sa.Column(name, sa.Float, nullable=True))
    for table in TOTALS:
        for name, kind in WALK_SUMS:
            op.add_column(table, sa.Column(name, kind, nullable=False, server_default="0"))
    for name in REGIME_COUNTS:
        op.add_column(
            "group_totals", sa.Column(name, sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("group_totals") as batch:
        for name in REGIME_COUNTS:
            batch.drop_column(name)
    for table in TOTALS:
        with op.batch_alter_table(table) as batch:
            for name, _ in WALK_SUMS:
                batch.drop_column(name)
    with op.batch_alter_table("step_scores") as batch:
        for name in STEP_COLUMNS:
            batch.drop_column(name)
