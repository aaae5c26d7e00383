"""The monthly report: the same figures as the roll-up, in HTML and XLSX; tasks by month; scope."""
import re
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.accounts.deps import Principal
from app.accounts.models import User
from app.core.i18n import set_language
from app.program import display
from app.program import service as tasks
from app.program.models import Indicator, Program, Task
from app.program.periods import PeriodRange
from app.reports import service as reports
from app.reports.xlsx import SHEET_COMPLETENESS, SHEET_INDICATORS, SHEET_TASKS
from app.rollup.progress import Judge
from app.rollup.service import rollup
from app.units.models import Unit
from app.values.models import PeriodSubmission
from app.values.service import Figure, save_value


@pytest.fixture(autouse=True)
def _vietnamese():
    set_language("vi")
    yield
    set_language("vi")


def _unit(db: Session, code: str) -> Unit:
    return db.exec(select(Unit).where(Unit.code == code)).one()


def _principal(db: Session, username: str) -> Principal:
    user = db.exec(select(User).where(User.username == username)).one()
    return Principal(unit=db.get(Unit, user.unit_id), role=user.role, via="web", user=user)


def _program(db: Session) -> Program:
    return db.exec(select(Program).where(Program.year == 2023)).one()


def _ind(db: Session, code: str) -> Indicator:
    return db.exec(select(Indicator).where(Indicator.code == code)).one()


def _task(db: Session, quarter: int, number: int) -> Task:
    return db.exec(select(Task).where(Task.plan_unit_id == _unit(db, "15").id, Task.quarter == quarter,
                                      Task.number == number, Task.parent_id.is_(None))).one()


@pytest.fixture
def figures(db: Session):
    """Province houses (CT12 own): 8 in March + 4 in April = 12 by April; Yên Bình 3 in April;
    the province fund (CT15) 1.250.000.000 đ in April; CT17 province 1 supervision in April."""
    admin = _principal(db, "tinh.quantri")
    program = _program(db)
    province, yen_binh = _unit(db, "15"), _unit(db, "141")
    for unit, code, period, value in [(province, "CT12", "2023-03", 8), (province, "CT12", "2023-04", 4),
                                      (yen_binh, "CT12", "2023-04", 3),
                                      (province, "CT15", "2023-04", 1_250_000_000),
                                      (province, "CT17", "2023-04", 1)]:
        save_value(db, admin, program, unit, _ind(db, code), period, Figure(value=value))
    db.add(PeriodSubmission(unit_id=yen_binh.id, period="2023-04"))
    db.commit()
    return program


def test_report_figures_equal_rollup(db: Session, figures):
    province = _unit(db, "15")
    expected = rollup(db, province, PeriodRange.ytd("2023-04"), figures)
    report = reports.monthly_report(db, province, "2023-04", figures)
    assert [(r.indicator.code, r.subtree.value, r.status) for r in report.indicators] == \
        [(r.indicator.code, r.subtree.value, r.status) for r in expected]
    ct12 = next(r for r in report.indicators if r.indicator.code == "CT12")
    assert ct12.subtree.value == 15  # 8 + 4 province-led + 3 Yên Bình


def test_report_page_shows_rollup_figures(login, db: Session, figures):
    r = login("tinh.xem").get("/reports/15/2023-04")
    assert r.status_code == 200
    expected = {res.indicator.code: res for res in rollup(db, _unit(db, "15"), PeriodRange.ytd("2023-04"), figures)}
    for code, res in expected.items():
        row = re.search(rf'<tr data-code="{code}">.*?<td class="num fig"[^>]*>(.*?)</td>', r.text, re.S)
        assert row, code
        assert row.group(1).strip() == display.figure_text(res.indicator, res.subtree), code
    assert "15 nhà" in r.text  # CT12: 8 + 4 + 3
    assert "1.250.000.000 đ" in r.text  # CT15


def test_report_page_reads_like_an_official_report(login, figures):
    r = login("tinh.xem").get("/reports/15/2023-04")
    assert r.status_code == 200
    for words in ("ỦY BAN MTTQ VIỆT NAM", "TỈNH YÊN BÁI", "BAN THƯỜNG TRỰC",
                  "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                  "Kết quả thực hiện Chương trình công tác Mặt trận tháng 04 năm 2023",
                  "I. Kết quả thực hiện các chỉ tiêu", "II. Nhiệm vụ đã hoàn thành",
                  "III. Nhiệm vụ quá hạn", "IV. Nhiệm vụ trọng tâm tháng tới",
                  "V. Tình hình báo cáo của các đơn vị"):
        assert words in r.text, words
    assert re.search(r"Yên Bái, ngày \d\d tháng \d\d năm \d{4}", r.text)
    assert "/static/report.css" in r.text


