"""The foundation: migrations match the models, the seed is exact and idempotent, the app answers."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, func, select

import app.models  # noqa: F401
from app.program.models import Indicator, Program, Target
from app.seed.run import seed
from app.units.models import Unit

DISTRICT_CODES = {"132", "133", "135", "136", "137", "138", "139", "140", "141"}


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_seed_units_above_village_level(db: Session):
    counts = dict(db.exec(select(Unit.depth, func.count()).group_by(Unit.depth)).all())
    assert counts[0] == 1
    assert counts[1] == 9
    assert counts[2] == 173
    assert db.exec(select(Unit.code).where(Unit.depth == 0)).one() == "15"
    assert set(db.exec(select(Unit.code).where(Unit.depth == 1)).all()) == DISTRICT_CODES


def test_seed_new_rural_communes(db: Session):
    from app.units.models import UnitYear

    rows = db.exec(select(UnitYear.new_rural, UnitYear.front_led, func.count())
                   .join(Unit, Unit.id == UnitYear.unit_id).where(Unit.depth == 2, UnitYear.year == 2023)
                   .group_by(UnitYear.new_rural, UnitYear.front_led)).all()
    by = {(r[0], r[1]): r[2] for r in rows}
    assert by[("recognised", True)] + by[("recognised", False)] == 100
    assert by[("expected", True)] + by[("expected", False)] == 6
    assert by[("recognised", True)] == 20 and by[("expected", True)] == 2


def test_seed_demo_villages_about_nine_per_commune(db: Session):
    villages = db.exec(select(func.count()).select_from(Unit).where(Unit.depth == 3)).one()
    assert 1500 <= villages <= 1700
    sample = db.exec(select(Unit).where(Unit.code == "04720-01")).one()
    parent = db.get(Unit, sample.parent_id)
    assert parent.code == "04720" and sample.path.startswith(parent.path) and sample.is_demo


def test_seed_program_2023(db: Session):
    program = db.exec(select(Program)).one()
    assert program.year == 2023
    assert program.motto == "Đoàn kết, dân chủ; năng động, sáng tạo; tận tụy, trách nhiệm; chất lượng, hiệu quả"
    assert program.theme.startswith("Phát huy dân chủ, đổi mới nội dung")
    codes = db.exec(select(Indicator.code).order_by(Indicator.number)).all()
    assert codes == [f"CT{i:02d}" for i in range(1, 19)]
    assert db.exec(select(func.count()).select_from(Target)).one() == 22


def test_seed_twice_changes_nothing(db: Session):
    def counts() -> tuple:
        return tuple(db.exec(select(func.count()).select_from(m)).one()
                     for m in (Unit, Program, Indicator, Target))

    before = counts()
    seed(db, demo_users=True, demo_values=False)
    assert counts() == before


def test_app_answers_login_page(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert "Đăng nhập" in r.text
