"""Task follow-up: overdue is computed at month and quarter edges; status, notes, additions and
district plans go through the service with permission, version and audit."""
from datetime import date

import pytest
from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.accounts.models import User
from app.audit.models import AuditLog
from app.program import service as tasks
from app.program.models import Program, Task, TaskIndicator
from app.units.models import Unit


def _program(db: Session) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


def _unit(db: Session, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _principal(db: Session, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(unit=db.get(Unit, user.unit_id), role=user.role, via="web", user=user)


def _task(db: Session, quarter: int, number: int, plan: str = "15") -> Task:
    return db.exec(select(Task).where(Task.plan_unit_id == _unit(db, plan).id, Task.quarter == quarter,
                                      Task.number == number, Task.parent_id.is_(None))).one()


# --- overdue: a pure function of the task's quarter/month, its status and a reference date ---

def test_overdue_quarter_task_on_last_day_of_quarter_is_not_overdue():
    # Quarter II ends 30/06/2023: on that day the task is still on time.
    assert not tasks.is_overdue(2023, 2, None, "in_progress", None, date(2023, 6, 30))


def test_overdue_quarter_task_day_after_quarter_is_overdue():
    assert tasks.is_overdue(2023, 2, None, "in_progress", None, date(2023, 7, 1))


def test_overdue_not_started_quarter_i_task_on_1_april_is_overdue():
    assert tasks.is_overdue(2023, 1, None, "not_started", None, date(2023, 4, 1))


def test_overdue_month_task_within_its_month_is_not_overdue():
    # Q2 (1) "(tháng 4)": on 30/04 it is on time although the quarter runs on to June.
    assert not tasks.is_overdue(2023, 2, 4, "not_started", None, date(2023, 4, 30))


def test_overdue_month_task_after_its_month_is_overdue_before_quarter_end():
    assert tasks.is_overdue(2023, 2, 4, "not_started", None, date(2023, 5, 1))


def test_overdue_february_month_end_is_28th():
    assert tasks.month_end(2023, 2) == date(2023, 2, 28)
    assert not tasks.is_overdue(2023, 1, 2, "in_progress", None, date(2023, 2, 28))
    assert tasks.is_overdue(2023, 1, 2, "in_progress", None, date(2023, 3, 1))


def test_overdue_done_task_is_never_overdue():
    assert not tasks.is_overdue(2023, 1, None, "done", date(2023, 5, 20), date(2023, 12, 31))


def test_overdue_task_done_after_the_reference_date_was_overdue_then():
    # Done on 20/05 but the report for April looks at 30/04: it was not done then.
    assert tasks.is_overdue(2023, 1, None, "done", date(2023, 5, 20), date(2023, 4, 30))


def test_state_of_task_shows_overdue_over_in_progress(db: Session):
    t = _task(db, 1, 1)
    t.status = "in_progress"
    assert tasks.state_of(t, 2023, date(2023, 3, 31)) == "in_progress"
    assert tasks.state_of(t, 2023, date(2023, 4, 1)) == "overdue"


def test_report_reference_date_is_end_of_month():
    assert tasks.period_end("2023-04") == date(2023, 4, 30)
    assert tasks.period_end("2023-12") == date(2023, 12, 31)


# --- status and notes ---

def test_set_status_done_records_date_version_and_audit(db: Session):
    t = _task(db, 1, 3)
    p = _principal(db, "tinh.nhaplieu")
    tasks.set_status(db, p, t, "done", date(2023, 3, 15), expected_version=1, today=date(2023, 4, 1))
    assert (t.status, t.done_on, t.version) == ("done", date(2023, 3, 15), 2)
    log = db.exec(select(AuditLog).where(AuditLog.entity == "task", AuditLog.entity_id == t.id)).one()
    assert '"status": "not_started"' in log.old and '"status": "done"' in log.new


def test_set_status_stale_version_is_refused(db: Session):
    t = _task(db, 1, 3)
    p = _principal(db, "tinh.nhaplieu")
    tasks.set_status(db, p, t, "in_progress", None, expected_version=1)
    with pytest.raises(tasks.StaleTask):
        tasks.set_status(db, p, t, "done", date(2023, 3, 1), expected_version=1)
    assert t.status == "in_progress"


def test_set_status_done_without_date_is_refused(db: Session):
    t = _task(db, 1, 3)
    with pytest.raises(tasks.TaskError) as e:
        tasks.set_status(db, _principal(db, "tinh.nhaplieu"), t, "done", None, expected_version=1)
    assert e.value.field == "done_on" and t.status == "not_started"


def test_set_status_by_viewer_is_refused(db: Session):
    with pytest.raises(PermissionError):
        tasks.set_status(db, _principal(db, "tinh.xem"), _task(db, 1, 3), "in_progress", None,
                         expected_version=1)


def test_set_status_of_province_task_by_district_admin_is_refused(db: Session):
    with pytest.raises(PermissionError):
        tasks.set_status(db, _principal(db, "huyen.quantri"), _task(db, 1, 3), "in_progress", None,
                         expected_version=1)


def test_add_note_is_dated_and_audited(db: Session):
    t = _task(db, 2, 7)
    note = tasks.add_note(db, _principal(db, "tinh.nhaplieu"), t, date(2023, 5, 10),
                          "Đã khởi công 5 nhà tại Mù Cang Chải", today=date(2023, 6, 1))
    assert tasks.notes_of(db, t)[0].id == note.id and note.noted_on == date(2023, 5, 10)
    assert db.exec(select(AuditLog).where(AuditLog.entity == "task_note",
                                          AuditLog.entity_id == note.id)).one().action == "create"


def test_add_note_empty_is_refused(db: Session):
    with pytest.raises(tasks.TaskError):
        tasks.add_note(db, _principal(db, "tinh.nhaplieu"), _task(db, 2, 7), date(2023, 5, 10), "  ")


# --- additions (section III: "có phát sinh, bổ sung nhiệm vụ") ---

def test_add_task_mid_year_is_marked_addition_and_numbered_after_the_quarter(db: Session):
    program = _program(db)
    t = tasks.add_task(db, _principal(db, "tinh.quantri"), program, _unit(db, "15"), quarter=3,
                       title="Vận động ủng hộ đồng bào bị thiệt hại do mưa lũ", text="",
                       due_month=9, lead_department="Ban Phong trào",
                       reason="Phát sinh do mưa lũ tháng 8", added_on=date(2023, 8, 20),
                       today=date(2023, 8, 21))
    # Quarter III has tasks (1)…(8): the addition is (9).
    assert (t.number, t.is_addition, t.added_on, t.addition_reason) == (
        9, True, date(2023, 8, 20), "Phát sinh do mưa lũ tháng 8")
    assert t.text == t.title
    assert db.exec(select(AuditLog).where(AuditLog.entity == "task", AuditLog.entity_id == t.id)).one()


def test_add_task_without_reason_is_refused(db: Session):
    with pytest.raises(tasks.TaskError) as e:
        tasks.add_task(db, _principal(db, "tinh.quantri"), _program(db), _unit(db, "15"), quarter=3,
                       title="Nhiệm vụ mới", text="", due_month=None, lead_department=None,
                       reason=" ", added_on=None)
    assert e.value.field == "reason"


def test_add_task_month_outside_quarter_is_refused(db: Session):
    with pytest.raises(tasks.TaskError) as e:
        tasks.add_task(db, _principal(db, "tinh.quantri"), _program(db), _unit(db, "15"), quarter=3,
                       title="Nhiệm vụ mới", text="", due_month=10, lead_department=None,
                       reason="Phát sinh", added_on=None)
    assert e.value.field == "due_month"


def test_add_task_by_viewer_is_refused(db: Session):
    with pytest.raises(PermissionError):
        tasks.add_task(db, _principal(db, "tinh.xem"), _program(db), _unit(db, "15"), quarter=3,
                       title="Nhiệm vụ mới", text="", due_month=None, lead_department=None,
                       reason="Phát sinh", added_on=None)


def test_plan_tasks_lists_additions_after_the_quarter_tasks(db: Session):
    program = _program(db)
    tasks.add_task(db, _principal(db, "tinh.quantri"), program, _unit(db, "15"), quarter=1,
                   title="Bổ sung quý I", text="", due_month=None, lead_department=None,
                   reason="Phát sinh", added_on=date(2023, 2, 1))
    q1 = tasks.by_quarter(tasks.plan_tasks(db, program, _unit(db, "15"), date(2023, 2, 1)))[1]
    assert [v.task.number for v in q1] == list(range(1, 14))
    assert q1[-1].task.is_addition and not any(v.task.is_addition for v in q1[:-1])


# --- district plans ---

def test_adopt_tasks_copies_into_district_plan_led_by_district(db: Session):
    program, district = _program(db), _unit(db, "141")
    src = _task(db, 1, 6)
    copies = tasks.adopt_tasks(db, _principal(db, "huyen.quantri"), program, district,
                               [src.id, _task(db, 2, 7).id])
    assert len(copies) == 2
    copy = next(c for c in copies if c.source_task_id == src.id)
    assert (copy.plan_unit_id, copy.lead_unit_id, copy.quarter, copy.number, copy.text) == (
        district.id, district.id, 1, 6, src.text)
    subs = db.exec(select(Task).where(Task.parent_id == copy.id)).all()
    assert len(subs) == 3 and all(s.plan_unit_id == district.id for s in subs)
    q2_7 = next(c for c in copies if c.number == 7)
    assert db.exec(select(TaskIndicator).where(TaskIndicator.task_id == q2_7.id)).one()


def test_adopt_tasks_again_changes_nothing(db: Session):
    program, district = _program(db), _unit(db, "141")
    p = _principal(db, "huyen.quantri")
    tasks.adopt_tasks(db, p, program, district, [_task(db, 2, 7).id])
    assert tasks.adopt_tasks(db, p, program, district, [_task(db, 2, 7).id]) == []


def test_district_copy_followed_separately_leaves_province_task_unchanged(db: Session):
    program, district = _program(db), _unit(db, "141")
    src = _task(db, 2, 7)
    copy = tasks.adopt_tasks(db, _principal(db, "huyen.quantri"), program, district, [src.id])[0]
    tasks.set_status(db, _principal(db, "huyen.nhaplieu"), copy, "done", date(2023, 6, 20),
                     expected_version=1, today=date(2023, 7, 1))
    tasks.add_note(db, _principal(db, "huyen.nhaplieu"), copy, date(2023, 6, 20), "Xong 3 nhà",
                   today=date(2023, 7, 1))
    db.refresh(src)
    assert (src.status, src.done_on, src.version) == ("not_started", None, 1)
    assert tasks.notes_of(db, src) == []
    assert copy.status == "done"


def test_adopt_tasks_by_district_viewer_is_refused(db: Session):
    with pytest.raises(PermissionError):
        tasks.adopt_tasks(db, _principal(db, "huyen.xem"), _program(db), _unit(db, "141"),
                          [_task(db, 2, 7).id])


def test_plans_progress_counts_district_plan(db: Session):
    program, district = _program(db), _unit(db, "141")
    p = _principal(db, "huyen.quantri")
    c1, c2, c3 = tasks.adopt_tasks(db, p, program, district,
                                   [_task(db, 1, 1).id, _task(db, 2, 7).id, _task(db, 3, 8).id])
    tasks.set_status(db, p, c1, "done", date(2023, 3, 1), expected_version=1, today=date(2023, 7, 1))
    tasks.set_status(db, p, c3, "in_progress", None, expected_version=1)
    rows = {r.unit.code: r for r in tasks.plans_progress(db, program, _unit(db, "15"), date(2023, 7, 1))}
    # On 01/07: Q1 (1) done; Q2 (7) not done and quarter II over → overdue; Q3 (8) in progress.
    r = rows["141"]
    assert (r.taken, r.done, r.in_progress, r.overdue, r.not_started) == (3, 1, 1, 1, 0)
    assert len(rows) == 9 and rows["132"].taken == 0


def test_adopt_tasks_into_commune_plan_is_refused(db: Session):
    # Section III.2: the districts build plans from the province's; a commune is not one of them.
    with pytest.raises(tasks.TaskError) as e:
        tasks.adopt_tasks(db, _principal(db, "xa.quantri"), _program(db), _unit(db, "04720"),
                          [_task(db, 2, 7).id])
    assert e.value.code == "not_district"


def test_copy_same_task_twice_into_a_plan_is_refused_by_the_database(db):
    # Two requests choosing the same task at once both pass the "already taken?" check; the
    # unique (plan, source task) constraint keeps the second copy out.
    import pytest
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import select

    from app.program.models import Task
    from app.units.models import Unit

    source = db.exec(select(Task).where(Task.quarter == 2, Task.number == 7, Task.parent_id == None)).first()  # noqa: E711
    district = db.exec(select(Unit).where(Unit.code == "141")).one()

    def copy() -> Task:
        return Task(program_id=source.program_id, plan_unit_id=district.id, source_task_id=source.id,
                    quarter=2, number=7, title=source.title, text=source.text, lead_unit_id=district.id)

    db.add(copy())
    db.flush()
    nested = db.begin_nested()
    db.add(copy())
    with pytest.raises(IntegrityError):
        db.flush()
    nested.rollback()
