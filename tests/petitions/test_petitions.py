"""Petitions: recording with bad input refused, compiling with sources, freezing once sent, the
status flow one step at a time, answers with checked files, figures worked out by hand."""
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from app.audit.models import AuditLog
from app.petitions import service as svc
from app.petitions.models import Petition, PetitionItem, PetitionSummary
from tests.petition_support import (
    SECRET_CONTACT,
    SECRET_NAME,
    council_session,
    field,
    hear,
    principal,
    sibling_commune,
    unit,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Attached files go to a folder of the test's own."""
    monkeypatch.setattr(svc.settings, "PETITION_FILES_DIR", tmp_path / "files")
    return tmp_path / "files"


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _form(client, **values) -> dict:
    data = {"csrf_token": client.headers["X-CSRF-Token"]}
    data.update(values)
    return data


def _summary(db, psession, by: str = "tinh.quantri", code: str = "15") -> PetitionSummary:
    return svc.summary_for(db, principal(db, by), "web", unit(db, code), psession)


# --- recording -------------------------------------------------------------------------------

def test_record_petition_from_commune_page_saves_it_and_audits_without_personal_data(db, login):
    psession = council_session(db)
    db.commit()
    client = login("xa.nhaplieu")
    r = client.post("/petitions/new", data=_form(
        client, unit="04720", channel="voter_meeting", session_id=str(psession.id), heard_on="12/04/2023",
        place="Nhà văn hóa thôn 3", raiser_kind="person", raiser_name=SECRET_NAME, raiser_contact=SECRET_CONTACT,
        field_id=str(field(db, "land").id), content="Đề nghị cấp giấy chứng nhận quyền sử dụng đất.",
        addressee="department", addressee_detail="Sở Tài nguyên và Môi trường"))
    assert r.status_code == 303
    assert r.headers["location"].startswith("/petitions/new?saved=")
    p = db.exec(select(Petition)).one()
    assert (p.unit_id, p.heard_on, p.raiser_name, p.addressee) == (unit(db, "04720").id, date(2023, 4, 12),
                                                                    SECRET_NAME, "department")
    log = db.exec(select(AuditLog).where(AuditLog.entity == "petition", AuditLog.entity_id == p.id)).one()
    assert log.action == "create" and "cấp giấy chứng nhận" in log.new
    assert SECRET_NAME not in log.new and SECRET_CONTACT not in log.new


def test_record_keeps_where_and_when_for_the_next_petition(db, login):
    psession = council_session(db)
    db.commit()
    client = login("xa.nhaplieu")
    r = client.post("/petitions/new", data=_form(
        client, channel="voter_meeting", session_id=str(psession.id), heard_on="12/04/2023", place="Thôn 3",
        raiser_kind="group", field_id=str(field(db).id), content="Đề nghị làm rõ ranh giới đất.",
        addressee="local_authority"), follow_redirects=True)
    assert r.status_code == 200
    assert "Đã ghi nhận kiến nghị." in r.text
    assert 'value="12/04/2023"' in r.text and 'value="Thôn 3"' in r.text


@pytest.mark.parametrize("change, message", [
    ({"content": "   "}, "Hãy ghi nội dung cử tri, Nhân dân kiến nghị."),
    ({"addressee": "bo_truong"}, "Hãy chọn nơi nhận kiến nghị trong danh sách."),
    ({"field_id": "999999"}, "Hãy chọn lĩnh vực trong danh sách."),
    ({"heard_on": "31/02/2023"}, "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/04/2023."),
    ({"session_id": ""}, "Hội nghị tiếp xúc cử tri gắn với một kỳ họp: hãy chọn kỳ họp."),
])
def test_record_bad_input_answers_vietnamese_message_and_writes_nothing(db, login, change, message):
    psession = council_session(db)
    db.commit()
    client = login("xa.nhaplieu")
    values = dict(channel="voter_meeting", session_id=str(psession.id), heard_on="12/04/2023", raiser_kind="person",
                  field_id=str(field(db).id), content="Đề nghị sửa đường.", addressee="provincial_council")
    values.update(change)
    audits = _count(db, AuditLog)
    r = client.post("/petitions/new", data=_form(client, **values))
    assert r.status_code == 422
    assert message in r.text
    assert _count(db, Petition) == 0 and _count(db, AuditLog) == audits


def test_record_for_a_sibling_commune_is_404_and_viewer_403(db, login):
    other = sibling_commune(db)
    assert login("xa.nhaplieu").get(f"/petitions/new?unit={other.code}").status_code == 404
    assert login("xa.xem").get("/petitions/new").status_code == 403


# --- compiling -------------------------------------------------------------------------------

def test_compile_merges_petitions_of_two_communes_into_one_item_that_keeps_its_sources(db, login):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"), "Đường liên xã bị sạt lở.")
    b = hear(db, psession, sibling_commune(db), "Sửa đường liên xã mùa mưa.")
    c = hear(db, psession, unit(db, "04720"), "Hỗ trợ hộ nghèo làm nhà.", field_code="social_policy")
    summary = _summary(db, psession)
    db.commit()
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/summaries/{summary.id}/items", data=_form(
        client, petition=[str(a.id), str(b.id)], content="Cử tri hai xã đề nghị sửa tuyến đường liên xã."))
    assert r.status_code == 303
    item = db.exec(select(PetitionItem).where(PetitionItem.summary_id == summary.id)).one()
    assert (item.number, item.status, item.addressee) == (1, "compiled", "provincial_council")
    assert item.field_id == field(db, "infrastructure").id  # both sources agree
    assert sorted(p.id for p, _u in svc.sources_of(db, [item.id])[item.id]) == sorted([a.id, b.id])
    assert [p.id for p, _u in svc.pending(db, summary)] == [c.id]
    page = client.get(f"/petitions/summaries/{summary.id}").text
    assert "Cử tri hai xã đề nghị sửa tuyến đường liên xã." in page
    assert sibling_commune(db).name in page  # the source units are named


