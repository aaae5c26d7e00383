"""units in time

Validity by date: `unit.valid_from`/`valid_to` become dates (a whole year Y maps to 01/01/Y and
31/12/Y). A unit code is unique only among units in force together, so the unique index on
`unit.code` becomes a plain one (the importer refuses overlapping validity). Per-year attributes
move to `unit_year`: the new-rural status, province-led flag, households and population held on
`unit` are copied for every year that has a program (2023 when none has). Successor links get
their table (`unit_successor`). The kept unit counts (`rollup_unit_count`) are per month: each
row of the old table stands for every month of every program year, as every unit was counted
in every period before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _program_years(conn) -> list[int]:
    years = sorted({int(y) for (y,) in conn.execute(sa.text("SELECT year FROM program WHERE status = 'published'"))})
    return years or [2023]


def upgrade() -> None:
    conn = op.get_bind()
    years = _program_years(conn)
    op.create_table(
        'unit_year',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('new_rural', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('front_led', sa.Boolean(), nullable=False),
        sa.Column('households', sa.BigInteger(), nullable=True),
        sa.Column('population', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('unit_id', 'year'))
    op.create_table(
        'unit_successor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('from_unit_id', sa.Integer(), nullable=False),
        sa.Column('to_unit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('effective', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['from_unit_id'], ['unit.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['to_unit_id'], ['unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_unit_successor_from_unit_id', 'unit_successor', ['from_unit_id'])
    op.create_index('ix_unit_successor_to_unit_id', 'unit_successor', ['to_unit_id'])

    # Per-year attributes, copied for every program year.
    for year in years:
        conn.execute(sa.text(
            "INSERT INTO unit_year (unit_id, year, new_rural, front_led, households, population) "
            "SELECT id, :year, new_rural, front_led, households, population FROM unit "
            "WHERE new_rural IS NOT NULL OR front_led = :true OR households IS NOT NULL "
            "OR population IS NOT NULL"), {"year": year, "true": True})

    # Validity: whole years → dates. New columns filled, the old ones dropped, the new renamed
    # (plain ALTER TABLE on both databases: no copy of the unit table, which others reference).
    op.add_column('unit', sa.Column('valid_from_day', sa.Date(), nullable=True))
    op.add_column('unit', sa.Column('valid_to_day', sa.Date(), nullable=True))
    import datetime as dt
    rows = conn.execute(sa.text("SELECT id, valid_from, valid_to FROM unit "
                                "WHERE valid_from IS NOT NULL OR valid_to IS NOT NULL")).all()
    for uid, vf, vt in rows:
        conn.execute(sa.text("UPDATE unit SET valid_from_day = :f, valid_to_day = :t WHERE id = :id"),
                     {"id": uid, "f": dt.date(int(vf), 1, 1) if vf is not None else None,
                      "t": dt.date(int(vt), 12, 31) if vt is not None else None})
    for column in ('valid_from', 'valid_to', 'new_rural', 'front_led', 'households', 'population'):
        op.execute(f"ALTER TABLE unit DROP COLUMN {column}")
    op.execute("ALTER TABLE unit RENAME COLUMN valid_from_day TO valid_from")
    op.execute("ALTER TABLE unit RENAME COLUMN valid_to_day TO valid_to")

    # Codes are unique among units in force together only.
    op.drop_index('ix_unit_code', table_name='unit')
    op.create_index('ix_unit_code', 'unit', ['code'], unique=False)

    # Unit counts per month.
    old = conn.execute(sa.text("SELECT unit_id, depth, units, new_rural FROM rollup_unit_count")).all()
    op.drop_table('rollup_unit_count')
    op.create_table(
        'rollup_unit_count',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('depth', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.Column('new_rural', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('unit_id', 'depth', 'period'))
    table = sa.table('rollup_unit_count', sa.column('unit_id'), sa.column('depth'), sa.column('period'),
                     sa.column('units'), sa.column('new_rural'))
    batch = [{"unit_id": u, "depth": d, "period": f"{y}-{m:02d}", "units": n, "new_rural": nr}
             for u, d, n, nr in old for y in years for m in range(1, 13)]
    for i in range(0, len(batch), 5000):
        conn.execute(table.insert(), batch[i:i + 5000])


def downgrade() -> None:
    conn = op.get_bind()
    old = conn.execute(sa.text("SELECT unit_id, depth, units, new_rural, period FROM rollup_unit_count")).all()
    latest: dict = {}
    for u, d, n, nr, p in old:
        if (u, d) not in latest or latest[(u, d)][2] < p:
            latest[(u, d)] = (n, nr, p)
    op.drop_table('rollup_unit_count')
    op.create_table(
        'rollup_unit_count',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('depth', sa.Integer(), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.Column('new_rural', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('unit_id', 'depth'))
    table = sa.table('rollup_unit_count', sa.column('unit_id'), sa.column('depth'),
                     sa.column('units'), sa.column('new_rural'))
    rows = [{"unit_id": u, "depth": d, "units": v[0], "new_rural": v[1]} for (u, d), v in latest.items()]
    if rows:
        conn.execute(table.insert(), rows)
    op.drop_index('ix_unit_code', table_name='unit')
    op.create_index('ix_unit_code', 'unit', ['code'], unique=True)
    op.add_column('unit', sa.Column('valid_from_year', sa.Integer(), nullable=True))
    op.add_column('unit', sa.Column('valid_to_year', sa.Integer(), nullable=True))
    op.add_column('unit', sa.Column('new_rural', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    op.add_column('unit', sa.Column('front_led', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('unit', sa.Column('households', sa.BigInteger(), nullable=True))
    op.add_column('unit', sa.Column('population', sa.BigInteger(), nullable=True))
    def year(v):
        return None if v is None else int(str(v)[:4])

    for uid, vf, vt in conn.execute(sa.text("SELECT id, valid_from, valid_to FROM unit")).all():
        if vf is None and vt is None:
            continue
        conn.execute(sa.text("UPDATE unit SET valid_from_year = :f, valid_to_year = :t WHERE id = :id"),
                     {"id": uid, "f": year(vf), "t": year(vt)})
    first = {}
    for uid, _year, nr, led, hh, pop in conn.execute(sa.text(
            "SELECT unit_id, year, new_rural, front_led, households, population FROM unit_year ORDER BY year")):
        first.setdefault(uid, (nr, led, hh, pop))
    for uid, (nr, led, hh, pop) in first.items():
        conn.execute(sa.text("UPDATE unit SET new_rural = :nr, front_led = :led, households = :hh, "
                             "population = :pop WHERE id = :id"),
                     {"id": uid, "nr": nr, "led": bool(led), "hh": hh, "pop": pop})
    op.execute("ALTER TABLE unit DROP COLUMN valid_from")
    op.execute("ALTER TABLE unit DROP COLUMN valid_to")
    op.execute("ALTER TABLE unit RENAME COLUMN valid_from_year TO valid_from")
    op.execute("ALTER TABLE unit RENAME COLUMN valid_to_year TO valid_to")
    op.drop_index('ix_unit_successor_to_unit_id', table_name='unit_successor')
    op.drop_index('ix_unit_successor_from_unit_id', table_name='unit_successor')
    op.drop_table('unit_successor')
    op.drop_table('unit_year')
