"""Two people compile the same petition at the same moment, on two real connections: one item
gets it, the other compiles nothing (no second item, no petition taken twice)."""
import os
import threading
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from app.accounts.deps import Principal
from app.core.db import make_engine
from app.core.migrate import upgrade_to_head
from app.petitions import service as svc
from app.petitions.models import Petition, PetitionItem
from app.units.models import Unit, UnitKind, UnitLevel
from tests.databases import drop_database, new_database_url


@pytest.fixture
def engine(tmp_path):
    admin_url = os.environ.get("TEST_DATABASE_URL", "")
    if admin_url.startswith("postgresql"):
        url, name = new_database_url(admin_url, "mttq_race")
        eng = create_engine(url)
    else:
        name, eng = None, make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    upgrade_to_head(eng)
    yield eng
    eng.dispose()
    if name:
        drop_database(admin_url, name)


def _setup(engine) -> tuple[int, int, int]:
    """Province 15 and district 141: one session, a petition heard by the district, and two
    summaries (the province's and the district's) that may both compile it."""
    with Session(engine) as s:
        s.add(UnitLevel(depth=0, key="province", name="Cấp tỉnh"))
        s.add(UnitLevel(depth=1, key="district", name="Cấp huyện"))
        s.flush()
        s.add(UnitKind(code="tinh", name="Tỉnh", depth=0))
        s.add(UnitKind(code="huyen", name="Huyện", depth=1))
        s.flush()
        province = Unit(id=1, code="15", name="Yên Bái", kind="tinh", depth=0, path="/1/")
        district = Unit(id=2, code="141", name="Yên Bình", kind="huyen", depth=1, parent_id=1, path="/1/2/")
        s.add_all([province, district])
        s.flush()
        admin = Principal(unit=province, role="admin", via="web")
        psession = svc.create_session(s, admin, "web", province, "Kỳ họp thứ 7, HĐND tỉnh khóa XIX", None)
        p = svc.record(s, admin, "web", district, svc.PetitionInput(
            channel="voter_meeting", heard_on=date(2023, 4, 12), field_id=svc.fields_of(s)[0].id,
            content="Sửa đường liên xã.", addressee="provincial_council", session_id=psession.id))
        first = svc.summary_for(s, admin, "web", province, psession)
        second = svc.summary_for(s, admin, "web", district, psession)
        s.commit()
        return p.id, first.id, second.id


def test_the_same_petition_compiled_twice_at_once_lands_in_one_item(engine):
    petition_id, *summary_ids = _setup(engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def compile_into(summary_id: int) -> None:
        with Session(engine) as s:
            summary = s.get(svc.PetitionSummary, summary_id)
            admin = Principal(unit=s.get(Unit, 1), role="admin", via="web")
            assert [p.id for p, _u in svc.pending(s, summary)] == [petition_id]  # both see it waiting
            barrier.wait()
            try:
                svc.compile_item(s, admin, "web", summary, [petition_id])
                s.commit()
                outcomes.append("compiled")
            except svc.PetitionError as e:
                s.rollback()
                outcomes.append(f"refused {e.status}")
            except OperationalError:  # SQLite: the later writer's snapshot is stale, nothing written
                s.rollback()
                outcomes.append("refused locked")

    threads = [threading.Thread(target=compile_into, args=(sid,)) for sid in summary_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes)[0] == "compiled" and sorted(outcomes)[1].startswith("refused")
    with Session(engine) as s:
        items = s.exec(select(PetitionItem)).all()
        assert len(items) == 1
        assert s.get(Petition, petition_id).item_id == items[0].id
        assert s.exec(select(func.count()).select_from(PetitionItem)).one() == 1
    if engine.dialect.name == "postgresql":
        assert "refused 409" in outcomes