def test_compile_several_without_content_is_refused_with_nothing_written(db, login):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    b = hear(db, psession, sibling_commune(db))
    summary = _summary(db, psession)
    db.commit()
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/summaries/{summary.id}/items", data=_form(client, petition=[str(a.id), str(b.id)]))
    assert r.status_code == 422
    assert "Hãy viết nội dung tổng hợp của các kiến nghị được gộp." in r.text
    assert _count(db, PetitionItem) == 0
    assert db.get(Petition, a.id).item_id is None


def test_compile_a_petition_twice_is_a_conflict(db):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    summary = _summary(db, psession)
    admin = principal(db, "tinh.quantri")
    svc.compile_item(db, admin, "web", summary, [a.id])
    with pytest.raises(svc.PetitionError) as e:
        svc.compile_item(db, admin, "web", summary, [a.id])
    assert e.value.status == 409


def test_district_summary_gathers_only_its_own_communes(db):
    psession = council_session(db)
    mine = hear(db, psession, unit(db, "04720"))
    other_district = db.exec(select(svc.Unit).where(svc.Unit.parent_id == unit(db, "132").id)).first()
    hear(db, psession, other_district)
    summary = _summary(db, psession, "huyen.quantri", "141")
    assert [p.id for p, _u in svc.pending(db, summary)] == [mine.id]


