"""A new year's program without code (issue #12 points 3 and 4): copy a year into a draft, edit
it, publish it; every error listed at once; figures fix an indicator's meaning; target and
baseline edits audited; a target edit of a published program keeps the roll-up exact."""
import json

import pytest
from sqlmodel import Session, func, select

from app.accounts.deps import Principal
from app.accounts.models import User
from app.audit.models import AuditLog
from app.program import lifecycle
from app.program.lifecycle import ProgramError, ProgramInvalid
from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.program.periods import PeriodRange
from app.program.service import current_program
from app.rollup import service as rollup
from app.rollup.models import RollupEach
from app.rollup.types import MET, NOT_MET
from app.units.models import Unit
from app.values.queries import program_for
from app.values.service import Figure, save_value


def _unit(db: Session, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _principal(db: Session, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(unit=db.get(Unit, user.unit_id), role=user.role, via="web", user=user)


def _program(db: Session, year: int) -> Program:
    return db.exec(select(Program).where(Program.year == year)).one()


def _ind(db: Session, program: Program, code: str) -> Indicator:
    return db.exec(select(Indicator).where(Indicator.program_id == program.id, Indicator.code == code)).one()


def _targets(db: Session, ind: Indicator) -> list[Target]:
    return list(db.exec(select(Target).where(Target.indicator_id == ind.id).order_by(Target.id)).all())


@pytest.fixture
def admin(db) -> Principal:
    return _principal(db, "tinh.quantri")


@pytest.fixture
def draft(db, admin) -> Program:
    """2026 copied from 2023 with its tasks."""
    return lifecycle.create_draft(db, admin, 2026, copy_from=2023, with_tasks=True)


def _count(db: Session, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


# --- copying a year into a draft ----------------------------------------------------------------

def test_create_draft_copies_indicators_targets_and_tasks_of_2023(db, draft):
    assert draft.status == "draft"
    assert draft.title == "Chương trình trọng tâm công tác Mặt trận năm 2026"
    assert "công tác Mặt trận năm 2026" in draft.theme and "năm 2023" not in draft.theme
    assert _count(db, Indicator, Indicator.program_id == draft.id) == 18
    # 22 targets, 44 tasks + Q1 (6)'s three sub-items = 47 task rows of the province plan.
    assert _count(db, Target, Target.indicator_id.in_(
        select(Indicator.id).where(Indicator.program_id == draft.id))) == 22
    assert _count(db, Task, Task.program_id == draft.id) == _count(
        db, Task, Task.program_id == _program(db, 2023).id, Task.plan_unit_id == draft.root_unit_id)
    # Links point at the draft's own indicators: Q2 (7) → CT12 of 2026.
    q2_7 = db.exec(select(Task).where(Task.program_id == draft.id, Task.quarter == 2, Task.number == 7,
                                      Task.parent_id.is_(None))).one()
    linked = db.exec(select(Indicator).join(TaskIndicator, TaskIndicator.indicator_id == Indicator.id)
                     .where(TaskIndicator.task_id == q2_7.id)).all()
    assert [(i.code, i.program_id) for i in linked] == [("CT12", draft.id)]


def test_create_draft_leaves_the_baseline_for_the_province_to_confirm(db, draft):
    ct06 = _ind(db, draft, "CT06")
    # 2023's 180 was the 2022 figure; 2026 compares with 2025, which only the province knows.
    assert (ct06.baseline, ct06.baseline_year, ct06.baseline_source) == (None, 2025, None)
    assert "so với năm 2025" in ct06.name


def test_create_draft_without_tasks_copies_none(db, admin):
    p = lifecycle.create_draft(db, admin, 2027, copy_from=2023, with_tasks=False)
    assert _count(db, Task, Task.program_id == p.id) == 0


def test_create_draft_for_a_year_that_has_a_program_is_refused(db, admin):
    with pytest.raises(ProgramError) as e:
        lifecycle.create_draft(db, admin, 2023)
    assert (e.value.code, e.value.status) == ("year_taken", 409)
    assert e.value.text() == "Đã có chương trình năm 2023."


def test_create_draft_by_district_admin_is_refused(db):
    with pytest.raises(PermissionError):
        lifecycle.create_draft(db, _principal(db, "huyen.quantri"), 2026, copy_from=2023)


def test_draft_is_not_the_program_in_force(db, draft):
    # Entry, roll-up and reports pick a published program: the 2026 draft is invisible to them.
    assert current_program(db).year == 2023
    assert program_for(db, "2026-01").year == 2023


# --- publishing ---------------------------------------------------------------------------------

def test_publish_lists_every_error_and_publishes_nothing(db, admin, draft):
    # Four errors made on purpose, plus the one a copy always has (CT06's baseline unconfirmed):
    # 1. CT12 entered by the province only: its "each district ≥ 3" target names a level that
    #    no longer enters it;
    ct12 = _ind(db, draft, "CT12")
    lifecycle.update_indicator(db, admin, draft, ct12, {"entry_depths": "0"})
    # 2. a task linked to CT05 of the 2023 program;
    task = db.exec(select(Task).where(Task.program_id == draft.id, Task.quarter == 1, Task.number == 9)).one()
    db.add(TaskIndicator(task_id=task.id, indicator_id=_ind(db, _program(db, 2023), "CT05").id))
    # 3. a range target with no upper bound (written around the service, as a bad file might);
    ct06_target = _targets(db, _ind(db, draft, "CT06"))[0]
    ct06_target.value_high = None
    db.add(ct06_target)
    # 4. no motto.
    draft.motto = ""
    db.add(draft)
    db.flush()

    with pytest.raises(ProgramInvalid) as e:
        lifecycle.publish(db, admin, draft)
    codes = sorted(err.code for err in e.value.errors)
    assert codes == sorted(["motto_missing", "level_does_not_enter", "foreign_indicator",
                            "range_without_high", "reduction_without_baseline"])
    texts = [err.text() for err in e.value.errors]
    assert "Chỉ tiêu CT12 — mục tiêu 2: Cấp huyện không nhập chỉ tiêu này, nên các đơn vị cấp này không có số liệu." \
        in texts
    assert "Nhiệm vụ (9) quý 1: Nhiệm vụ gắn với CT05 (2023), chỉ tiêu của chương trình khác." in texts
    db.refresh(draft)
    assert draft.status == "draft"


def test_publish_a_clean_copy_puts_it_in_force(db, admin, draft):
    ct06 = _ind(db, draft, "CT06")
    lifecycle.update_indicator(db, admin, draft, ct06, {"baseline": 150, "baseline_source": "Báo cáo của Sở Tư pháp"})
    lifecycle.publish(db, admin, draft)
    assert draft.status == "published"
    assert program_for(db, "2026-03").year == 2026
    row = db.exec(select(AuditLog).where(AuditLog.entity == "program", AuditLog.entity_id == draft.id,
                                         AuditLog.action == "publish")).one()
    assert json.loads(row.new) == {"status": "published"}


def test_publish_twice_is_refused(db, admin):
    with pytest.raises(ProgramError) as e:
        lifecycle.publish(db, admin, _program(db, 2023))
    assert (e.value.code, e.value.status) == ("already_published", 409)


def test_add_target_on_a_level_that_does_not_enter_is_refused(db, admin, draft):
    # CT05 is entered by the province only: "each district ≥ 1" cannot be judged.
    with pytest.raises(ProgramInvalid) as e:
        lifecycle.add_target(db, admin, draft, _ind(db, draft, "CT05"),
                             {"scope": "each", "depth": 1, "comparator": ">=", "value": 1})
    assert [err.code for err in e.value.errors] == ["level_does_not_enter"]


def test_add_range_target_without_upper_bound_is_refused(db, admin, draft):
    with pytest.raises(ProgramInvalid) as e:
        lifecycle.add_target(db, admin, draft, _ind(db, draft, "CT17"),
                             {"scope": "total", "comparator": "range", "value": 5})
    assert [err.code for err in e.value.errors] == ["range_without_high"]


# --- figures fix an indicator's meaning ---------------------------------------------------------

def test_indicator_with_figures_refuses_a_change_of_measure_or_levels(db, admin):
    p2023 = _program(db, 2023)
    ct17 = _ind(db, p2023, "CT17")
    save_value(db, admin, p2023, _unit(db, "04720"), ct17, "2023-03", Figure(value=1))
    for change in ({"measure": "amount"}, {"entry_depths": "0,1"}, {"time_rollup": "stock"}):
        with pytest.raises(ProgramError) as e:
            lifecycle.update_indicator(db, admin, p2023, ct17, change)
        assert (e.value.code, e.value.status) == ("figures_exist", 409)
    assert e.value.text().startswith("Các đơn vị đã nhập số liệu cho CT17")
    db.refresh(ct17)
    assert (ct17.measure, ct17.entry_depths, ct17.time_rollup) == ("count", "0,1,2", "flow")


def test_indicator_without_figures_may_change_its_levels(db, admin, draft):
    ct17 = _ind(db, draft, "CT17")
    lifecycle.update_indicator(db, admin, draft, ct17, {"entry_depths": [2, 0]})
    assert ct17.entry_depths == "0,2"


# --- baselines and province-set targets are data ------------------------------------------------

def test_baseline_needs_its_source_and_is_audited(db, admin):
    p2023 = _program(db, 2023)
    ct06 = _ind(db, p2023, "CT06")
    with pytest.raises(ProgramInvalid) as e:
        lifecycle.update_indicator(db, admin, p2023, ct06, {"baseline": 172, "baseline_source": ""})
    assert [err.code for err in e.value.errors] == ["baseline_source_missing"]
    lifecycle.update_indicator(db, admin, p2023, ct06,
                               {"baseline": 172, "baseline_source": "Báo cáo tảo hôn năm 2022 của tỉnh"})
    row = db.exec(select(AuditLog).where(AuditLog.entity == "indicator", AuditLog.entity_id == ct06.id)).one()
    assert json.loads(row.old) == {"baseline": 180, "baseline_source": None}
    assert json.loads(row.new) == {"baseline": 172, "baseline_source": "Báo cáo tảo hôn năm 2022 của tỉnh"}


def test_baseline_offered_from_last_years_figures(db, admin):
    # A 2024 draft: CT06 has the same code in 2023, whose figures sum to 3 + 4 + 2 = 9 over two
    # communes; a 2026 draft has no 2025 program, so nothing is offered.
    p2023 = _program(db, 2023)
    ct06 = _ind(db, p2023, "CT06")
    save_value(db, admin, p2023, _unit(db, "04720"), ct06, "2023-02", Figure(value=3))
    save_value(db, admin, p2023, _unit(db, "04720"), ct06, "2023-07", Figure(value=4))
    save_value(db, admin, p2023, _unit(db, "04726"), ct06, "2023-05", Figure(value=2))
    p2024 = lifecycle.create_draft(db, admin, 2024, copy_from=2023)
    s = lifecycle.baseline_suggestion(db, p2024, _ind(db, p2024, "CT06"))
    assert (s.value, s.year, s.units) == (9, 2023, 2)
    p2026 = lifecycle.create_draft(db, admin, 2026, copy_from=2023)
    assert lifecycle.baseline_suggestion(db, p2026, _ind(db, p2026, "CT06")) is None


def test_ct14_target_set_from_the_province_plan(db, admin):
    # CT14 had no target in 2023 ("theo kế hoạch của tỉnh"); the province sets 1,200 households.
    p2023 = _program(db, 2023)
    ct14 = _ind(db, p2023, "CT14")
    t = lifecycle.add_target(db, admin, p2023, ct14, {"scope": "total", "comparator": ">=", "value": 1200,
                                                      "label": "Theo kế hoạch của tỉnh: 1.200 hộ"})
    assert (t.unit_id, t.value) == (p2023.root_unit_id, 1200)
    r = next(r for r in rollup.rollup(db, _unit(db, "15"), PeriodRange.parse("2023"), p2023)
             if r.indicator.code == "CT14")
    assert [tr.target.id for tr in r.targets] == [t.id]


# --- target edits of a published program: audited, roll-up exact --------------------------------

def test_target_edit_of_published_program_changes_the_dashboard_judgement(db, admin):
    # CT17 "each commune ≥ 1" over January 2023: commune 04720 held 2 supervisions, 04726 held 1
    # (two communes of 173 with data). Raised to ≥ 2, 04720 still meets it and 04726 no longer
    # does: meeting 2 → 1 of 173 communes.
    p2023 = _program(db, 2023)
    ct17 = _ind(db, p2023, "CT17")
    save_value(db, admin, p2023, _unit(db, "04720"), ct17, "2023-01", Figure(value=2))
    save_value(db, admin, p2023, _unit(db, "04726"), ct17, "2023-01", Figure(value=1))
    rollup.rebuild(db)  # the kept 'each' counts hold ≥ 1

    def each_commune():
        r = next(r for r in rollup.dashboard(db, _unit(db, "15"), PeriodRange.parse("2023-01"), p2023)[0]
                 if r.indicator.code == "CT17")
        return next(t for t in r.targets if t.target.scope == "each" and t.target.depth == 2)

    assert (each_commune().units_meeting, each_commune().units_total) == (2, 173)
    target = next(t for t in _targets(db, ct17) if t.scope == "each" and t.depth == 2)
    lifecycle.update_target(db, admin, p2023, target, {"value": 2})
    result = each_commune()
    assert (result.units_meeting, result.units_total, result.status) == (1, 173, NOT_MET)
    assert _unit(db, "04726").id in {u.id for u in result.units_failing}
    # The kept count itself was rebuilt with the new terms (not left stale for a fallback).
    kept = db.exec(select(RollupEach).where(RollupEach.unit_id == _unit(db, "15").id,
                                            RollupEach.target_id == target.id,
                                            RollupEach.period_start == "2023-01",
                                            RollupEach.period_end == "2023-01")).one()
    assert (kept.value, kept.with_data, kept.meeting) == (2, 2, 1)
    row = db.exec(select(AuditLog).where(AuditLog.entity == "target", AuditLog.entity_id == target.id)).one()
    assert (json.loads(row.old), json.loads(row.new)) == ({"value": 1.0}, {"value": 2})


def test_target_edit_of_published_program_flips_a_total_judgement(db, admin):
    # CT15 "all levels ≥ 10 tỷ": the province raised 6 tỷ → not met; lowered to 5 tỷ → met.
    p2023 = _program(db, 2023)
    ct15 = _ind(db, p2023, "CT15")
    save_value(db, admin, p2023, _unit(db, "15"), ct15, "2023-02", Figure(value=6 * 10**9))
    total = next(t for t in _targets(db, ct15) if t.scope == "total")

    def status():
        r = next(r for r in rollup.dashboard(db, _unit(db, "15"), PeriodRange.parse("2023"), p2023)[0]
                 if r.indicator.code == "CT15")
        return next(t for t in r.targets if t.target.id == total.id).status

    assert status() == NOT_MET
    lifecycle.update_target(db, admin, p2023, total, {"value": 5 * 10**9})
    assert status() == MET


# --- every message of the program rules is in Vietnamese ------------------------------------------

def test_every_program_error_message_has_a_vietnamese_translation():
    """The rules' English messages reach the UI through `ProgramError.text()`, not a literal
    `_()` call, so the catalogue test cannot see them: list them from the source."""
    import ast
    from pathlib import Path

    from app.core import i18n

    root = Path(__file__).resolve().parents[2] / "app" / "program"
    found: set[str] = set()
    for name in ("spec.py", "checks.py", "changes.py", "edits.py", "lifecycle.py", "program_file.py",
                 "admin_pages.py"):
        for node in ast.walk(ast.parse((root / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("ProgramError", "error_at") \
                    or (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "ProgramError"):
                args = [a.value for a in node.args[1:4] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                found.update(a for a in args if " " in a or "{" in a)
            if isinstance(node, ast.Dict):  # {"title": "Enter the program's title.", …}
                found.update(v.value for v in node.values if isinstance(v, ast.Constant)
                             and isinstance(v.value, str) and v.value.endswith("."))
    assert len(found) > 50
    vi = i18n.catalogue("vi")._messages
    assert sorted(m for m in found if m not in vi) == []


# --- two administrators creating the same year at once --------------------------------------------

def test_two_admins_creating_the_same_year_at_once_make_one_draft(engine):
    """Real concurrent connections (PostgreSQL): both checks see no 2031 program; the unique
    year lets one insert through, the other waits for its commit and is answered 409."""
    import threading

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the race needs concurrent writers")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create() -> None:
        with Session(engine) as session:
            principal = _principal(session, "tinh.quantri")
            barrier.wait()
            try:
                lifecycle.create_draft(session, principal, 2031, copy_from=2023)
                session.commit()
                outcomes.append("created")
            except ProgramError as exc:
                session.rollback()
                outcomes.append(f"{exc.code} {exc.status}")

    threads = [threading.Thread(target=create) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["created", "year_taken 409"]
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Program).where(Program.year == 2031)).one() == 1
    finally:
        with Session(engine) as session:
            for p in session.exec(select(Program).where(Program.year == 2031)).all():
                lifecycle.delete_draft(session, _principal(session, "tinh.quantri"), p)
                for row in session.exec(select(AuditLog).where(AuditLog.entity == "program",
                                                               AuditLog.entity_id == p.id)).all():
                    session.delete(row)
            session.commit()
