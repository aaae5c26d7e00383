"""Dashboard pages: figures, targets in words, drill-down as a page and as an htmx fragment,
period selector, completeness, and the user's scope."""
import re

import pytest
from sqlmodel import select

from app.accounts.deps import Principal
from app.program.models import Indicator, Program
from app.units.models import Unit
from app.values.models import PeriodSubmission
from app.values.service import Figure as Entry
from app.values.service import save_value


@pytest.fixture
def put(db):
    program = db.exec(select(Program).where(Program.year == 2023)).one()
    root = db.get(Unit, program.root_unit_id)
    admin = Principal(unit=root, role="admin", via="web")

    def _put(code: str, ind: str, period: str, value=None, num=None, den=None) -> None:
        unit = db.exec(select(Unit).where(Unit.code == code)).one()
        indicator = db.exec(select(Indicator).where(Indicator.code == ind)).one()
        save_value(db, admin, program, unit, indicator, period,
                   Entry(value=value, numerator=num, denominator=den))
        db.commit()

    return _put


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_dashboard_shows_province_fund_against_target(login, put):
    # CT15: province 3 tỷ + Yên Bình 7 tỷ in Q1 → 10 tỷ: meets "≥ 10 tỷ đồng".
    put("15", "CT15", "2023-01", 3_000_000_000)
    put("141", "CT15", "2023-02", 7_000_000_000)
    r = login("tinh.xem").get("/dashboard/15?period=2023-Q1")
    assert r.status_code == 200
    card = _text(r.text.split('id="ind-CT15"')[1].split("</li>")[0])
    assert "10.000.000.000 đ" in card
    assert "10 tỷ đồng" in card
    assert "Đạt" in card
    assert "Quỹ Vì người nghèo các cấp đạt từ 10 tỷ đồng trở lên" in card


def test_dashboard_each_district_target_says_how_many_meet(login, put):
    # CT12 each district ≥ 3: only Yên Bình has 3 → "1/9 huyện đạt" and not met.
    put("141", "CT12", "2023-03", 3)
    r = login("tinh.xem").get("/dashboard/15?period=2023-Q1")
    assert r.status_code == 200
    card = _text(r.text.split('id="ind-CT12"')[1].split("</li>")[0])
    assert "1/9 huyện đạt" in card
    assert "Chưa đạt" in card


def test_dashboard_without_figures_says_no_data_in_words(login):
    r = login("tinh.xem").get("/dashboard/15?period=2023-01")
    assert r.status_code == 200
    assert "Chưa có số liệu" in _text(r.text)


def test_dashboard_defaults_to_users_unit(login):
    r = login("xa.xem").get("/dashboard")
    assert r.status_code == 200
    assert "<h1>Xã Xuân Long</h1>" in r.text  # named with its kind


def test_dashboard_outside_scope_is_404(login):
    r = login("xa.xem").get("/dashboard/15")
    assert r.status_code == 404


def test_drill_lists_districts_as_a_full_page(login, put):
    put("04720", "CT14", "2023-01", 4)
    r = login("tinh.xem").get("/dashboard/15/CT14?period=2023-Q1")
    assert r.status_code == 200
    assert "<html" in r.text
    text = _text(r.text)
    assert "Yên Bình" in text and "Văn Yên" in text
    assert 'href="/dashboard/141/CT14?period=2023-Q1&amp;year=2023"' in r.text


def test_drill_by_htmx_returns_the_fragment_only(login):
    r = login("tinh.xem").get("/dashboard/141/CT08?period=2023-Q1", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text
    assert "Xuân Long" in r.text


def test_drill_to_villages_shows_their_answers(login, put):
    commune = "04720"
    put(f"{commune}-01", "CT08", "2023-01", 1)
    r = login("xa.xem").get(f"/dashboard/{commune}/CT08?period=2023-01")
    assert r.status_code == 200
    text = _text(r.text)
    assert "Thôn 1" in text
    assert "1 / 9" not in text  # villages show shares, not raw parts
    assert "11,1 %" in text  # 1 of 9 villages said yes at the commune


def test_dashboard_bad_period_falls_back_with_a_message(login):
    r = login("tinh.xem").get("/dashboard/15?period=2024-13")
    assert r.status_code == 200
    assert "không phải là kỳ báo cáo" in r.text


def test_dashboard_completeness_counts_submitted_communes(login, db):
    # Yên Bình: 1 commune submitted March → "1/N đã gửi" in the band at the top.
    district = db.exec(select(Unit).where(Unit.code == "141")).one()
    communes = db.exec(select(Unit).where(Unit.parent_id == district.id)).all()
    db.add(PeriodSubmission(unit_id=communes[0].id, period="2023-03"))
    db.commit()
    r = login("huyen.xem").get("/dashboard/141?period=2023-Q1")
    assert r.status_code == 200
    band = _text(r.text.split('id="reporting"')[1].split("</section>")[0])
    assert f"1/{len(communes)} đã gửi" in band


def test_period_picker_lists_each_period_once():
    from app.rollup.pages import period_options

    groups = period_options(2023)
    values = [v for _g, opts in groups for v, _label in opts]
    labels = [label for _g, opts in groups for _v, label in opts]
    assert len(values) == len(set(values)) and len(labels) == len(set(labels))
    # 10 spans from January (to Feb, Apr … Nov) + the year, 4 quarters, 12 months.
    assert [len(opts) for _g, opts in groups] == [10, 4, 12]
    assert "2023-01..2023-03" not in values and "2023-Q1" in values and "2023" in values


def test_province_and_city_of_the_same_name_are_told_apart_by_their_kind(login):
    page = login("tinh.xem").get("/dashboard/15").text
    assert "<h1>Tỉnh Yên Bái</h1>" in page
    city = login("tinh.xem").get("/dashboard/132").text
    assert "<h1>Thành phố Yên Bái</h1>" in city
