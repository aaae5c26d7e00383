"""The 44 tasks of section II are seeded exactly as the document has them."""
import unicodedata

from sqlmodel import Session, func, select

from app.program.departments import DEPARTMENTS
from app.program.models import Indicator, Program, Task, TaskIndicator
from app.seed.run import seed


def _province_tasks(db: Session) -> list[Task]:
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    return list(db.exec(select(Task).where(Task.plan_unit_id == program.root_unit_id,
                                           Task.is_addition == False)).all())  # noqa: E712


def _task(db: Session, quarter: int, number: int) -> Task:
    return next(t for t in _province_tasks(db)
                if t.quarter == quarter and t.number == number and t.parent_id is None)


def _links(db: Session, task: Task) -> set[str]:
    return set(db.exec(select(Indicator.code).join(TaskIndicator, TaskIndicator.indicator_id == Indicator.id)
                       .where(TaskIndicator.task_id == task.id)).all())


def test_seed_tasks_count_by_quarter(db: Session):
    top = [t for t in _province_tasks(db) if t.parent_id is None]
    by_q = {q: sum(1 for t in top if t.quarter == q) for q in (1, 2, 3, 4)}
    # Section II: Quý I (1)…(12), Quý II (1)…(13), Quý III (1)…(8), Quý IV (1)…(11) = 44.
    assert by_q == {1: 12, 2: 13, 3: 8, 4: 11}
    assert len(top) == 44
    for q, n in by_q.items():
        assert sorted(t.number for t in top if t.quarter == q) == list(range(1, n + 1))


def test_seed_tasks_texts_verbatim(db: Session):
    assert _task(db, 1, 4).text.endswith("lựa chọn 01 xã tổ chức Lễ phát động, ra quân thu gom, "
                                         "xủ lý rác thải sinh hoạt.")  # the document's own "xủ"
    assert _task(db, 2, 12).text == (
        "Tổ chức Hội nghị Ủy ban MTTQ tỉnh lần thứ 9, khóa XV nhiệm kỳ 2019-2024; sơ kết kết quả "
        "công tác Mặt trận 6 tháng đầu năm, triển khai nhiệm vụ 6 tháng cuối năm 2022 (tháng 6).")
    assert _task(db, 3, 8).text == ("Chỉ đạo, hướng dẫn xây dựng 02 mô hình hỗ trợ phát triển kinh tế "
                                    "tại một số huyện, thị, thành phố.")
    assert "Nghị quyết 04/NQ-ĐCT của Đoàn Chủ tịch Ủy ban Trung ương MTTQ Việt Nam và  biểu dương" \
        in _task(db, 4, 3).text  # the document's double space kept
    assert _task(db, 1, 2).text.startswith("Phối hợp vận động, tiếp nhận, phân bổ các nguồn lực")


def test_seed_tasks_texts_are_composed_unicode(db: Session):
    # The source writes part of Q1 (2) with combining accents; stored texts are NFC.
    for t in _province_tasks(db):
        assert unicodedata.is_normalized("NFC", t.text) and unicodedata.is_normalized("NFC", t.title)


def test_seed_tasks_due_months(db: Session):
    due = {(t.quarter, t.number): (t.due_month, t.due_note)
           for t in _province_tasks(db) if t.parent_id is None and t.due_month}
    assert due == {(2, 1): (4, None), (2, 12): (6, None), (3, 1): (7, None), (3, 2): (8, None),
                   (4, 1): (9, None),  # "(tháng 9)" in quarter IV: as the document says
                   (4, 2): (10, None), (4, 3): (11, None), (4, 5): (12, "tháng 11, 12"),
                   (4, 11): (12, None)}


def test_seed_tasks_q1_6_has_three_sub_items(db: Session):
    parent = _task(db, 1, 6)
    subs = sorted((t for t in _province_tasks(db) if t.parent_id == parent.id), key=lambda t: t.number)
    assert [s.text for s in subs] == [
        "Khảo sát xây dựng các mô hình hỗ trợ phát triển kinh tế",
        "Khảo sát xây dựng 20 nhà đại đoàn kết cho hộ nghèo; Khảo sát, vận động, giúp đỡ các hộ "
        "nghèo thoát nghèo.",
        "Khảo sát các hộ nghèo có nhu cầu thoát nghèo năm 2023.",
    ]
    assert [_links(db, s) for s in subs] == [{"CT13"}, {"CT12", "CT14"}, {"CT14"}]


def test_seed_tasks_indicator_links_named_by_the_program(db: Session):
    assert "CT12" in _links(db, _task(db, 2, 7))
    assert "CT13" in _links(db, _task(db, 3, 8))
    assert "CT05" in _links(db, _task(db, 1, 9))
    assert _links(db, _task(db, 4, 1)) == {"CT17"}


def test_seed_tasks_led_by_province_departments(db: Session):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    for t in _province_tasks(db):
        assert t.lead_unit_id == program.root_unit_id
        assert t.lead_department in DEPARTMENTS
        assert t.status == "not_started" and not t.is_addition


def test_seed_twice_keeps_44_tasks(db: Session):
    before = db.exec(select(func.count()).select_from(Task)).one()
    links = db.exec(select(func.count()).select_from(TaskIndicator)).one()
    seed(db, demo_users=True, demo_values=False)
    assert db.exec(select(func.count()).select_from(Task)).one() == before == 47  # 44 + 3 sub-items
    assert db.exec(select(func.count()).select_from(TaskIndicator)).one() == links
