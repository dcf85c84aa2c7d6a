"""Each step's quantiles at the levels the page shows, and the record's calibration.

`forecast_steps` gains, per level L of `LEVELS` (percent), `lower_L` and `upper_L`: the 50 -
L/2 and 50 + L/2 percent quantiles, null in rows stored before (they keep their one band and
are scored on it). `step_scores` gains the weighted interval score of the levels the step has
(`wis`), the quantile random walk's at the same levels (`walk_wis`) and how far the price fell
outside the 95% band in its half-widths (`miss_95`, 0 inside; null without that level). The
group's totals gain the sums of the interval score ratio over the levels and the PIT counts;
`level_totals` keeps per group and level the steps scored, those inside and the 95% interval
of the coverage from a bootstrap over forecasts (all kept by the scorer).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LEVELS = ("10", "20", "30", "40", "50", "60", "70", "80", "90", "95", "98")
STEP_COLUMNS = tuple(f"{side}_{level}" for level in LEVELS for side in ("lower", "upper"))
SCORE_COLUMNS = ("wis", "walk_wis", "miss_95")
GROUP_SUMS = (
    ("wis_scored", sa.Integer),
    ("sum_wis", sa.Float),
    ("sum_walk_wis", sa.Float),
    *((f"pit_{i}", sa.Integer) for i in range(10)),
)
GROUP = ("ticker", "source", "kind", "method", "interval_width")


def upgrade() -> None:
    for name in STEP_COLUMNS:
        op.add_column("forecast_steps", sa.Column(name, sa.Float, nullable=True))
    for name in SCORE_COLUMNS:
        op.add_column("step_scores", sa.Column(name, sa.Float, nullable=True))
    op.create_index("ix_step_scores_miss_95", "step_scores", ["miss_95"])
    for name, kind in GROUP_SUMS:
        op.add_column("group_totals", sa.Column(name, kind, nullable=False, server_default="0"))
    op.create_table(
        "level_totals",
        sa.Column("ticker", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("method", sa.String(32), primary_key=True),
        sa.Column("interval_width", sa.Float, primary_key=True),
        sa.Column("level", sa.Float, primary_key=True),
        sa.Column("scored", sa.Integer, nullable=False),
        sa.Column("inside", sa.Integer, nullable=False),
        sa.Column("low", sa.Float),
        sa.Column("high", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("level_totals")
    with op.batch_alter_table("group_totals") as batch:
        for name, _ in GROUP_SUMS:
            batch.drop_column(name)
    op.drop_index("ix_step_scores_miss_95", "step_scores")
    with op.batch_alter_table("step_scores") as batch:
        for name in SCORE_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("forecast_steps") as batch:
        for name in STEP_COLUMNS:
            batch.drop_column(name)
