"""Privacy: the names and contacts of the people who raised petitions, route by route.

Every GET route of the petitions domain (pages, exports, files, API, the public page) is asked
by every kind of caller, with and without `personal=true`. Only signed-in administrators and
editors of the receiving unit or a unit above it ever see a name, and then only where it is
meant to be: the petition's own page, the list of petitions, and an export or API list that
asks for it. A route added to the domain without a line here fails the first test.
"""
import re
from datetime import date
from io import BytesIO

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.main import app as fastapi_app
from app.petitions import service as svc
from tests.api_support import make_token
from tests.petition_support import SECRET_CONTACT, SECRET_NAME, council_session, hear, principal, unit

PDF = b"%PDF-1.4\n%%EOF\n"

# path → (how to fill it, where an allowed caller's personal=true/plain request shows names)
ROUTES = {
    "/petitions": ("", {"plain"}),
    "/petitions/new": ("", set()),
    "/petitions/{petition_id}": ("petition", {"plain"}),
    "/petitions/sessions": ("", set()),
    "/petitions/fields": ("", set()),
    "/petitions/summaries/{summary_id}": ("summary", set()),
    "/petitions/summaries/{summary_id}/print": ("summary", set()),
    "/petitions/summaries/{summary_id}.xlsx": ("summary", {"personal"}),
    "/petitions/summaries/{summary_id}.docx": ("summary", set()),
    "/petitions/items/{item_id}": ("item", set()),
    "/petitions/items/{item_id}/file": ("item", set()),
    "/public/petitions/{province_code}": ("province", set()),
    "/api/v1/petitions": ("", {"personal"}),
    "/api/v1/petitions/items": ("", set()),
}


def _get_routes() -> set[str]:
    found = set()
    for rc in iter_route_contexts(fastapi_app.routes):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(rc, "path", ""))
        if "petition" in path and "GET" in (getattr(rc, "methods", None) or ()):
            found.add(path)
    return found


def test_every_petition_read_route_is_checked_here():
    assert _get_routes() == set(ROUTES)


@pytest.fixture
def world(db, tmp_path, monkeypatch):
    monkeypatch.setattr(svc.settings, "PETITION_FILES_DIR", tmp_path)
    psession = council_session(db)
    p = hear(db, psession, unit(db, "04720"), "Đường liên xã sạt lở.")
    admin = principal(db, "tinh.quantri")
    summary = svc.summary_for(db, admin, "web", unit(db, "15"), psession)
    item = svc.compile_item(db, admin, "web", summary, [p.id])
    svc.send(db, admin, "web", summary, date(2023, 7, 20))
    db.refresh(item)
    svc.answer(db, admin, "web", item, "Đã bố trí vốn.", date(2023, 8, 1), None, (PDF, "tl.pdf"), publish=True)
    db.commit()
    return {"petition": str(p.id), "summary": str(summary.id), "item": str(item.id), "province": "15",
            "read": make_token(db, "15", "read"), "write": make_token(db, "15", "write")}


def _text(r) -> str:
    if "wordprocessingml" in r.headers.get("content-type", ""):
        from docx import Document

        doc = Document(BytesIO(r.content))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return " ".join([p.text for p in doc.paragraphs] + cells)
    if "spreadsheet" in r.headers.get("content-type", ""):
        wb = load_workbook(BytesIO(r.content))
        return " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    if r.headers.get("content-type", "").startswith("application/pdf"):
        return r.content.decode("latin-1")
    return r.text


def _url(path: str, fill: str, world: dict) -> str:
    return re.sub(r"\{\w+\}", world[fill], path) if fill else path


def _shows(r) -> bool:
    text = _text(r)
    return SECRET_NAME in text or SECRET_CONTACT in text


def _client(app, login, who: str, world: dict) -> TestClient:
    if who == "anonymous":
        return TestClient(app, base_url="http://testserver", follow_redirects=False)
    if who.startswith("token:"):
        return TestClient(app, base_url="http://testserver", follow_redirects=False,
                          headers={"Authorization": f"Bearer {world[who[6:]]}"})
    return login(who)


# Viewers anywhere, administrators of another branch, tokens, anonymous: never a name.
NEVER = ["anonymous", "tinh.xem", "huyen.xem", "xa.xem", "token:read", "token:write"]


@pytest.mark.parametrize("who", NEVER)
def test_no_name_or_contact_for_callers_without_the_role(app, login, world, who):
    client = _client(app, login, who, world)
    tried = 0
    for path, (fill, _where) in ROUTES.items():
        for query in ("", "?personal=true"):
            r = client.get(_url(path, fill, world) + query)
            tried += 1
            assert r.status_code < 500, (path, r.status_code)
            assert not _shows(r), f"{who} sees personal data on {path}{query} ({r.status_code})"
    assert tried == 2 * len(ROUTES)


@pytest.mark.parametrize("who", ["tinh.nhaplieu", "tinh.quantri", "huyen.quantri", "xa.nhaplieu"])
def test_names_only_where_meant_for_admins_and_editors_of_the_unit_or_above(app, login, world, who):
    """The receiving unit (commune 04720) and the levels above see a name on the petition's page,
    the list, and exports or API lists that ask for it; nowhere else. (The district and commune
    cannot open the province's summary, item or file: those answer 404, without a name.)"""
    client = _client(app, login, who, world)
    for path, (fill, where) in ROUTES.items():
        plain = client.get(_url(path, fill, world))
        asked = client.get(_url(path, fill, world) + "?personal=true")
        readable = plain.status_code == 200
        assert _shows(plain) == ("plain" in where and readable), (who, path, plain.status_code)
        assert _shows(asked) == (bool(where) and asked.status_code == 200), (who, path, asked.status_code)


def test_a_commune_admin_does_not_see_the_names_of_a_sibling_commune(app, db, login, world):
    from tests.petition_support import sibling_commune

    psession = svc.visible_sessions(db, principal(db, "tinh.quantri"))[0]
    other = hear(db, psession, sibling_commune(db), "Nội dung của xã bên cạnh.", name="Trần Văn Bêncạnh")
    db.commit()
    client = login("xa.quantri")
    assert client.get(f"/petitions/{other.id}").status_code == 404
    assert "Bêncạnh" not in client.get("/petitions").text
    assert "Bêncạnh" not in client.get("/api/v1/petitions?personal=true").text


def test_api_create_does_not_echo_the_name_back(app, db, world):
    psession = svc.visible_sessions(db, principal(db, "tinh.quantri"))[0]
    client = TestClient(app, headers={"Authorization": f"Bearer {world['write']}"})
    r = client.post("/api/v1/petitions", json={
        "unit": "04720", "channel": "voter_meeting", "session_id": psession.id, "heard_on": "2023-04-20",
        "raiser_name": "Lê Thị Mới", "raiser_contact": "0987 000 111", "field": "land",
        "content": "Đề nghị đo đạc lại đất.", "addressee": "department"})
    assert r.status_code == 201
    assert r.json()["raiser_name"] is None and "Lê Thị Mới" not in r.text
