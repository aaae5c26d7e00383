"""The monthly report's head (number, date, theme, motto from settings and the program), its
on-track words, the print font shipped with the app, and dates that agree: a past year's
tasks judged as at the end of that year, the report picker on the latest month with figures."""
import re
from datetime import date

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.core.config import settings
from app.core.i18n import set_language
from app.program import service as tasks
from app.program.models import Indicator, Program, Task
from app.reports import service as reports
from app.units.models import Unit
from app.values.service import Figure as Entry
from app.values.service import save_value


@pytest.fixture(autouse=True)
def _vietnamese():
    set_language("vi")


@pytest.fixture
def put(db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(code: str, ind: str, period: str, value=None) -> None:
        unit = db.exec(select(Unit).where(Unit.code == code)).one()
        indicator = db.exec(select(Indicator).where(Indicator.code == ind)).one()
        save_value(db, admin, program, unit, indicator, period, Entry(value=value))
        db.commit()

    return _put


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_number_and_date_follow_the_settings(login):
    # April's report is due on the 20th of May; read years later, it is dated that day.
    r = login("tinh.xem").get("/reports/15/2023-04")
    assert r.status_code == 200
    assert "Số: 04/BC-MTTQ-BTT" in r.text
    assert "Yên Bái, ngày 20 tháng 05 năm 2023" in r.text


def test_report_number_format_is_a_setting(login, monkeypatch):
    monkeypatch.setattr(settings, "REPORT_NUMBER_FORMAT", "{month}-{year}/BC-MTTQ")
    monkeypatch.setattr(settings, "REPORTING_DAYS", {"province": 5})
    r = login("tinh.xem").get("/reports/15/2023-11")
    assert "Số: 11-2023/BC-MTTQ" in r.text
    assert "ngày 05 tháng 12 năm 2023" in r.text


def test_report_date_is_today_when_the_due_day_is_still_to_come(db):
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    assert reports.report_date("2023-04", "province", date(2023, 5, 3)) == date(2023, 5, 3)
    assert reports.report_date("2023-04", "province", date(2023, 6, 1)) == date(2023, 5, 20)
    assert province.depth == 0


def test_report_head_carries_theme_and_motto(login, db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    r = login("tinh.xem").get("/reports/15/2023-04")
    text = _text(r.text)
    assert f"Chủ đề năm 2023: {program.theme[:50]}" in text
    assert f"Phương châm: {program.motto}" in text


def test_report_says_on_track_before_the_year_ends(login, put):
    # Province fund 3,4 tỷ by April: ≥ 10 tỷ on track (10 × 4/12 = 3,33 tỷ), own ≥ 3 tỷ met.
    put("15", "CT15", "2023-02", 3_400_000_000)
    r = login("tinh.xem").get("/reports/15/2023-04")
    rows = [_text(tr) for tr in r.text.split('<tr data-code="CT15">')[1:]]
    assert "Đúng tiến độ" in rows[0] and "Đạt" in rows[1]
    assert "Chưa đạt" not in " ".join(rows)


def test_december_report_issued_after_the_year_says_not_met(login, put):
    put("15", "CT15", "2023-02", 3_400_000_000)
    r = login("tinh.xem").get("/reports/15/2023-12")
    rows = [_text(tr) for tr in r.text.split('<tr data-code="CT15">')[1:]]
    assert "Chưa đạt" in rows[0]


def test_print_font_is_shipped_with_its_licence(client):
    css = client.get("/static/report.css").text
    assert '@font-face { font-family: "MTTQ Noto Serif"' in css
    for url in set(re.findall(r"url\((/static/fonts/[^)]+)\)", css)):
        r = client.get(url)
        assert r.status_code == 200 and r.content[:4] == b"wOF2", url
    assert "SIL Open Font License" in client.get("/static/fonts/OFL-NotoSerif.txt").text
    # Used in print only: the screen rules name no web font.
    screen = css.split("@media print")[0]
    assert "MTTQ Noto Serif\", serif" not in screen.split("@font-face")[-1].split("}", 1)[1]


# --- dates that agree ------------------------------------------------------------------------

def _q4_task(db) -> Task:
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    return db.exec(select(Task).where(Task.plan_unit_id == province.id, Task.quarter == 4,
                                      Task.parent_id == None)).first()  # noqa: E711


def test_past_year_task_is_judged_at_the_end_of_its_year(db):
    task = _q4_task(db)
    task.due_month = None  # due with its quarter: 31/12/2023
    later = date(2026, 12, 2)
    task.status, task.done_on = "done", date(2023, 12, 20)
    assert tasks.state_of(task, 2023, later) == tasks.DONE
    # Done only in January 2024: on the 2023 program it stays overdue.
    task.done_on = date(2024, 1, 5)
    assert tasks.state_of(task, 2023, later) == tasks.OVERDUE
    assert tasks.state_of(task, 2023, date(2024, 1, 6)) == tasks.OVERDUE
    # Within the year the usual rule: a Q4 task is not overdue on 31/12.
    task.status, task.done_on = "in_progress", None
    assert tasks.state_of(task, 2023, date(2023, 12, 31)) == tasks.IN_PROGRESS
    assert tasks.as_judged(2023, later) == date(2023, 12, 31)
    assert tasks.as_judged(2023, date(2023, 5, 1)) == date(2023, 5, 1)


def test_report_picker_defaults_to_latest_month_with_figures(login, put):
    put("15", "CT15", "2023-06", 1_000_000)
    r = login("tinh.xem").get("/reports")
    assert re.search(r'<option value="2023-06" *selected>', r.text)


def test_long_overdue_list_prints_ten_and_keeps_the_rest_on_screen(login):
    # December: every task of the year still open is overdue, far more than a page holds.
    html = login("tinh.xem").get("/reports/15/2023-12").text
    section = html.split("III. Nhiệm vụ quá hạn")[1].split("IV. Nhiệm vụ trọng tâm")[0]
    total = int(re.search(r"có (\d+) nhiệm vụ quá hạn", section).group(1))
    assert total > 12
    printed, rest = section.split('<details class="no-print">')
    assert printed.count("<li>") == 10
    assert f"và {total - 10} nhiệm vụ quá hạn khác" in _text(printed)
    assert rest.count("<li>") == total - 10  # on screen, nothing is lost
    assert '<ol class="report-tasks" start="11">' in rest


def test_short_overdue_list_is_printed_whole(login, db):
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    overdue = reports.monthly_report(db, province, "2023-04").overdue
    for v in overdue[3:]:  # all but three done in March
        v.task.status, v.task.done_on = tasks.DONE, date(2023, 3, 20)
        db.add(v.task)
    db.commit()
    html = login("tinh.xem").get("/reports/15/2023-04").text
    section = html.split("III. Nhiệm vụ quá hạn")[1].split("IV. Nhiệm vụ trọng tâm")[0]
    assert "có 3 nhiệm vụ quá hạn" in section and section.count("<li>") == 3
    assert "<details" not in section and "nhiệm vụ quá hạn khác" not in section
