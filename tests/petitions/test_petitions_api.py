"""/api/v1/petitions: tokens and scopes, problem+json for bad input and steps out of order."""
from datetime import date

from sqlmodel import func, select

from app.petitions import service as svc
from app.petitions.models import Petition, PetitionItem
from tests.api_support import assert_problem, bearer, make_token
from tests.petition_support import council_session, hear, principal, sibling_commune, unit


def _body(psession, **change) -> dict:
    body = {"unit": "04720", "channel": "voter_meeting", "session_id": psession.id, "heard_on": "2023-04-20",
            "field": "land", "content": "Đề nghị đo đạc lại đất.", "addressee": "department",
            "addressee_detail": "Sở Tài nguyên và Môi trường"}
    body.update(change)
    return body


def _count(db) -> int:
    return db.exec(select(func.count()).select_from(Petition)).one()


def test_create_petition_with_a_write_token(client, db):
    psession = council_session(db)
    token = make_token(db, "141", "write")
    r = bearer(client, token).post("/api/v1/petitions", json=_body(psession))
    assert r.status_code == 201
    body = r.json()
    assert (body["unit"], body["status"], body["field"], body["item_id"]) == ("04720", "received", "land", None)
    assert db.get(Petition, body["id"]).addressee_detail == "Sở Tài nguyên và Môi trường"


def test_create_with_a_read_token_is_403_and_outside_scope_404(client, db):
    psession = council_session(db)
    assert_problem(bearer(client, make_token(db, "141", "read")).post("/api/v1/petitions", json=_body(psession)), 403)
    r = bearer(client, make_token(db, "132", "write")).post("/api/v1/petitions", json=_body(psession))
    assert_problem(r, 404)
    assert _count(db) == 0


def test_create_bad_input_is_problem_json_and_writes_nothing(client, db):
    psession = council_session(db)
    c = bearer(client, make_token(db, "141", "write"))
    assert_problem(c.post("/api/v1/petitions", json=_body(psession, content="  ")), 422)
    assert_problem(c.post("/api/v1/petitions", json=_body(psession, addressee="bo_truong")), 422)
    body = assert_problem(c.post("/api/v1/petitions", json=_body(psession, field="khong_co")), 422)
    assert body["detail"] == "Choose the field from the list."
    assert _count(db) == 0


def test_list_filters_by_status_and_hides_names(client, db):
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    hear(db, psession, sibling_commune(db), "Nội dung khác.")
    summary = svc.summary_for(db, principal(db, "tinh.quantri"), "web", unit(db, "15"), psession)
    svc.compile_item(db, principal(db, "tinh.quantri"), "web", summary, [a.id])
    c = bearer(client, make_token(db, "15", "read"))
    body = c.get("/api/v1/petitions?status=compiled").json()
    assert body["count"] == 1 and body["data"][0]["id"] == a.id and body["data"][0]["raiser_name"] is None
    assert c.get("/api/v1/petitions?status=received").json()["count"] == 1
    assert c.get("/api/v1/petitions?subtree=04720").json()["count"] == 1
    assert_problem(c.get("/api/v1/petitions?personal=true"), 403)


def _forwarded(db) -> PetitionItem:
    psession = council_session(db)
    a = hear(db, psession, unit(db, "04720"))
    admin = principal(db, "tinh.quantri")
    summary = svc.summary_for(db, admin, "web", unit(db, "15"), psession)
    item = svc.compile_item(db, admin, "web", summary, [a.id])
    svc.send(db, admin, "web", summary, date(2023, 7, 20), date(2023, 8, 31))
    db.commit()
    db.refresh(item)
    return item


def test_status_out_of_order_is_409_problem_and_nothing_changes(client, db):
    item = _forwarded(db)
    c = bearer(client, make_token(db, "15", "write"))
    body = assert_problem(c.post(f"/api/v1/petitions/items/{item.id}/status", json={"status": "closed"}), 409)
    assert "forwarded" in body["detail"]
    db.refresh(item)
    assert item.status == "forwarded"


def test_answer_then_close_through_the_api(client, db):
    item = _forwarded(db)
    c = bearer(client, make_token(db, "15", "write"))
    r = c.post(f"/api/v1/petitions/items/{item.id}/answer",
               json={"answer_text": "Đã đo đạc lại.", "answered_on": "2023-08-20", "answer_ref": "45/STNMT"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["answer_ref"], r.json()["overdue"]) == ("answered", "45/STNMT", False)
    assert_problem(c.post(f"/api/v1/petitions/items/{item.id}/answer",
                          json={"answer_text": "Lần hai.", "answered_on": "2023-08-21"}), 409)
    r = c.post(f"/api/v1/petitions/items/{item.id}/status", json={"status": "closed"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    sources = r.json()["sources"]
    assert [s["unit"] for s in sources] == ["04720"]


def test_items_of_another_branch_are_404_and_read_token_403(client, db):
    item = _forwarded(db)
    assert_problem(bearer(client, make_token(db, "141", "write")).post(
        f"/api/v1/petitions/items/{item.id}/status", json={"status": "closed"}), 404)
    assert_problem(bearer(client, make_token(db, "15", "read")).post(
        f"/api/v1/petitions/items/{item.id}/status", json={"status": "closed"}), 403)


def test_items_list_shows_overdue(client, db):
    item = _forwarded(db)  # due 31/08/2023, long past
    body = bearer(client, make_token(db, "15", "read")).get("/api/v1/petitions/items?overdue=true").json()
    assert [i["id"] for i in body["data"]] == [item.id] and body["data"][0]["overdue"] is True


def test_petitions_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/petitions", "/api/v1/petitions/items", "/api/v1/petitions/items/{item_id}/status",
                 "/api/v1/petitions/items/{item_id}/answer"):
        assert path in paths
    assert "409" in paths["/api/v1/petitions/items/{item_id}/status"]["post"]["responses"]