def test_report_xlsx_figures_equal_rollup(login, db: Session, figures):
    r = login("tinh.xem").get("/reports/15/2023-04.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == [SHEET_INDICATORS, SHEET_TASKS, SHEET_COMPLETENESS]
    ws = wb[SHEET_INDICATORS]
    header = [c.value for c in ws[3]]
    code_col, value_col, status_col = header.index("Mã") + 1, header.index("Kết quả lũy kế") + 1, \
        header.index("Đánh giá") + 1
    cells: dict[str, list] = {}
    for row in ws.iter_rows(min_row=4, values_only=True):
        cells.setdefault(row[code_col - 1], []).append((row[value_col - 1], row[status_col - 1]))
    expected = rollup(db, _unit(db, "15"), PeriodRange.ytd("2023-04"), figures)
    # Statuses are the on-track verdicts, judged on the report's date (20/05/2023: April's
    # report is due on the 20th of May), the same rule as the dashboard's.
    judge = Judge(db, figures, PeriodRange.ytd("2023-04"), date(2023, 5, 20))
    words = {"met": "Đạt", "not_met": "Chưa đạt", "no_data": "Chưa có số liệu",
             "on_track": "Đúng tiến độ", "behind": "Chậm tiến độ"}
    for res in expected:
        rows = cells[res.indicator.code]
        assert all(v == res.subtree.value for v, _ in rows), res.indicator.code
        verdicts = [t.verdict for t in judge.indicator(_unit(db, "15"), res).targets]
        assert [s for _, s in rows] == ([words[v] for v in verdicts] or [words["no_data"]])
    assert "Chưa đạt" not in {s for rows in cells.values() for _, s in rows}  # April: none failed for good
    assert cells["CT12"][0][0] == 15 and cells["CT15"][0][0] == 1_250_000_000


def test_report_xlsx_completeness_equals_rollup_completeness(login, db: Session, figures):
    from app.rollup.service import completeness

    r = login("tinh.xem").get("/reports/15/2023-04.xlsx")
    ws = load_workbook(BytesIO(r.content))[SHEET_COMPLETENESS]
    c = completeness(db, _unit(db, "15"), "2023-04")
    rows = list(ws.iter_rows(min_row=4, max_row=3 + len(c.levels), values_only=True))
    assert [(row[0], row[1], row[2]) for row in rows] == [(lv.level, lv.submitted, lv.total) for lv in c.levels]
    assert rows[0][1] == 1 and rows[0][2] == 9  # Yên Bình alone submitted April among 9 districts


def test_report_tasks_done_overdue_and_next_month(db: Session, figures):
    p = _principal(db, "tinh.nhaplieu")
    done_in_april = _task(db, 2, 1)  # "(tháng 4)"
    tasks.set_status(db, p, done_in_april, "done", date(2023, 4, 20), expected_version=1)
    done_in_march = _task(db, 1, 1)
    tasks.set_status(db, p, done_in_march, "done", date(2023, 3, 10), expected_version=1)
    report = reports.monthly_report(db, _unit(db, "15"), "2023-04", figures)
    assert [v.task.id for v in report.done] == [done_in_april.id]
    # At 30/04: Q1's 12 tasks, less (1) done in March, are overdue: 11, plus Q1 (6)'s 3 sub-items.
    top_overdue = [v for v in report.overdue if v.parent is None]
    assert len(top_overdue) == 11 and all(v.task.quarter == 1 for v in top_overdue)
    assert len(report.overdue) == 14
    # May: Q2's quarter tasks (12 with no month, (12) is due in June) + none due in May by month.
    nxt = {(v.task.quarter, v.task.number) for v in report.next_month}
    assert (2, 7) in nxt and (2, 12) not in nxt and (2, 1) not in nxt and len(nxt) == 11


def test_report_lists_additions_of_the_month(db: Session, figures):
    t = tasks.add_task(db, _principal(db, "tinh.quantri"), figures, _unit(db, "15"), quarter=2,
                       title="Hỗ trợ khắc phục mưa đá", text="", due_month=5, lead_department=None,
                       reason="Mưa đá ngày 12/4", added_on=date(2023, 4, 14))
    report = reports.monthly_report(db, _unit(db, "15"), "2023-04", figures)
    assert [v.task.id for v in report.additions] == [t.id]
    assert t.id in {v.task.id for v in report.next_month}  # due in May


def test_report_page_marks_additions(login, db: Session, figures):
    tasks.add_task(db, _principal(db, "tinh.quantri"), figures, _unit(db, "15"), quarter=2,
                   title="Hỗ trợ khắc phục mưa đá", text="", due_month=5, lead_department=None,
                   reason="Mưa đá ngày 12/4", added_on=date(2023, 4, 14))
    db.commit()
    r = login("tinh.xem").get("/reports/15/2023-04")
    assert r.status_code == 200
    assert "Hỗ trợ khắc phục mưa đá" in r.text and "Bổ sung" in r.text and "Mưa đá ngày 12/4" in r.text


def test_report_district_uses_district_rollup(login, db: Session, figures):
    r = login("huyen.xem").get("/reports/141/2023-04")
    assert r.status_code == 200
    assert "HUYỆN YÊN BÌNH" in r.text
    expected = rollup(db, _unit(db, "141"), PeriodRange.ytd("2023-04"), figures)
    ct12 = next(x for x in expected if x.indicator.code == "CT12")
    assert ct12.subtree.value == 3
    assert re.search(r'<tr data-code="CT12">.*?<td class="num fig"[^>]*>\s*3 nhà\s*</td>', r.text, re.S)


def test_report_outside_scope_is_404(login):
    assert login("huyen.xem").get("/reports/15/2023-04").status_code == 404
    assert login("huyen.xem").get("/reports/15/2023-04.xlsx").status_code == 404
    assert login("huyen.xem").get("/reports/140/2023-04").status_code == 404


def test_report_bad_month_is_404(login):
    assert login("tinh.xem").get("/reports/15/2023-13").status_code == 404
    assert login("tinh.xem").get("/reports/15/2022-04").status_code == 404


def test_reports_index_redirects_to_chosen_report(login):
    c = login("tinh.xem")
    assert c.get("/reports").status_code == 200
    r = c.get("/reports?unit=141&period=2023-05")
    assert r.status_code == 303 and r.headers["location"] == "/reports/141/2023-05"
