"""unit_year.is_demo: which per-year unit attributes are still demo stand-ins

The seed draws the 2023 (and demo 2026) new-rural and province-led communes with a fixed seed,
and generates demo villages with households and population; the province now sets the
communes' attributes per year (page, import, API), and what it has not set yet is labelled
demo. Existing rows carry forward as demo when they can only have come from the seed: a
commune's new-rural status or province-led flag (nothing else wrote them), or any row of a
demo village (`unit.is_demo`). Households and population imported for real villages stay real.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('unit_year', sa.Column('is_demo', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.get_bind().execute(sa.text(
        "UPDATE unit_year SET is_demo = :true WHERE new_rural IS NOT NULL OR front_led = :true "
        "OR unit_id IN (SELECT id FROM unit WHERE is_demo = :true)"), {"true": True})


def downgrade() -> None:
    with op.batch_alter_table('unit_year') as batch:
        batch.drop_column('is_demo')
