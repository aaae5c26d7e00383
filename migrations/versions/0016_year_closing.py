"""year closing: a finished year is read-only except for reopening by the level above

`program.closed_at`/`closed_by_id` say when and by whom the province closed the year (every
existing program stays open: NULL); `year_reopening` holds the units whose closed year the
level above reopened for corrections (app/program/closing.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        # The account that closed it, as the audit row names it (no foreign key: adding one
        # would rebuild `program` on SQLite, which every indicator and task references).
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
    op.create_table(
        'year_reopening',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('reopened_by_id', sa.Integer(), nullable=True),
        sa.Column('reopened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['program_id'], ['program.id'], name=op.f('fk_year_reopening_program_id_program')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_year_reopening_unit_id_unit')),
        sa.ForeignKeyConstraint(['reopened_by_id'], ['app_user.id'],
                                name=op.f('fk_year_reopening_reopened_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_year_reopening')),
        sa.UniqueConstraint('program_id', 'unit_id', name=op.f('uq_year_reopening_program_id_unit_id')),
    )
    with op.batch_alter_table('year_reopening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_year_reopening_program_id'), ['program_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('year_reopening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_year_reopening_program_id'))
    op.drop_table('year_reopening')
    # ALTER TABLE … DROP COLUMN, also on SQLite (3.35+): a batch would rebuild `program`, which
    # fails while indicators and tasks reference it with foreign keys enforced.
    op.drop_column('program', 'closed_by_id')
    op.drop_column('program', 'closed_at')
