"""Task pages: the program page by quarter, one task's status and notes, additions, district plans."""
import re

from sqlmodel import Session, select

from app.audit.models import AuditLog
from app.program.models import Task, TaskNote
from app.units.models import Unit


def _task(db: Session, quarter: int, number: int, plan: str = "15") -> Task:
    unit = db.exec(select(Unit).where(Unit.code == plan)).one()
    return db.exec(select(Task).where(Task.plan_unit_id == unit.id, Task.quarter == quarter,
                                      Task.number == number, Task.parent_id.is_(None))).one()


def test_view_tasks_page_lists_quarters_with_numbers_and_leads(login):
    c = login("tinh.xem")
    r = c.get("/tasks?month=2023-03")
    assert r.status_code == 200
    assert "Quý I" in r.text and "Quý IV" in r.text
    assert "Xây dựng mới 20 nhà đại đoàn kết" in r.text  # Q2 (7)
    assert "Ban Dân chủ - Pháp luật" in r.text
    # 44 tasks + 3 sub-items link to their pages.
    assert len(set(re.findall(r'href="/tasks/(\d+)"', r.text))) == 47


def test_view_tasks_page_as_of_april_shows_quarter_i_overdue(login):
    c = login("tinh.xem")
    r = c.get("/tasks?month=2023-04")
    # On 30/04 every one of Q1's 12 tasks is undone and its quarter over; Q2 (1) "(tháng 4)" is not yet.
    assert r.status_code == 200
    assert "Quá hạn: 12" in r.text


def test_view_tasks_page_shows_linked_indicator(login):
    r = login("tinh.xem").get("/tasks?month=2023-06")
    assert r.status_code == 200
    assert "CT12" in r.text and "Nhà đại đoàn kết xây dựng mới" in r.text


def test_view_task_page_shows_full_text_and_sub_items(login, db):
    t = _task(db, 1, 6)
    r = login("tinh.xem").get(f"/tasks/{t.id}")
    assert r.status_code == 200
    assert "Khảo sát các hộ nghèo có nhu cầu thoát nghèo năm 2023." in r.text
    assert "Cập nhật tình trạng" not in r.text  # a viewer gets no form


def test_view_task_of_another_district_plan_is_404(login, db):
    # A task in Văn Chấn's (138) own plan: outside Xuân Long (under Yên Bình) and not above it.
    from app.core.time import utcnow

    province_task = _task(db, 1, 6)
    other = db.exec(select(Unit).where(Unit.code == "138")).one()
    copy = Task(program_id=province_task.program_id, plan_unit_id=other.id, quarter=1, number=6,
                title=province_task.title, text=province_task.text, lead_unit_id=other.id,
                source_task_id=province_task.id, created_at=utcnow(), updated_at=utcnow())
    db.add(copy)
    db.commit()
    c = login("xa.xem")
    assert c.get(f"/tasks/{copy.id}").status_code == 404
    assert c.get("/tasks?plan=138").status_code == 404


def test_post_task_status_done_saves_and_redirects(login, db):
    t = _task(db, 1, 3)
    c = login("tinh.nhaplieu")
    r = c.post(f"/tasks/{t.id}/status", data={"status": "done", "done_on": "15/03/2023", "version": "1"})
    assert r.status_code == 303
    db.refresh(t)
    assert (t.status, t.done_on.isoformat(), t.version) == ("done", "2023-03-15", 2)
    page = c.get(f"/tasks/{t.id}")
    assert "15/03/2023" in page.text


def test_post_task_status_stale_version_is_409_and_unchanged(login, db):
    t = _task(db, 1, 3)
    c = login("tinh.nhaplieu")
    assert c.post(f"/tasks/{t.id}/status", data={"status": "in_progress", "version": "1"}).status_code == 303
    r = c.post(f"/tasks/{t.id}/status", data={"status": "done", "done_on": "01/03/2023", "version": "1"})
    assert r.status_code == 409
    assert "thay đổi" in r.text
    db.refresh(t)
    assert t.status == "in_progress"


def test_post_task_status_bad_date_rerenders_with_error(login, db):
    t = _task(db, 1, 3)
    r = login("tinh.nhaplieu").post(f"/tasks/{t.id}/status",
                                    data={"status": "done", "done_on": "32/13/2023", "version": "1"})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and "dd/mm/yyyy" in r.text
    db.refresh(t)
    assert t.status == "not_started"


