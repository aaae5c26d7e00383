"""rollup each counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:55:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rollup_each',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('period_end', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('comparator', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('with_data', sa.Integer(), nullable=False),
    sa.Column('meeting', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'target_id', 'period_start', 'period_end')
    )


def downgrade() -> None:
    op.drop_table('rollup_each')
