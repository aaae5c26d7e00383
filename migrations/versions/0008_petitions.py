"""petitions: fields, sessions, petitions, compiled summaries and their items

The field list starts with the Front's usual headings; the province edits it afterwards.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 17:43:53.442780
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = [
    ("land", "Đất đai"),
    ("social_policy", "Chính sách xã hội"),
    ("infrastructure", "Hạ tầng, giao thông"),
    ("environment", "Môi trường"),
    ("officials", "Tác phong, trách nhiệm cán bộ"),
    ("health_education", "Y tế, giáo dục"),
    ("other", "Lĩnh vực khác"),
]


def upgrade() -> None:
    field = op.create_table('petition_field',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('petition_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('petition_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_session_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_session_year'), ['year'], unique=False)

    op.create_table('petition_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['petition_session.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'session_id')
    )
    with op.batch_alter_table('petition_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_summary_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_summary_unit_id'), ['unit_id'], unique=False)

    op.create_table('petition_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('summary_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('addressee', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('addressee_detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answer_ref', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('file_label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('file_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('unsatisfactory', sa.Boolean(), nullable=False),
    sa.Column('supervision_note', sa.Text(), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['field_id'], ['petition_field.id'], ),
    sa.ForeignKeyConstraint(['summary_id'], ['petition_summary.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('petition_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_item_summary_id'), ['summary_id'], unique=False)

    op.create_table('petition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('heard_on', sa.Date(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('raiser_kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('raiser_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('raiser_contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('addressee', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('addressee_detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['field_id'], ['petition_field.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['petition_item.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['petition_session.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_heard_on'), ['heard_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_unit_id'), ['unit_id'], unique=False)

    op.bulk_insert(field, [
        {"code": code, "name": name, "sort_order": i, "active": True}
        for i, (code, name) in enumerate(FIELDS, start=1)
    ])


def downgrade() -> None:
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_unit_id'))
        batch_op.drop_index(batch_op.f('ix_petition_session_id'))
        batch_op.drop_index(batch_op.f('ix_petition_item_id'))
        batch_op.drop_index(batch_op.f('ix_petition_heard_on'))

    op.drop_table('petition')
    with op.batch_alter_table('petition_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_item_summary_id'))

    op.drop_table('petition_item')
    with op.batch_alter_table('petition_summary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_summary_unit_id'))
        batch_op.drop_index(batch_op.f('ix_petition_summary_session_id'))

    op.drop_table('petition_summary')
    with op.batch_alter_table('petition_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_session_year'))
        batch_op.drop_index(batch_op.f('ix_petition_session_unit_id'))

    op.drop_table('petition_session')
    op.drop_table('petition_field')
