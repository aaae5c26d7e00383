"""program drafts and baseline source

A program is a draft until the province publishes it; every program made before this
revision was in force, so existing rows become "published". An indicator's baseline gets the
source the province took it from (existing baselines have none: they are demo figures).

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-02 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='published'))
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('baseline_source', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_column('baseline_source')
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.drop_column('status')