def test_post_task_status_by_viewer_is_forbidden(login, db):
    t = _task(db, 1, 3)
    r = login("tinh.xem").post(f"/tasks/{t.id}/status", data={"status": "done", "version": "1"})
    assert r.status_code == 403


def test_post_task_note_adds_dated_note(login, db):
    t = _task(db, 2, 7)
    c = login("tinh.nhaplieu")
    r = c.post(f"/tasks/{t.id}/notes", data={"noted_on": "10/05/2023", "text": "Khởi công 5 nhà"})
    assert r.status_code == 303
    note = db.exec(select(TaskNote).where(TaskNote.task_id == t.id)).one()
    assert note.noted_on.isoformat() == "2023-05-10"
    assert "10/05/2023</time> — Khởi công 5 nhà" in c.get(f"/tasks/{t.id}").text


def test_post_new_task_adds_marked_addition(login, db):
    c = login("tinh.quantri")
    r = c.post("/tasks/new", data={"plan": "15", "quarter": "3", "title": "Ủng hộ đồng bào vùng lũ",
                                   "reason": "Mưa lũ tháng 8", "added_on": "20/08/2023", "due_month": "9"})
    assert r.status_code == 303
    task = db.exec(select(Task).where(Task.title == "Ủng hộ đồng bào vùng lũ")).one()
    assert task.is_addition and task.number == 9 and task.addition_reason == "Mưa lũ tháng 8"
    page = c.get("/tasks?month=2023-08")
    assert "Bổ sung" in page.text and "Ủng hộ đồng bào vùng lũ" in page.text


def test_post_new_task_without_reason_rerenders_with_error(login, db):
    r = login("tinh.quantri").post("/tasks/new", data={"plan": "15", "quarter": "3", "title": "X"})
    assert r.status_code == 422
    assert "Nêu lý do" in r.text
    assert db.exec(select(Task).where(Task.title == "X")).first() is None


def test_get_new_task_form_by_viewer_is_forbidden(login):
    assert login("tinh.xem").get("/tasks/new").status_code == 403


def test_post_district_plan_copies_tasks_and_province_sees_progress(login, db):
    src = _task(db, 2, 7)
    c = login("huyen.quantri")
    assert c.get("/tasks/plan").status_code == 200
    r = c.post("/tasks/plan", data={"unit": "141", "task": [str(src.id), str(_task(db, 1, 1).id)]})
    assert r.status_code == 303
    copies = db.exec(select(Task).where(Task.source_task_id.in_([src.id, _task(db, 1, 1).id]))).all()
    assert len(copies) == 2
    mine = c.get("/tasks")
    assert mine.status_code == 200 and "Xây dựng mới 20 nhà đại đoàn kết" in mine.text
    province = login("tinh.xem").get("/tasks?month=2023-07")
    # Yên Bình took 2 tasks; on 31/07 both are overdue (Q1 and Q2 are over).
    row = re.search(r"Yên Bình</a></td>\s*<td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>"
                    r"<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(.*?)</td>", province.text)
    assert row and row.group(1) == "2" and row.group(2) == "0" and ">2<" in row.group(4)


def test_audit_written_for_status_change_through_page(login, db):
    t = _task(db, 4, 2)
    login("tinh.nhaplieu").post(f"/tasks/{t.id}/status", data={"status": "in_progress", "version": "1"})
    assert db.exec(select(AuditLog).where(AuditLog.entity == "task", AuditLog.entity_id == t.id)).one()


def test_tasks_page_commune_user_follows_the_province_program(login):
    # Xuân Long has no plan of its own and Yên Bình (141) none yet: it follows the province's 44.
    r = login("xa.xem").get("/tasks")
    assert r.status_code == 200
    assert "Bồi dưỡng, tập huấn nghiệp vụ cán bộ Mặt trận" in r.text


def test_task_page_commune_user_reads_a_province_task_but_cannot_change_it(login, db):
    task = _task(db, 2, 7)
    c = login("xa.nhaplieu")
    assert c.get(f"/tasks/{task.id}").status_code == 200
    r = c.post(f"/tasks/{task.id}/status", data={"status": "done", "version": str(task.version)})
    assert r.status_code in (403, 404)
    db.refresh(task)
    assert task.status == "not_started"