def test_sent_summary_is_frozen_compiling_answers_409_and_writes_nothing(db, login):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    b = hear(db, psession, unit(db, "04720"), "Nội dung khác.")
    summary = _summary(db, psession)
    admin = principal(db, "tinh.quantri")
    item = svc.compile_item(db, admin, "web", summary, [a.id])
    svc.send(db, admin, "web", summary, date(2023, 7, 20))
    db.commit()
    assert (summary.status, summary.sent_on) == ("sent", date(2023, 7, 20))
    db.refresh(item)
    assert (item.status, item.due_on) == ("forwarded", date(2023, 8, 19))  # 30 days after sending
    client = login("tinh.nhaplieu")
    audits = _count(db, AuditLog)
    r = client.post(f"/petitions/summaries/{summary.id}/items", data=_form(client, petition=[str(b.id)]))
    assert r.status_code == 409
    assert "Bản tổng hợp này đã gửi ngày 20/07/2023: không thể sửa nữa." in r.text
    assert _count(db, PetitionItem) == 1 and db.get(Petition, b.id).item_id is None
    r = client.post(f"/petitions/summaries/{summary.id}/send", data=_form(client, sent_on="21/07/2023"))
    assert r.status_code == 409
    assert _count(db, AuditLog) == audits
    assert db.get(PetitionSummary, summary.id).sent_on == date(2023, 7, 20)


def test_send_an_empty_summary_is_refused(db):
    psession = council_session(db)
    summary = _summary(db, psession)
    with pytest.raises(svc.PetitionError):
        svc.send(db, principal(db, "tinh.quantri"), "web", summary, date(2023, 7, 20))
    assert summary.status == "draft"


# --- following -------------------------------------------------------------------------------

def _forwarded_item(db, due: date | None = None) -> PetitionItem:
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    summary = _summary(db, psession)
    admin = principal(db, "tinh.quantri")
    item = svc.compile_item(db, admin, "web", summary, [a.id])
    svc.send(db, admin, "web", summary, date(2023, 7, 20), due)
    db.refresh(item)
    return item


def test_status_flow_goes_one_step_at_a_time_and_each_step_is_audited(db):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    summary = _summary(db, psession)
    admin = principal(db, "tinh.quantri")
    item = svc.compile_item(db, admin, "web", summary, [a.id])
    for wrong in ("answered", "closed", "forwarded"):  # forwarded only by sending the summary
        with pytest.raises(svc.PetitionError) as e:
            svc.set_status(db, admin, "web", item, wrong)
        assert e.value.status == 409 and item.status == "compiled"
    svc.send(db, admin, "web", summary, date(2023, 7, 20))
    db.refresh(item)
    with pytest.raises(svc.PetitionError) as e:
        svc.set_status(db, admin, "web", item, "closed")
    assert e.value.status == 409
    svc.answer(db, admin, "web", item, "Sở đã bố trí vốn sửa đường.", date(2023, 8, 1), "12/SGTVT")
    assert (item.status, item.answered_on, item.answer_ref) == ("answered", date(2023, 8, 1), "12/SGTVT")
    with pytest.raises(svc.PetitionError) as e:  # a second answer
        svc.answer(db, admin, "web", item, "Khác.", date(2023, 8, 2))
    assert e.value.status == 409
    svc.set_status(db, admin, "web", item, "closed")
    assert item.status == "closed"
    with pytest.raises(svc.PetitionError):
        svc.set_status(db, admin, "web", item, "answered")
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "petition_item",
                                                    AuditLog.entity_id == item.id).order_by(AuditLog.id)).all()
    assert actions == ["create", "answer", "update"]
    assert db.exec(select(AuditLog.action).where(AuditLog.entity == "petition_summary",
                                                 AuditLog.entity_id == summary.id).order_by(AuditLog.id)).all() == [
        "create", "send"]


def test_close_out_of_order_on_the_page_answers_409_in_vietnamese(db, login):
    item = _forwarded_item(db)
    db.commit()
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/items/{item.id}/status", data=_form(client, status="closed"))
    assert r.status_code == 409
    assert "Mục đang ở bước “Đã chuyển”: không thể chuyển sang “Đã kết thúc”" in r.text
    assert db.get(PetitionItem, item.id).status == "forwarded"


