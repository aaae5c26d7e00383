"""figures generation token

One row whose random token changes with every committed write, so pages computed from the
figures can be kept in memory per process and never served stale (app/core/generation.py).

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        'figures_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_generation')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.randbits(62) + 1}])


def downgrade() -> None:
    op.drop_table('figures_generation')
