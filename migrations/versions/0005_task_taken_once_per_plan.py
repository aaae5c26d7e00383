"""task taken once per plan

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:35:59.471282
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_task_plan_unit_id_source_task_id', ['plan_unit_id', 'source_task_id'])



def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint('uq_task_plan_unit_id_source_task_id', type_='unique')