def test_answer_with_a_pdf_stores_it_under_a_random_name_and_serves_it_to_the_scope_only(db, login, files):
    item = _forwarded_item(db)
    db.commit()
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/items/{item.id}/answer",
                    data=_form(client, answer_text="Đã bố trí vốn.", answered_on="01/08/2023", answer_ref="12/SGTVT"),
                    files={"file": ("tra-loi.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text[:500]
    db.refresh(item)
    assert item.status == "answered" and item.file_type == "application/pdf" and item.file_label == "tra-loi.pdf"
    assert item.file_name.endswith(".pdf") and len(item.file_name) == 36 and "tra-loi" not in item.file_name
    assert (files / item.file_name).read_bytes() == PDF
    got = client.get(f"/petitions/items/{item.id}/file")
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert login("huyen.quantri").get(f"/petitions/items/{item.id}/file").status_code == 404  # below the province
    assert login("tinh.xem").get(f"/petitions/items/{item.id}/file").status_code == 200


@pytest.mark.parametrize("name, content, message", [
    ("tra-loi.pdf", b"MZ\x90\x00 not a pdf at all", "Hãy đính kèm tệp PDF hoặc ảnh (PNG, JPEG); tệp này không phải."),
    ("anh.png", b"GIF89a" + b"\x00" * 20, "Hãy đính kèm tệp PDF hoặc ảnh (PNG, JPEG); tệp này không phải."),
    ("lon.pdf", PDF + b"\x00" * 2048, "Tệp quá lớn (tối đa 1 KB)."),
])
def test_answer_with_a_wrong_or_too_large_file_writes_nothing(db, login, files, monkeypatch, name, content, message):
    monkeypatch.setattr(svc.settings, "PETITION_FILE_MAX_BYTES", 1024)
    item = _forwarded_item(db)
    db.commit()
    audits = _count(db, AuditLog)
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/items/{item.id}/answer",
                    data=_form(client, answer_text="Đã bố trí vốn.", answered_on="01/08/2023"),
                    files={"file": (name, content, "application/pdf")})
    assert r.status_code == 422
    assert message in r.text
    db.refresh(item)
    assert item.status == "forwarded" and item.answer_text is None and item.file_name is None
    assert not files.exists() or list(files.iterdir()) == []
    assert _count(db, AuditLog) == audits


def test_answer_with_a_png_is_accepted(db, files):
    item = _forwarded_item(db)
    svc.answer(db, principal(db, "tinh.quantri"), "web", item, "Đã trả lời.", date(2023, 8, 1), None,
               (PNG, "anh.png"))
    assert item.file_type == "image/png" and item.file_name.endswith(".png")


def test_supervision_marks_an_unsatisfactory_answer_and_needs_a_reason(db, login):
    item = _forwarded_item(db)
    admin = principal(db, "tinh.quantri")
    with pytest.raises(svc.PetitionError):  # not answered yet
        svc.supervise(db, admin, "web", item, True, "Chưa rõ.")
    svc.answer(db, admin, "web", item, "Sẽ xem xét.", date(2023, 8, 1))
    with pytest.raises(svc.PetitionError):
        svc.supervise(db, admin, "web", item, True, "")
    svc.supervise(db, admin, "web", item, True, "Trả lời chung chung, chưa nêu thời hạn.")
    db.commit()
    assert item.unsatisfactory
    page = login("tinh.xem").get(f"/petitions/items/{item.id}").text
    assert "Trả lời chưa thỏa đáng" in page and "chưa nêu thời hạn" in page


def test_overdue_answers_are_listed(db, login):
    item = _forwarded_item(db, due=date(2023, 8, 31))
    db.commit()
    assert [i.id for i, _s in svc.overdue(db, unit(db, "15"), date(2023, 9, 1))] == [item.id]
    assert svc.overdue(db, unit(db, "15"), date(2023, 8, 31)) == []  # due that day: not yet late
    page = login("tinh.xem").get("/petitions").text
    assert "Trả lời quá hạn (1)" in page  # today is long after 31/08/2023


# --- figures ---------------------------------------------------------------------------------

@pytest.fixture
def season(db):
    """Worked by hand. Province session; petitions heard:
    04720: P1 (12/04), P2 (12/04), P5 (20/05); sibling commune of 141: P3 (15/04);
    a commune of district 132: P4 (18/04).
    Items of the province summary (sent 01/06/2023, due 01/07/2023):
      A = P1 + P3, department, answered 20/06 (on time);
      B = P4, provincial council, answered 15/07 (late);
      C = P2, department, not answered.
    P5 stays received.
    Province: received 5, compiled 4, forwarded 4, answered 3 (A's two, B's one), on time 2.
    District 141: received 4 (P1, P2, P3, P5), compiled 3, forwarded 3, answered 2, on time 2.
    Answer rates (items): department 2 forwarded, 1 answered, 1 on time; council 1, 1, 0."""
    psession = council_session(db, held_on=date(2023, 7, 10))
    c141 = unit(db, "04720")
    sib = sibling_commune(db)
    c132 = db.exec(select(svc.Unit).where(svc.Unit.parent_id == unit(db, "132").id)).first()
    p1 = hear(db, psession, c141, "Đường liên xã sạt lở.", date(2023, 4, 12), addressee="department")
    p2 = hear(db, psession, c141, "Trường học xuống cấp.", date(2023, 4, 12), addressee="department")
    p3 = hear(db, psession, sib, "Sửa đường liên xã.", date(2023, 4, 15), addressee="department")
    p4 = hear(db, psession, c132, "Chế độ cho người có công.", date(2023, 4, 18), "social_policy")
    hear(db, psession, c141, "Nước sạch.", date(2023, 5, 20), "environment")
    admin = principal(db, "tinh.quantri")
    summary = _summary(db, psession)
    a = svc.compile_item(db, admin, "web", summary, [p1.id, p3.id], "Sửa tuyến đường liên xã.")
    b = svc.compile_item(db, admin, "web", summary, [p4.id])
    svc.compile_item(db, admin, "web", summary, [p2.id])
    svc.send(db, admin, "web", summary, date(2023, 6, 1))
    db.refresh(a)
    db.refresh(b)
    svc.answer(db, admin, "web", a, "Đã bố trí vốn.", date(2023, 6, 20), publish=True)
    svc.answer(db, admin, "web", b, "Đã chi trả.", date(2023, 7, 15))
    db.commit()
    return {"summary": summary, "a": a, "b": b}


def test_figures_count_petitions_by_how_far_their_item_went(db, season):
    f = svc.figures(db, unit(db, "15"), date(2023, 1, 1), date(2023, 12, 31))
    assert (f.received, f.compiled, f.forwarded, f.answered, f.on_time) == (5, 4, 4, 3, 2)
    f = svc.figures(db, unit(db, "141"), date(2023, 1, 1), date(2023, 12, 31))
    assert (f.received, f.compiled, f.forwarded, f.answered, f.on_time) == (4, 3, 3, 2, 2)
    f = svc.figures(db, unit(db, "15"), date(2023, 1, 1), date(2023, 4, 30))  # P5 heard in May
    assert f.received == 4


def test_answer_rates_per_addressee(db, season):
    rates = {r.addressee: (r.forwarded, r.answered, r.on_time) for r in svc.answer_rates(db, unit(db, "15"))}
    assert rates == {"provincial_council": (1, 1, 0), "department": (2, 1, 1)}


def test_dashboard_shows_petition_figures(login, season):
    page = login("tinh.xem").get("/dashboard/15?period=2023-12").text
    block = page[page.index('id="petition-figures"'):]
    assert [int(x) for x in _dd_numbers(block)] == [5, 4, 4, 3, 2]
    page = login("huyen.xem").get("/dashboard/141?period=2023-12").text
    block = page[page.index('id="petition-figures"'):]
    assert [int(x) for x in _dd_numbers(block)] == [4, 3, 3, 2, 2]


def _dd_numbers(html: str) -> list[str]:
    import re

    return re.findall(r"<dd>(\d+)</dd>", html)[:5]


def test_monthly_report_shows_petition_figures_to_its_month(login, season):
    text = login("tinh.xem").get("/reports/15/2023-12").text
    assert ("tiếp nhận <strong>5</strong> ý kiến, kiến nghị; đã tổng hợp <strong>4</strong>; đã chuyển cơ quan "
            "có thẩm quyền <strong>4</strong>; đã được trả lời <strong>3</strong>, trong đó trả lời đúng hạn "
            "<strong>2</strong>") in text
    april = login("tinh.xem").get("/reports/15/2023-04").text
    assert "tiếp nhận <strong>4</strong>" in april


def test_petition_tasks_show_the_session_summaries(db, login, season):
    from app.program.models import Task

    def task(q: int, n: int) -> Task:
        return db.exec(select(Task).where(Task.plan_unit_id == unit(db, "15").id, Task.quarter == q,
                                          Task.number == n, Task.parent_id.is_(None))).one()

    client = login("tinh.xem")
    for q, n in ((2, 4), (3, 2), (4, 5)):
        page = client.get(f"/tasks/{task(q, n).id}").text
        assert 'id="task-petitions"' in page and "Kỳ họp thứ 7, HĐND tỉnh khóa XIX" in page, (q, n)
    assert 'id="task-petitions"' not in client.get(f"/tasks/{task(2, 7).id}").text


def test_public_page_lists_published_answers_without_signing_in_and_without_personal_data(client, season):
    r = client.get("/public/petitions/15")
    assert r.status_code == 200
    assert "Sửa tuyến đường liên xã." in r.text and "Đã bố trí vốn." in r.text
    assert "Chế độ cho người có công" not in r.text  # answered but not published
    assert SECRET_NAME not in r.text and SECRET_CONTACT not in r.text
    assert client.get("/public/petitions/141").status_code == 404  # provinces only


def test_xlsx_export_leaves_out_personal_data_unless_asked_with_the_role(login, season):
    from io import BytesIO

    from openpyxl import load_workbook

    sid = season["summary"].id
    body = login("tinh.nhaplieu").get(f"/petitions/summaries/{sid}.xlsx").content
    wb = load_workbook(BytesIO(body))
    cells = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Sửa tuyến đường liên xã." in cells and SECRET_NAME not in cells and len(wb.sheetnames) == 1
    rows = list(wb["Tổng hợp"].iter_rows(min_row=4, values_only=True))
    assert [(r[0], r[6]) for r in rows] == [(1, 2), (2, 1), (3, 1)]  # numbers and how many sources each
    assert login("tinh.xem").get(f"/petitions/summaries/{sid}.xlsx?personal=true").status_code == 403
    body = login("tinh.nhaplieu").get(f"/petitions/summaries/{sid}.xlsx?personal=true").content
    wb = load_workbook(BytesIO(body))
    names = [r[3] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert names == [SECRET_NAME] * 4


def test_xlsx_export_writes_formula_like_content_as_text(db, login, season):
    from io import BytesIO

    from openpyxl import load_workbook

    item = db.exec(select(PetitionItem).where(PetitionItem.summary_id == season["summary"].id)).first()
    item.content = '=HYPERLINK("http://x.invalid","Bấm vào đây")'
    db.add(item)
    db.commit()
    body = login("tinh.nhaplieu").get(f"/petitions/summaries/{season['summary'].id}.xlsx").content
    cells = [c for row in load_workbook(BytesIO(body))["Tổng hợp"].iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert "'" + item.content in [c.value for c in cells]


def test_print_view_groups_items_by_field_and_addressee(login, season):
    text = login("tinh.xem").get(f"/petitions/summaries/{season['summary'].id}/print").text
    assert "Số: 1/BC-MTTQ-BTT" in text
    # Fields in the list's order (social policy before infrastructure), then addressees.
    assert text.index("1. Chính sách xã hội — Hội đồng nhân dân tỉnh") < text.index(
        "2. Hạ tầng, giao thông — Một sở, ngành của tỉnh")


def test_fields_list_is_edited_by_the_province_admin_only(db, login):
    client = login("tinh.quantri")
    assert client.post("/petitions/fields", data=_form(client, name="Nông nghiệp")).status_code == 303
    assert "Nông nghiệp" in [f.name for f in svc.fields_of(db)]
    again = client.post("/petitions/fields", data=_form(client, name="nông nghiệp"))
    assert again.status_code == 422 and "Lĩnh vực này đã có trong danh sách." in again.text
    district = login("huyen.quantri")
    assert district.post("/petitions/fields", data=_form(district, name="Khác nữa")).status_code == 403


def test_due_date_default_is_thirty_days(db):
    item = _forwarded_item(db)
    assert item.due_on == date(2023, 7, 20) + timedelta(days=30)


def test_every_petition_message_and_label_has_a_vietnamese_translation():
    """PetitionError messages and the addressee, channel, raiser and status words are shown
    through the catalogue: each has its Vietnamese line."""
    import ast
    from pathlib import Path

    from app.core import i18n

    messages = set()
    for path in Path(svc.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PetitionError" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                messages.add(node.args[0].value)
    for words in (svc.ADDRESSEES, svc.CHANNELS, svc.RAISER_KINDS, svc.STATUS_WORDS):
        messages.update(words.values())
    assert len(messages) > 40
    vi = i18n.catalogue("vi")
    assert sorted(m for m in messages if m not in vi._messages) == []



def test_docx_export_is_the_a4_report_with_items_and_sources_and_no_personal_data(login, season):
    from io import BytesIO

    from docx import Document

    r = login("tinh.nhaplieu").get(f"/petitions/summaries/{season['summary'].id}.docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    doc = Document(BytesIO(r.content))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1. Chính sách xã hội — Hội đồng nhân dân tỉnh" in text
    assert "2. Hạ tầng, giao thông — Một sở, ngành của tỉnh" in text
    assert "1. Sửa tuyến đường liên xã." in text  # item 1, merged from two communes
    assert SECRET_NAME not in text and SECRET_CONTACT not in text
    assert "Số: 1/BC-MTTQ-BTT" in doc.tables[0].rows[0].cells[0].text


def test_petitions_page_lists_summaries_and_answer_rates(login, season):
    page = login("tinh.xem").get("/petitions").text
    assert f'href="/petitions/summaries/{season["summary"].id}"' in page
    assert "Hội đồng nhân dân tỉnh</strong>: 100,0 %" in page
    assert "1 đã chuyển, 1 đã trả lời, 0 đúng hạn" in page
    assert "Một sở, ngành của tỉnh</strong>: 50,0 %" in page


def test_undo_an_item_of_a_draft_puts_its_petitions_back_and_is_refused_once_sent(db, login):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    b = hear(db, psession, sibling_commune(db))
    summary = _summary(db, psession)
    admin = principal(db, "tinh.quantri")
    item = svc.compile_item(db, admin, "web", summary, [a.id, b.id], "Gộp hai kiến nghị.")
    db.commit()
    client = login("tinh.nhaplieu")
    r = client.post(f"/petitions/items/{item.id}/release", data=_form(client))
    assert r.status_code == 303
    assert _count(db, PetitionItem) == 0
    assert sorted(p.id for p, _u in svc.pending(db, summary)) == sorted([a.id, b.id])
    item = svc.compile_item(db, admin, "web", summary, [a.id])
    svc.send(db, admin, "web", summary, date(2023, 7, 20))
    db.commit()
    r = client.post(f"/petitions/items/{item.id}/release", data=_form(client))
    assert r.status_code == 409
    assert db.get(Petition, a.id).item_id == item.id


def test_public_page_can_be_turned_off(client, monkeypatch):
    monkeypatch.setattr(svc.settings, "PETITIONS_PUBLIC_PAGE", False)
    assert client.get("/public/petitions/15").status_code == 404
