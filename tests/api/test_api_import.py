"""POST /api/v1/data-values: the bulk import (JSON dataValueSet and CSV), all-or-nothing."""
import pytest
from sqlmodel import select

from app.audit.models import AuditLog
from app.units.models import Unit
from app.values.models import PeriodSubmission
from tests.api_support import assert_problem, bearer, count_values, make_token, stored

URL = "/api/v1/data-values"
# 04720 Xuân Long (commune of 141 Yên Bình) enters CT17 supervisions; its village 04720-01 the
# cultural-standard households CT11 (a ratio).
TWO = {"dataValues": [
    {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": "2"},
    {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04", "numerator": 120, "denominator": 150},
]}


@pytest.fixture
def api(client, db):
    """A write token of district 141."""
    return bearer(client, make_token(db, "141"))


def _villages(db, n: int) -> list[str]:
    return list(db.exec(select(Unit.code).where(Unit.depth == 3).order_by(Unit.code).limit(n)).all())


# --- success, idempotency, updates -----------------------------------------------------------

def test_import_json_creates_both_figures(api, db):
    r = api.post(URL, json=TWO)
    assert r.status_code == 200
    assert r.json() == {"status": "imported", "dryRun": False, "total": 2, "imported": 2, "updated": 0,
                        "unchanged": 0, "deleted": 0, "rejected": []}
    assert stored(db, "04720", "CT17", "2023-04").value == 2
    ct11 = stored(db, "04720-01", "CT11", "2023-04")
    assert (ct11.numerator, ct11.denominator, ct11.updated_via) == (120, 150, "api")


def test_import_json_writes_audit_rows_via_api(api, db):
    assert api.post(URL, json=TWO).status_code == 200
    rows = db.exec(select(AuditLog).where(AuditLog.entity == "data_value")).all()
    assert sorted((a.action, a.via, a.token_id is not None) for a in rows) == [("create", "api", True)] * 2


def test_import_audit_rows_point_at_the_new_figures(api, db):
    # The batch flushes once at its end; each "create" audit row still names its data_value.
    assert api.post(URL, json=TWO).status_code == 200
    dv = stored(db, "04720", "CT17", "2023-04")
    audit = db.exec(select(AuditLog).where(AuditLog.unit_id == dv.unit_id,
                                           AuditLog.indicator_id == dv.indicator_id)).one()
    assert audit.entity_id == dv.id


def test_import_same_batch_twice_leaves_everything_unchanged(api, db):
    assert api.post(URL, json=TWO).status_code == 200
    r = api.post(URL, json=TWO)
    assert r.status_code == 200
    assert (r.json()["imported"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 2)
    assert stored(db, "04720", "CT17", "2023-04").version == 1


def test_import_changed_value_counts_as_updated(api, db):
    api.post(URL, json=TWO)
    r = api.post(URL, json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": 3}]})
    assert r.status_code == 200
    assert r.json()["updated"] == 1
    dv = stored(db, "04720", "CT17", "2023-04")
    assert (dv.value, dv.version) == (3, 2)


def test_import_empty_value_clears_the_figure(api, db):
    api.post(URL, json=TWO)
    r = api.post(URL, json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2023-04", "value": ""}]})
    assert r.status_code == 200
    assert r.json()["deleted"] == 1
    assert stored(db, "04720", "CT17", "2023-04") is None


def test_import_batch_comment_goes_on_each_figure(api, db):
    r = api.post(URL, json={**TWO, "comment": "Số liệu từ hệ thống huyện"})
    assert r.status_code == 200
    assert stored(db, "04720", "CT17", "2023-04").comment == "Số liệu từ hệ thống huyện"


def test_import_updates_the_rollup(api):
    # CT17 for 141's tree in April: only 04720's 2.
    api.post(URL, json=TWO)
    r = api.get("/api/v1/rollups?unit=141&period=2023-04&indicator=CT17")
    assert r.status_code == 200
    assert r.json()["indicators"][0]["subtree"]["value"] == 2


def test_import_dhis2_shape_with_set_level_unit_and_month(api, db):
    # DHIS2 clients send the unit and the month once, months as YYYYMM, and fields we ignore.
    r = api.post(URL, json={"dataSet": "MTTQ", "orgUnit": "04720", "period": "202304", "dataValues": [
        {"dataElement": "CT17", "value": "2", "categoryOptionCombo": "HllvX50cXC0"},
        {"dataElement": "CT14", "period": "2023-05", "value": 3}]})
    assert r.status_code == 200
    assert r.json()["imported"] == 2
    assert stored(db, "04720", "CT17", "2023-04").value == 2
    assert stored(db, "04720", "CT14", "2023-05").value == 3


def test_import_row_without_unit_anywhere_is_422_schema_error(api):
    body = assert_problem(api.post(URL, json={"dataValues": [{"dataElement": "CT17", "period": "2023-04",
                                                               "value": 1}]}), 422)
    assert "no orgUnit" in body["errors"][0]["msg"]


def test_import_csv_dhis2_month(api, db):
    text = "orgUnit,dataElement,period,value\n04720,CT17,202306,4\n"
    r = api.post(URL, content=text.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    assert stored(db, "04720", "CT17", "2023-06").value == 4


# --- dry run ---------------------------------------------------------------------------------

def test_import_dry_run_reports_and_writes_nothing(api, db):
    before = count_values(db)
    r = api.post(URL + "?dryRun=true", json=TWO)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["dryRun"], r.json()["imported"]) == ("dry_run", True, 2)
    assert count_values(db) == before
    assert db.exec(select(AuditLog)).all() == []


def test_import_dry_run_lists_rejected_rows_with_200(api, db):
    bad = {"dataValues": [*TWO["dataValues"],
                          {"orgUnit": "04720", "dataElement": "CT14", "period": "2023-04", "value": "-1"}]}
    r = api.post(URL + "?dryRun=true", json=bad)
    assert r.status_code == 200
    assert [(x["index"], x["code"]) for x in r.json()["rejected"]] == [(2, "negative")]
    assert count_values(db) == 0


# --- all or nothing --------------------------------------------------------------------------

def test_import_3000_rows_with_one_negative_writes_nothing(api, db):
    # 141's villages × five village indicators × three months, cut at 3,000 rows; row 1,236
    # (1,236 = 5 × 247 + 1, so CT07, a count of self-management groups) carries a negative.
    villages = list(db.exec(select(Unit.code).where(Unit.depth == 3, Unit.path.like(
        db.exec(select(Unit.path).where(Unit.code == "141")).one() + "%")).order_by(Unit.code)).all())
    rows = []
    for month in ("2023-04", "2023-05", "2023-06"):
        for code in villages:
            for ind in ("CT04", "CT07", "CT08", "CT09", "CT10"):
                rows.append({"orgUnit": code, "dataElement": ind, "period": month, "value": 1})
    rows = rows[:3000]
    assert len(rows) == 3000
    assert rows[1236]["dataElement"] == "CT07"
    rows[1236] = {**rows[1236], "value": -4}
    r = api.post(URL, json={"dataValues": rows})
    body = assert_problem(r, 422)
    assert body["title"] == "Import rejected"
    assert [(x["index"], x["orgUnit"], x["code"], x["field"]) for x in body["rejected"]] == [
        (1236, rows[1236]["orgUnit"], "negative", "value")]
    assert body["imported"] == 0 and "nothing was imported" in body["detail"]
    assert count_values(db) == 0
    assert db.exec(select(AuditLog)).all() == []


def test_import_rejects_unknown_indicator(api):
    body = assert_problem(api.post(URL, json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT99", "period": "2023-04", "value": 1}]}), 422)
    assert body["rejected"][0]["code"] == "unknown_indicator"


def test_import_rejects_a_level_that_does_not_enter_the_indicator(api):
    # CT17 is entered by province, districts and communes, not by villages.
    body = assert_problem(api.post(URL, json={"dataValues": [
        {"orgUnit": "04720-01", "dataElement": "CT17", "period": "2023-04", "value": 1}]}), 422)
    assert body["rejected"][0]["code"] == "level_does_not_enter"


def test_import_rejects_a_month_outside_the_program(api):
    body = assert_problem(api.post(URL, json={"dataValues": [
        {"orgUnit": "04720", "dataElement": "CT17", "period": "2022-12", "value": 1}]}), 422)
    assert body["rejected"][0]["code"] == "period_outside_program"


def test_import_rejects_a_submitted_month(api, db):
    db.add(PeriodSubmission(unit_id=db.exec(select(Unit.id).where(Unit.code == "04720")).one(),
                            period="2023-04"))
    db.commit()
    body = assert_problem(api.post(URL, json=TWO), 422)
    assert [(x["index"], x["code"]) for x in body["rejected"]] == [(0, "period_submitted")]
    assert stored(db, "04720-01", "CT11", "2023-04") is None  # the valid row is not written either


def test_import_rejects_the_same_figure_twice(api):
    row = TWO["dataValues"][0]
    body = assert_problem(api.post(URL, json={"dataValues": [row, {**row, "value": "3"}]}), 422)
    assert [(x["index"], x["code"]) for x in body["rejected"]] == [(1, "duplicate_row")]


def test_import_rejects_a_value_for_a_ratio(api):
    body = assert_problem(api.post(URL, json={"dataValues": [
        {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04", "value": 80}]}), 422)
    assert body["rejected"][0]["code"] == "wrong_fields"


def test_import_rejects_numerator_above_denominator_with_the_form_rule(api):
    body = assert_problem(api.post(URL, json={"dataValues": [
        {"orgUnit": "04720-01", "dataElement": "CT11", "period": "2023-04", "numerator": 9,
         "denominator": 5}]}), 422)
    assert body["rejected"][0]["code"] == "numerator_above_denominator"


# --- scope and permission --------------------------------------------------------------------

def test_import_into_a_unit_outside_the_token_scope_refuses_the_batch(api, db):
    other = db.exec(select(Unit.code).where(Unit.depth == 2, Unit.path.like(
        db.exec(select(Unit.path).where(Unit.code == "132")).one() + "%"))).first()
    rows = [*TWO["dataValues"], {"orgUnit": other, "dataElement": "CT17", "period": "2023-04", "value": 1}]
    body = assert_problem(api.post(URL, json={"dataValues": rows}), 422)
    assert [(x["index"], x["orgUnit"], x["code"]) for x in body["rejected"]] == [(2, other, "unknown_unit")]
    assert count_values(db) == 0


def test_import_with_a_read_token_is_403(client, db):
    bearer(client, make_token(db, "141", "read"))
    assert_problem(client.post(URL, json=TWO), 403)
    assert count_values(db) == 0


def test_import_by_a_signed_in_editor_with_csrf_header(login, db):
    c = login("xa.nhaplieu")  # editor of 04720, may enter for its villages
    r = c.post(URL, json=TWO)
    assert r.status_code == 200
    assert r.json()["imported"] == 2


def test_import_by_a_signed_in_viewer_is_403(login):
    assert_problem(login("xa.xem").post(URL, json=TWO), 403)


# --- Idempotency-Key -------------------------------------------------------------------------

def test_import_same_idempotency_key_replays_the_stored_answer(api, db):
    first = api.post(URL, json=TWO, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 200
    second = api.post(URL, json=TWO, headers={"Idempotency-Key": "batch-1"})
    assert second.status_code == 200
    # Replayed: still "imported 2", not "unchanged 2" as a fresh run would say.
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert stored(db, "04720", "CT17", "2023-04").version == 1


def test_import_same_idempotency_key_with_another_body_is_422(api):
    assert api.post(URL, json=TWO, headers={"Idempotency-Key": "batch-2"}).status_code == 200
    other = {"dataValues": [{**TWO["dataValues"][0], "value": "7"}]}
    body = assert_problem(api.post(URL, json=other, headers={"Idempotency-Key": "batch-2"}), 422)
    assert "Idempotency-Key" in body["detail"]


def test_import_rejected_batch_does_not_consume_its_idempotency_key(api, db):
    bad = {"dataValues": [{**TWO["dataValues"][0], "value": "-1"}]}
    assert_problem(api.post(URL, json=bad, headers={"Idempotency-Key": "batch-3"}), 422)
    r = api.post(URL, json=bad, headers={"Idempotency-Key": "batch-3"})
    assert_problem(r, 422)
    assert "Idempotent-Replayed" not in r.headers


def test_import_losing_a_race_on_the_same_figures_is_409(api, db, monkeypatch):
    # Another request inserted the same figure between our read and our write: the unique
    # constraint refuses ours at the flush; the caller is told to send the batch again.
    from sqlalchemy.exc import IntegrityError

    from app.values import bulk

    def racing(*_a, **_k):
        raise IntegrityError("INSERT INTO data_value …", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(bulk, "import_values", racing)
    body = assert_problem(api.post(URL, json=TWO), 409)
    assert "Send it again" in body["detail"]
    assert count_values(db) == 0


# --- CSV and bad bodies ----------------------------------------------------------------------

CSV_TEXT = ("orgUnit,dataElement,period,value,numerator,denominator\n"
            "04720,CT17,2023-04,2,,\n"
            "04720-01,CT11,2023-04,,120,150\n")


def test_import_csv_creates_figures_via_import(api, db):
    r = api.post(URL, content=CSV_TEXT.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    assert r.json()["imported"] == 2
    assert stored(db, "04720", "CT17", "2023-04").updated_via == "import"


def test_import_csv_with_bom_and_semicolons(api, db):
    text = "\ufeff" + CSV_TEXT.replace(",", ";")
    r = api.post(URL, content=text.encode(), headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200
    assert r.json()["imported"] == 2


def test_import_csv_rejection_names_the_file_line(api):
    # Line 1 is the header, so the third data row is line 4.
    text = CSV_TEXT + "04720,CT14,2023-04,abc,,\n"
    body = assert_problem(api.post(URL, content=text.encode(), headers={"Content-Type": "text/csv"}), 422)
    assert [(x["index"], x["line"], x["code"]) for x in body["rejected"]] == [(2, 4, "not_number")]


def test_import_csv_without_required_column_is_422(api):
    body = assert_problem(api.post(URL, content=b"unit,value\n04720,2\n",
                                   headers={"Content-Type": "text/csv"}), 422)
    assert "orgUnit" in body["detail"]


def test_import_csv_code_with_nul_byte_is_a_rejected_row(api, db):
    # PostgreSQL refuses NUL in text: such a code must never reach a query.
    text = CSV_TEXT + "047\x0020,CT17,2023-05,1,,\n"
    body = assert_problem(api.post(URL, content=text.encode(), headers={"Content-Type": "text/csv"}), 422)
    assert [(x["line"], x["code"]) for x in body["rejected"]] == [(4, "unknown_unit")]
    assert count_values(db) == 0


def test_import_json_comment_with_nul_byte_is_a_rejected_row(api):
    rows = [{**TWO["dataValues"][0], "comment": "a\x00b"}]
    body = assert_problem(api.post(URL, json={"dataValues": rows}), 422)
    assert body["rejected"][0]["code"] == "bad_characters"


def test_import_json_code_with_bad_characters_is_422_schema_error(api):
    rows = [{**TWO["dataValues"][0], "orgUnit": "04720; DROP"}]
    body = assert_problem(api.post(URL, json={"dataValues": rows}), 422)
    assert body["errors"][0]["loc"] == ["body", "dataValues", 0, "orgUnit"]


def test_import_other_content_type_is_415(api):
    assert_problem(api.post(URL, content=b"<xml/>", headers={"Content-Type": "application/xml"}), 415)


def test_import_malformed_json_is_422_with_errors(api):
    body = assert_problem(api.post(URL, content=b'{"dataValues": [{"orgUnit": 1}]}',
                                   headers={"Content-Type": "application/json"}), 422)
    assert body["errors"] and body["errors"][0]["loc"][0] == "body"


def test_import_into_many_villages_counts_each(api, db):
    # 3 villages of 04720 × CT08 yes/no → 3 imported.
    codes = [c for c in _villages(db, 5000) if c.startswith("04720-")][:3]
    r = api.post(URL, json={"dataValues": [
        {"orgUnit": c, "dataElement": "CT08", "period": "2023-04", "value": "có"} for c in codes]})
    assert r.status_code == 200
    assert r.json()["imported"] == 3
    assert stored(db, codes[0], "CT08", "2023-04").value == 1
