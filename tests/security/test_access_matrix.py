"""The access matrix: every route of the app × every kind of caller × units in and out of scope.

Routes are read from `app.main.app.routes`, so a route someone adds is tried automatically; a
route whose parameters this file cannot fill (and that is not listed as public) FAILS
`test_every_route_is_covered_or_public` until it gets a line in `SPECIAL`.

Callers: anonymous; the nine demo users (province 15, district 141, commune 04720 × admin,
editor, viewer) by session (pages, and the API with the X-CSRF-Token header); a read token and
a write token of district 141.

Targets (for a route that names a unit, task, user or token): the caller's own unit (or an
object of it), a unit below it, an object outside the caller's subtree (a sibling where there
is one) and one that does not exist. Expected, from the role table (written out here, not
taken from the app):
- anonymous (and a token on a page): 401 on the API, a redirect to /login on a page;
- outside the subtree: the same answer as for an object that does not exist — 404 (or the
  route's `out` status, e.g. a rejected bulk row), or the 403 a role gets everywhere;
- inside but not allowed (a viewer writing, an editor administering): 403;
- allowed: success (2xx/3xx other than a redirect to /login, or a listed domain refusal).
Each combination runs in a savepoint rolled back afterwards, so none sees another's writes.
The world and the nine sign-ins are made once per module (and pytest process) in a transaction
rolled back at its end; each test runs in a savepoint of it (the `db` fixture below).
"""
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, table
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from app.accounts.demo import DEMO_PASSWORD
from app.accounts.models import ApiToken, User
from app.accounts.security import hash_password, new_api_token
from app.core.time import utcnow
from app.main import app as fastapi_app
from app.program.models import Program, Task
from app.units.models import Unit

PERIOD = "2023-04"
MISSING_CODE = "99999"
MISSING_ID = 987654321
TOKEN_UNIT = "141"
OTHER_DISTRICT = "132"  # Thành phố Yên Bái, outside district 141

# Public routes: no sign-in needed. Every other route must refuse an anonymous caller.
PUBLIC = {
    ("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/lang/{lang}"),
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
    # Issue 13: icon, service worker, its offline page; the CSRF token answers 401 when signed out.
    ("GET", "/favicon.ico"), ("GET", "/sw.js"), ("GET", "/offline"), ("GET", "/csrf-token"),
}
PUBLIC.add(("GET", "/public/petitions/{province_code}"))  # answered petitions, no personal data
OBJECT_KINDS = ("UNIT", "TASK", "USER", "TOKEN", "PETITION", "SUMMARY", "ITEM")
UNIT_PARAMS = ("unit_code", "unit", "plan", "plan_unit", "orgUnit", "subtree", "parent")
DEFAULT_VALUES = {"period": PERIOD, "year": "2023", "lang": "vi", "month": PERIOD, "indicator_code": "CT17",
                  "indicator": "CT17"}


# --- the role table (the specification, independent of app.accounts.deps) -------------------

@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # anon | user | token
    role: str = ""  # admin | editor | viewer | token
    unit: str = ""  # unit code
    writes: bool = False  # tokens: read-write mode


CALLERS = [Caller("anonymous", "anon")] + [
    Caller(f"{level}.{suffix}", "user", role, code)
    for level, code in (("tinh", "15"), ("huyen", "141"), ("xa", "04720"))
    for suffix, role in (("quantri", "admin"), ("nhaplieu", "editor"), ("xem", "viewer"))
] + [Caller("token:read", "token", "token", TOKEN_UNIT), Caller("token:write", "token", "token", TOKEN_UNIT, True)]


@dataclass
class World:
    """Codes, paths and ids of the units and objects the matrix uses (plain values, no ORM)."""

    path: dict[str, str]  # unit code → materialised path
    below: dict[str, str]  # unit code → a unit right below it
    out: dict[str, str]  # unit code → a unit outside its subtree (a sibling where possible)
    objects: dict[str, list[tuple[str, str]]]  # kind → [(id as text, unit code)]
    tokens: dict[str, str] = field(default_factory=dict)  # caller name → bearer secret
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # caller name → (cookie, CSRF token)
    rows: dict[str, int] = field(default_factory=dict)  # table → rows, once the world is made


def reads(w: World, c: Caller, unit: str) -> bool:
    return w.path[unit].startswith(w.path[c.unit])


def follows(w: World, c: Caller, unit: str) -> bool:
    """Plans of tasks: those in the caller's subtree and those of the units above it."""
    return reads(w, c, unit) or w.path[c.unit].startswith(w.path[unit])


def sees(w: World, c: Caller, unit: str, kind: str | None) -> bool:
    return follows(w, c, unit) if kind == "TASK" else reads(w, c, unit)


def writes(w: World, c: Caller, unit: str) -> bool:
    if not reads(w, c, unit):
        return False
    if c.kind == "token":
        return c.writes
    # admin: its whole subtree; editor: its unit and (can_edit_below is on for demo users) below.
    return c.role in ("admin", "editor")


NEEDS: dict[str, Callable[[World, Caller, str], bool]] = {
    "read": reads,
    "write": writes,
    "admin": lambda w, c, u: c.kind == "user" and c.role == "admin" and reads(w, c, u),
    # Reopening a submitted month belongs to the level above the unit.
    "reopen": lambda w, c, u: c.role in ("admin", "editor") and u != c.unit and writes(w, c, u),
    "plan": lambda w, c, u: c.role in ("admin", "editor") and writes(w, c, u),
    "self": lambda w, c, u: True,
    # Programs and the list of petition fields belong to the province: only its administrators
    # (signed in) make and change them.
    "province": lambda w, c, u: c.kind == "user" and c.role == "admin" and c.unit == "15",
}


def role_can_ever(need: str, c: Caller) -> bool:
    """Whether the caller's role could satisfy the need for some unit (else 403 everywhere)."""
    if need == "admin":
        return c.role == "admin"
    if need == "province":
        return c.kind == "user" and c.role == "admin" and c.unit == "15"
    if need in ("write", "plan", "reopen"):
        return c.role in ("admin", "editor") or (c.kind == "token" and c.writes and need == "write")
    return True


# --- routes that need more than the defaults ---------------------------------------------------

@dataclass
class Spec:
    need: str | None = None  # default: /admin → admin, /account → self, GET → read, else write
    fill: dict[str, str] = field(default_factory=dict)  # param → "UNIT" | "TASK" | "USER" | "TOKEN" | literal
    target: str | None = None  # which kind of object the route is scoped by (default from fill)
    form: Callable[[str], dict[str, Any]] | None = None  # form body from the target's code/id
    json: Callable[[str], Any] | None = None  # JSON body from the target's code/id
    ok: tuple[int, ...] = ()  # answers that count as "allowed" besides 2xx/3xx
    out: int = 404  # the answer for an object outside the subtree (and for a missing one)
    need_unit: str | None = None  # whose unit the need is checked on: default the target's own
    htmx: bool = False


def _figure(code: str) -> dict[str, str]:
    return {"CT17.value": "1"}


SPECIAL: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/units/{code}"): Spec(fill={"code": "UNIT"}),
    ("GET", "/api/v1/indicators/{code}"): Spec(fill={"code": "CT17"}),
    ("POST", "/api/v1/data-values"): Spec(
        target="UNIT", out=422,
        json=lambda u: {"dataValues": [{"orgUnit": u, "dataElement": "CT17", "period": PERIOD, "value": 1}]}),
    ("GET", "/api/v1/data-values.csv"): Spec(),
    ("POST", "/entry/{unit_code}/{period}"): Spec(form=_figure),
    ("POST", "/entry/{unit_code}/{period}/submit"): Spec(ok=(400,)),
    ("POST", "/entry/{unit_code}/{period}/reopen"): Spec(need="reopen", ok=(400,)),  # nothing submitted
    ("GET", "/entry/{unit_code}/{period}/{code}"): Spec(fill={"code": "CT17"}),
    ("POST", "/entry/{unit_code}/{period}/{code}"): Spec(fill={"code": "CT17"}, form=_figure, htmx=True),
    ("GET", "/entry/{unit_code}/{period}/{code}/history"): Spec(fill={"code": "CT17"}),
    # Issue 13: the villages page as one form (nothing posted: saved as is), submitting's first step,
    # one village's cell (village 04720-01 is below 04720 only: elsewhere a 404 like any missing one).
    ("POST", "/entry/{unit_code}/{period}/villages"): Spec(form=lambda u: {}),
    ("GET", "/entry/{unit_code}/{period}/submit"): Spec(need="write"),
    ("GET", "/entry/{unit_code}/{period}/villages/{village_code}/{code}"): Spec(
        fill={"village_code": "04720-01", "code": "CT07"}, ok=(404,)),
    ("POST", "/entry/{unit_code}/{period}/villages/{village_code}/{code}"): Spec(
        fill={"village_code": "04720-01", "code": "CT07"}, ok=(404,), htmx=True,
        form=lambda u: {"04720-01.CT07.value": "1"}),
    ("GET", "/tasks/{task_id:int}"): Spec(fill={"task_id": "TASK"}),
    ("POST", "/tasks/{task_id:int}/status"): Spec(
        fill={"task_id": "TASK"}, form=lambda t: {"status": "in_progress", "version": "1", "done_on": ""}),
    ("POST", "/tasks/{task_id:int}/notes"): Spec(
        fill={"task_id": "TASK"}, form=lambda t: {"text": "Đã triển khai tới các xã.", "noted_on": ""}),
    ("GET", "/tasks/new"): Spec(need="plan", fill={"plan": "UNIT"}),
    ("POST", "/tasks/new"): Spec(need="plan", fill={"plan": "UNIT"}, ok=(422,), form=lambda u: {
        "plan": u, "quarter": "2", "title": "Kiểm tra việc xây nhà Đại đoàn kết", "text": "",
        "due_month": "6", "lead_department": "", "reason": "Phát sinh trong tháng", "added_on": ""}),
    # The province plan is the source others copy from: asking for it answers 404 to anyone.
    ("GET", "/tasks/plan"): Spec(need="plan", fill={"unit": "UNIT"}, ok=(404,)),
    ("POST", "/tasks/plan"): Spec(need="plan", fill={"unit": "UNIT"}, ok=(404, 422),
                                  form=lambda u: {"unit": u}),
    ("POST", "/admin/users/{user_id}/active"): Spec(fill={"user_id": "USER"}, form=lambda _u: {"active": "false"}),
    ("POST", "/admin/users/{user_id}/password"): Spec(fill={"user_id": "USER"}),
    ("POST", "/admin/tokens/{token_id}/revoke"): Spec(fill={"token_id": "TOKEN"}),
    ("POST", "/admin/users"): Spec(target="UNIT", ok=(), form=lambda u: {
        "username": "moi.nguoidung", "full_name": "Người dùng mới", "unit_code": u, "role": "viewer"}),
    ("POST", "/admin/tokens"): Spec(target="UNIT", form=lambda u: {
        "name": "Hệ thống tỉnh", "unit_code": u, "mode": "read",
        "expires_on": (utcnow() + timedelta(days=30)).date().isoformat()}),
    ("POST", "/account/password"): Spec(need="self", ok=(400,)),
    ("GET", "/signed-in"): Spec(),  # the page benchmark's floor: any signed-in user
    # Ending a session that is not the caller's changes nothing (and says nothing).
    ("POST", "/account/sessions/{session_id}/end"): Spec(need="self", fill={"session_id": str(MISSING_ID)}),
    ("POST", "/admin/users/{user_id}/sessions/end"): Spec(fill={"user_id": "USER"}),
    # A unit outside the administrator's subtree, or the administrator's own account: 400.
    ("POST", "/admin/users/{user_id}/access"): Spec(fill={"user_id": "USER"}, ok=(400,),
                                                    form=lambda _u: {"new_role": "viewer", "new_unit_code": "04720"}),
}
# Petitions (app/petitions): objects are petitions (by receiving unit), summaries and their items
# (by compiling unit). World items are compiled, not sent: following them up answers 409.
PETITION_IDS: dict[str, str] = {}  # "session" → the id of the world's province session
SPECIAL.update({
    ("GET", "/petitions/new"): Spec(need="write"),
    ("POST", "/petitions/new"): Spec(form=lambda u: {
        "channel": "office", "heard_on": "12/04/2023", "raiser_kind": "person", "field_id": "1",
        "content": "Đề nghị sửa đường liên thôn.", "addressee": "local_authority"}),
    ("GET", "/petitions/{petition_id:int}"): Spec(fill={"petition_id": "PETITION"}),
    ("POST", "/petitions/sessions"): Spec(need="plan", form=lambda _u: {"name": "Kỳ họp thử", "held_on": "10/07/2023"}),
    ("GET", "/petitions/fields"): Spec(need="province"),
    ("POST", "/petitions/fields"): Spec(need="province", form=lambda _u: {"name": "Lĩnh vực thử"}),
    ("POST", "/petitions/summaries"): Spec(need="plan", form=lambda _u: {"session_id": PETITION_IDS["session"]}),
    ("GET", "/petitions/summaries/{summary_id:int}"): Spec(fill={"summary_id": "SUMMARY"}),
    ("GET", "/petitions/summaries/{summary_id:int}/print"): Spec(fill={"summary_id": "SUMMARY"}),
    ("GET", "/petitions/summaries/{summary_id:int}.xlsx"): Spec(fill={"summary_id": "SUMMARY"}),
    ("GET", "/petitions/summaries/{summary_id:int}.docx"): Spec(fill={"summary_id": "SUMMARY"}),
    ("POST", "/petitions/summaries/{summary_id:int}/items"): Spec(need="plan", fill={"summary_id": "SUMMARY"},
                                                                  ok=(422,), form=lambda _s: {}),
    ("POST", "/petitions/summaries/{summary_id:int}/send"): Spec(need="plan", fill={"summary_id": "SUMMARY"},
                                                                 form=lambda _s: {"sent_on": "20/07/2023"}),
    ("GET", "/petitions/items/{item_id:int}"): Spec(fill={"item_id": "ITEM"}),
    # World items carry no file: the allowed callers get "no file" (404); the scope is the item's.
    ("GET", "/petitions/items/{item_id:int}/file"): Spec(fill={"item_id": "ITEM"}, ok=(404,)),
    ("POST", "/petitions/items/{item_id:int}/answer"): Spec(need="plan", fill={"item_id": "ITEM"}, form=lambda _i: {
        "answer_text": "Đã trả lời.", "answered_on": "01/08/2023"}),
    ("POST", "/petitions/items/{item_id:int}/release"): Spec(need="plan", fill={"item_id": "ITEM"}),
    ("POST", "/petitions/items/{item_id:int}/status"): Spec(need="plan", fill={"item_id": "ITEM"},
                                                            form=lambda _i: {"status": "closed"}),
    ("POST", "/petitions/items/{item_id:int}/supervision"): Spec(need="plan", fill={"item_id": "ITEM"},
                                                                 form=lambda _i: {"note": "Chưa rõ."}),
    ("POST", "/api/v1/petitions"): Spec(target="UNIT", json=lambda u: {
        "unit": u, "channel": "office", "heard_on": "2023-04-12", "field": "land",
        "content": "Đề nghị sửa đường liên thôn.", "addressee": "local_authority"}),
    ("POST", "/api/v1/petitions/items/{item_id}/status"): Spec(fill={"item_id": "ITEM"},
                                                               json=lambda _i: {"status": "closed"}),
    ("POST", "/api/v1/petitions/items/{item_id}/answer"): Spec(fill={"item_id": "ITEM"}, json=lambda _i: {
        "answer_text": "Đã trả lời.", "answered_on": "2023-08-01"}),
})

# Programs (issue #12): the 2023 program is published, so draft-only changes answer 409; the
# target with id 1 exists in a freshly seeded database (else 404, also accepted).
_TARGET_FORM = {"scope": "total", "comparator": ">=", "value": "100", "on": "value"}
SPECIAL.update({
    ("GET", "/admin/programs"): Spec(need="province"),
    ("POST", "/admin/programs"): Spec(need="province", form=lambda _u: {"year": "2026", "copy_from": "2023"}),
    ("GET", "/admin/programs/{year}"): Spec(need="province"),
    ("POST", "/admin/programs/{year}"): Spec(need="province", form=lambda _u: {
        "title": "Chương trình trọng tâm công tác Mặt trận năm 2023", "theme": "Chủ đề", "motto": "Phương châm"}),
    ("POST", "/admin/programs/{year}/publish"): Spec(need="province"),
    ("POST", "/admin/programs/{year}/delete"): Spec(need="province"),
    ("GET", "/admin/programs/{year}/file"): Spec(need="province"),
    ("POST", "/admin/programs/{year}/file"): Spec(need="province", ok=(422,)),
    ("POST", "/admin/programs/{year}/indicators"): Spec(need="province"),
    ("GET", "/admin/programs/{year}/indicators/{code}"): Spec(need="province", fill={"code": "CT17"}),
    ("POST", "/admin/programs/{year}/indicators/{code}"): Spec(need="province", fill={"code": "CT17"}, form=lambda _u: {
        "name": "Cuộc giám sát do MTTQ các cấp tổ chức", "short_name": "Cuộc giám sát", "share_filter": "all"}),
    ("POST", "/admin/programs/{year}/indicators/{code}/targets"): Spec(
        need="province", fill={"code": "CT17", "unit": ""}, form=lambda _u: dict(_TARGET_FORM, value="1")),
    ("POST", "/admin/programs/{year}/targets/{target_id}"): Spec(
        need="province", fill={"target_id": "1", "unit": ""}, ok=(404,), form=lambda _u: dict(_TARGET_FORM)),
    ("POST", "/admin/programs/{year}/targets/{target_id}/delete"): Spec(need="province", fill={"target_id": "1"},
                                                                        ok=(404,)),
    ("GET", "/admin/programs/{year}/tasks/{task_id}"): Spec(need="province", fill={"task_id": "TASK"}, ok=(404,)),
    ("POST", "/admin/programs/{year}/tasks/{task_id}"): Spec(need="province", fill={"task_id": "TASK"}, ok=(404,),
                                                             form=lambda _t: {"quarter": "2", "title": "Thử"}),
    ("POST", "/admin/programs/{year}/tasks"): Spec(need="province", form=lambda _u: {"quarter": "2", "title": "Thử"}),
    ("POST", "/api/v1/programs"): Spec(need="province", json=lambda _u: {"year": 2026, "copy_from": 2023}),
    ("PATCH", "/api/v1/programs/{year}"): Spec(need="province", json=lambda _u: {"motto": "Phương châm"}),
    ("DELETE", "/api/v1/programs/{year}"): Spec(need="province"),
    ("POST", "/api/v1/programs/{year}/publish"): Spec(need="province"),
    ("PUT", "/api/v1/programs/{year}/file"): Spec(need="province", ok=(422,), json=lambda _u: "not a workbook"),
    ("POST", "/api/v1/programs/{year}/indicators"): Spec(need="province", json=lambda _u: {
        "code": "CT19", "name": "Thử", "measure": "count", "entry_depths": [2], "time_rollup": "flow"}),
    ("PATCH", "/api/v1/programs/{year}/indicators/{code}"): Spec(
        need="province", fill={"code": "CT17"}, json=lambda _u: {"short_name": "Cuộc giám sát"}),
    ("POST", "/api/v1/programs/{year}/indicators/{code}/targets"): Spec(
        need="province", fill={"code": "CT17"}, json=lambda _u: {"scope": "total", "comparator": ">=", "value": 1}),
    ("PATCH", "/api/v1/programs/{year}/targets/{target_id}"): Spec(
        need="province", fill={"target_id": "1"}, ok=(404,), json=lambda _u: {"value": 100}),
    ("DELETE", "/api/v1/programs/{year}/targets/{target_id}"): Spec(need="province", fill={"target_id": "1"},
                                                                    ok=(404,)),
    ("POST", "/api/v1/programs/{year}/tasks"): Spec(need="province", json=lambda _u: {"quarter": 2, "title": "Thử"}),
    ("PATCH", "/api/v1/programs/{year}/tasks/{task_id}"): Spec(
        need="province", fill={"task_id": "TASK"}, ok=(404,), json=lambda _t: {"title": "Thử"}),
})
# A finished year (issue #12): the province closes 2023 (over by now); the level above a unit
# reopens its year. 2023 is open in the matrix's world, so a reopening answers 409 ("year_open")
# and closing a reopening that does not exist 404.
SPECIAL.update({
    ("POST", "/api/v1/programs/{year}/close"): Spec(need="province"),
    ("GET", "/admin/programs/{year}/close"): Spec(need="province"),
    ("POST", "/admin/programs/{year}/close"): Spec(need="province"),
    ("POST", "/api/v1/programs/{year}/reopenings"): Spec(
        need="reopen", target="UNIT", ok=(409,), json=lambda u: {"unit": u, "reason": "Sửa số liệu"}),
    ("DELETE", "/api/v1/programs/{year}/reopenings/{unit}"): Spec(need="reopen", ok=(404,)),
    ("POST", "/years/{year}/reopenings"): Spec(
        need="reopen", target="UNIT", ok=(409,), form=lambda u: {"unit": u, "reason": "Sửa số liệu"}),
    ("POST", "/years/{year}/reopenings/{unit_code}/close"): Spec(need="reopen", ok=(404,)),
})
# Communes by year (issue #12): the province's administrators only; a form listing no commune
# is refused in place (422).
SPECIAL.update({
    ("GET", "/admin/units/years"): Spec(need="province"),
    ("POST", "/admin/units/years/{year}"): Spec(need="province", ok=(422,), form=lambda _u: {}),
    ("POST", "/admin/units/years/{year}/file"): Spec(need="province", ok=(422,)),
    ("PUT", "/api/v1/units/{code}/years/{year}"): Spec(need="province", fill={"code": "04720"},
                                                       json=lambda _u: {"new_rural": "recognised"}),
})
# The unit a form's `unit_code` names is the target (outside the subtree: refused in place, 400).
SPECIAL[("POST", "/admin/users")].out = 400
SPECIAL[("POST", "/admin/tokens")].out = 400


# --- enumerating the routes -------------------------------------------------------------------

@dataclass
class Route:
    method: str
    path: str  # as declared (identity)
    path_format: str  # with converters stripped, for filling
    path_params: list[str]
    query: list[tuple[str, bool]]  # (name, required)
    form: list[tuple[str, bool]]
    json_body: list[tuple[str, bool]]

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def _flat(dependant: Any, acc: dict[str, list] | None = None) -> dict[str, list]:
    acc = acc if acc is not None else {"path": [], "query": [], "body": []}
    acc["path"] += dependant.path_params
    acc["query"] += dependant.query_params
    acc["body"] += dependant.body_params
    for sub in dependant.dependencies:
        _flat(sub, acc)
    return acc


def all_routes() -> list[Route]:
    routes: list[Route] = []
    for rc in iter_route_contexts(fastapi_app.routes):
        methods = getattr(rc, "methods", None)
        if not methods:
            continue  # mounts (/static)
        dependant = getattr(rc, "dependant", None)
        f = _flat(dependant) if dependant is not None else {"path": [], "query": [], "body": []}
        form = [(p.alias, p.field_info.is_required()) for p in f["body"]
                if type(p.field_info).__name__ in ("Form", "File")]
        body = [(p.alias, p.field_info.is_required()) for p in f["body"]
                if type(p.field_info).__name__ not in ("Form", "File")]
        fmt = re.sub(r"\{(\w+):\w+\}", r"{\1}", rc.path)
        for method in sorted(methods - {"HEAD"}):
            routes.append(Route(method, rc.path, fmt, [p.alias for p in f["path"]],
                                [(p.alias, p.field_info.is_required()) for p in f["query"]], form, body))
    return routes


ROUTES = all_routes()


def spec_of(route: Route) -> Spec:
    spec = SPECIAL.get(route.key, Spec())
    need = spec.need or ("admin" if route.path.startswith("/admin") else
                         "self" if route.path.startswith("/account") else
                         "read" if route.method == "GET" else "write")
    fill = dict(spec.fill)
    for name in route.path_params + [q for q, _ in route.query] + [f for f, _ in route.form]:
        if name in fill:
            continue
        if name in UNIT_PARAMS and "UNIT" not in fill.values():
            fill[name] = "UNIT"
        elif name in DEFAULT_VALUES and (name in route.path_params or (name, True) in route.query + route.form
                                         or name == "period"):
            fill[name] = DEFAULT_VALUES[name]
    target = spec.target or next((v for v in fill.values() if v in OBJECT_KINDS), None)
    return Spec(need=need, fill=fill, target=target, form=spec.form, json=spec.json, ok=spec.ok,
                out=spec.out, htmx=spec.htmx)


def uncovered(route: Route) -> list[str]:
    """Required parameters the matrix cannot fill (empty when the route is covered)."""
    spec = spec_of(route)
    missing = [p for p in route.path_params if p not in spec.fill]
    missing += [q for q, req in route.query if req and q not in spec.fill]
    if spec.form is None:
        missing += [f for f, req in route.form if req and f not in spec.fill]
    if spec.json is None:
        missing += [b for b, req in route.json_body if req]
    return missing


# --- the world: units, objects per unit, tokens ------------------------------------------------

def _build_world(db) -> World:
    codes = ["15", "141", "04720", OTHER_DISTRICT]
    units = {u.code: u for u in db.exec(select(Unit).where(Unit.code.in_(codes))).all()}
    sibling = db.exec(select(Unit).where(Unit.parent_id == units["141"].id, Unit.code != "04720")
                      .order_by(Unit.code)).first()
    other_commune = db.exec(select(Unit).where(Unit.parent_id == units[OTHER_DISTRICT].id)
                            .order_by(Unit.code)).first()
    for u in (sibling, other_commune):
        units[u.code] = u
    path = {code: u.path for code, u in units.items()}
    path[MISSING_CODE] = "/missing/"
    below = {"15": "141", "141": "04720"}
    out = {"141": OTHER_DISTRICT, "04720": sibling.code}
    program = db.exec(select(Program)).first()

    tasks, users, tokens = [], [], []
    pw = hash_password("matrix-target-password")
    for code in ("15", "141", OTHER_DISTRICT):  # plans are the province's and the districts'
        t = Task(program_id=program.id, plan_unit_id=units[code].id, lead_unit_id=units[code].id,
                 quarter=2, number=90, title=f"Nhiệm vụ thử của {code}", text="Thử quyền truy cập.")
        db.add(t)
        db.flush()
        tasks.append((str(t.id), code))
    for code in ("15", "141", "04720", sibling.code, other_commune.code):
        u = User(username=f"dich.{code}", full_name=f"Đích {code}", unit_id=units[code].id, role="viewer",
                 password_hash=pw)
        secret, digest = new_api_token()
        t = ApiToken(name=f"đích {code}", unit_id=units[code].id, mode="read", token_hash=digest,
                     prefix=secret[:12], expires_at=utcnow() + timedelta(days=5))
        db.add(u)
        db.add(t)
        db.flush()
        users.append((str(u.id), code))
        tokens.append((str(t.id), code))
    world = World(path=path, below=below, out=out,
                  objects={"TASK": tasks, "USER": users, "TOKEN": tokens})
    world.objects.update(_petition_objects(db, units, sibling, other_commune))
    for c in CALLERS:
        if c.kind == "token":
            secret, digest = new_api_token()
            db.add(ApiToken(name=c.name, unit_id=units[c.unit].id, mode="write" if c.writes else "read",
                            token_hash=digest, prefix=secret[:12], expires_at=utcnow() + timedelta(days=5)))
            world.tokens[c.name] = secret
    db.commit()
    return world


def _petition_objects(db, units: dict[str, Unit], sibling: Unit, other_commune: Unit) -> dict[str, list]:
    """A province session; a petition heard by each unit; a summary with one compiled item for
    the province and each district (item of the province: a petition of 04720)."""
    from app.accounts.deps import Principal
    from app.petitions import service as petitions

    admin = Principal(unit=units["15"], role="admin", via="web",
                      user=db.exec(select(User).where(User.username == "tinh.quantri")).one())
    session = petitions.create_session(db, admin, "web", units["15"], "Kỳ họp thứ 7, HĐND tỉnh khóa XIX", None)
    PETITION_IDS["session"] = str(session.id)
    field = petitions.fields_of(db)[0]
    heard: dict[str, Any] = {}
    for code in ("15", "141", OTHER_DISTRICT, "04720", sibling.code, other_commune.code):
        heard[code] = petitions.record(db, admin, "web", units[code], petitions.PetitionInput(
            channel="voter_meeting", heard_on=utcnow().date() - timedelta(days=1), field_id=field.id,
            content=f"Kiến nghị thử của {code}", addressee="provincial_council", raiser_name=f"Người nêu {code}",
            session_id=session.id))
    summaries, items = [], []
    for code, source in (("15", "04720"), ("141", sibling.code), (OTHER_DISTRICT, other_commune.code)):
        summary = petitions.summary_for(db, admin, "web", units[code], session)
        item = petitions.compile_item(db, admin, "web", summary, [heard[source].id])
        summaries.append((str(summary.id), code))
        items.append((str(item.id), code))
    return {"PETITION": [(str(p.id), code) for code, p in heard.items()], "SUMMARY": summaries, "ITEM": items}


def targets(w: World, c: Caller, kind: str | None) -> list[tuple[str, str, str]]:
    """(label, value to put in the request, unit code owning it) for the caller and kind."""
    if kind is None:
        return [("none", "", "")]
    home = c.unit or "04720"
    if kind == "UNIT":
        found = [("own", home, home)]
        if home in w.below:
            found.append(("below", w.below[home], w.below[home]))
        if home in w.out:
            found.append(("out", w.out[home], w.out[home]))
        found.append(("missing", MISSING_CODE, MISSING_CODE))
        return found
    pool = w.objects[kind]
    inside = [o for o in pool if sees(w, c, o[1], kind)] if c.kind != "anon" else pool
    outside = [o for o in pool if not sees(w, c, o[1], kind)] if c.kind != "anon" else []
    found = []
    if inside:  # the object closest to the caller's unit
        obj = max(inside, key=lambda o: len(w.path[o[1]]) if o[1] != home else 10**6)
        found.append(("own", *obj))
    if outside:  # the nearest outsider: a sibling's object if there is one
        obj = min(outside, key=lambda o: (not w.path[o[1]].startswith(w.path[home].rsplit("/", 2)[0]),
                                          o[1]))
        found.append(("out", *obj))
    found.append(("missing", str(MISSING_ID), MISSING_CODE))
    return found


# --- running one combination -------------------------------------------------------------------

TRIED = {"combinations": 0, "routes": 0}


def _browser_session(app, c: Caller) -> tuple[str, str]:
    """(session cookie, CSRF token) of a new sign-in of the demo user; for the anonymous caller,
    of the session a browser gets from the sign-in page (it carries a CSRF token too)."""
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)  # no `with`: no lifespan
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    if c.kind == "user":
        r = client.post("/login", data={"username": c.name, "password": DEMO_PASSWORD, "csrf_token": token})
        assert r.status_code == 303, (c.name, r.status_code)
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/account").text).group(1)
    cookie = client.cookies.get("mttq_session")
    client.close()
    assert cookie and token, c.name
    return cookie, token


def _client_for(app, c: Caller, w: World, portal: BlockingPortal | None = None) -> TestClient:
    """A client for the caller. With `portal`, its requests run on that portal's event loop
    (without one, Starlette starts a thread and an event loop for every request, some 3 ms);
    either way the app's lifespan is not run (no `with`)."""
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    client.portal = portal
    if c.kind == "token":
        client.headers["Authorization"] = f"Bearer {w.tokens[c.name]}"
    else:
        cookie, csrf = w.sessions[c.name]
        client.cookies.set("mttq_session", cookie)
        client.headers["X-CSRF-Token"] = csrf
    return client


def _request(client: TestClient, route: Route, spec: Spec, value: str):
    values = {k: (value if v in OBJECT_KINDS else v) for k, v in spec.fill.items()}
    url = route.path_format.format(**{p: values[p] for p in route.path_params})
    params = {q: values[q] for q, _ in route.query if q in values}
    kwargs: dict[str, Any] = {"params": params}
    headers = {"HX-Request": "true"} if spec.htmx else {}
    if route.method != "GET":
        if spec.json is not None:
            kwargs["json"] = spec.json(value)
        else:
            data = spec.form(value) if spec.form else {}
            data.update({f: values[f] for f, _ in route.form if f in values and f not in data})
            if "X-CSRF-Token" in client.headers:
                data["csrf_token"] = client.headers["X-CSRF-Token"]
            kwargs["data"] = data
    return client.request(route.method, url, headers=headers, **kwargs)


def _normalised(body: str, value: str) -> str:
    """The answer (a page's <main> only) with the asked-for code or id blanked: an outside unit
    and a missing one must read the same."""
    main = re.search(r"<main\b.*?</main>", body, re.S)
    body = main.group(0) if main else body
    return re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", "<target>", body) if value else body


def _is_login_redirect(r) -> bool:
    return r.status_code in (302, 303, 307) and r.headers.get("location", "").startswith("/login")


def check(w: World, route: Route, spec: Spec, c: Caller, label: str, unit: str, r) -> str | None:
    """None when the answer is the expected one, else a description of the failure."""
    status = r.status_code
    if status >= 500:
        return f"server error {status}"
    if (route.method, route.path) in PUBLIC:
        return None
    if c.kind == "token" and not route.is_api and route.method != "GET" and status == 403:
        return None  # a bearer caller has no session, so no CSRF token: refused before anything else
    if c.kind == "anon" or (c.kind == "token" and not route.is_api):
        if route.is_api:
            return None if status == 401 else f"expected 401, got {status}"
        return None if _is_login_redirect(r) else f"expected a redirect to /login, got {status}"
    if _is_login_redirect(r):
        return f"signed-in caller sent to /login ({status})"
    need = follows if (spec.need, spec.target) == ("read", "TASK") else NEEDS[spec.need]
    if label == "none":  # a route that names no unit acts on the caller's own
        allowed = need(w, c, c.unit)
    elif label == "missing" or not sees(w, c, unit, spec.target):
        if status == spec.out or (status == 403 and not role_can_ever(spec.need, c)):
            return None
        return f"outside the scope: expected {spec.out}, got {status}"
    else:
        allowed = need(w, c, unit)
    if not allowed:
        return None if status == 403 else f"expected 403, got {status}"
    if status < 400 or status in spec.ok or status == 409:
        return None
    return f"expected success, got {status}: {r.text[:200]!r}"


def run_route(app, db, w: World, route: Route, callers=CALLERS, only_label: str | None = None) -> list[str]:
    spec = spec_of(route)
    conn = db.bind
    with start_blocking_portal() as portal:
        return _run_route(app, db, conn, w, route, spec, callers, only_label, portal)


def _run_route(app, db, conn, w: World, route: Route, spec: Spec, callers, only_label, portal) -> list[str]:
    failures: list[str] = []
    for c in callers:
        client = _client_for(app, c, w, portal)
        answers: dict[str, tuple[int, str]] = {}
        for label, value, unit in targets(w, c, spec.target):
            if only_label and label != only_label:
                continue
            db.close()
            savepoint = conn.begin_nested()
            try:
                r = _request(client, route, spec, value)
            finally:
                db.close()
                savepoint.rollback()
            TRIED["combinations"] += 1
            answers[label] = (r.status_code, r.headers.get("content-type", ""), _normalised(r.text, value))
            problem = check(w, route, spec, c, label, unit, r)
            if problem:
                failures.append(f"{route.method} {route.path} as {c.name} on {label} ({value}): {problem}")
        if "out" in answers and "missing" in answers and answers["out"] != answers["missing"]:
            failures.append(f"{route.method} {route.path} as {c.name}: outside answers {answers['out'][:2]} "
                            f"but missing answers {answers['missing'][:2]}, or the bodies differ (leaks existence)")
        client.close()
    return failures


# --- the tests -------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    line = (f"access matrix: {TRIED['combinations']} combinations (route × caller × target) "
            f"over {TRIED['routes']} routes")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture and reporter:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)
    else:
        print(line)


@pytest.fixture(scope="module")
def _module_connection(engine) -> Iterator[Connection]:
    """The connection the module's tests share, in a transaction rolled back at the module's end."""
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture(scope="module")
def world(_module_connection) -> World:
    """Built once per module: the objects, the tokens and the nine sign-ins (sessions are rows
    of the module's transaction). Every test sees them as they were made: each test runs in a
    savepoint rolled back after it (`db`), each combination in a savepoint inside that one."""
    from app.core.db import get_session

    session = Session(bind=_module_connection, join_transaction_mode="create_savepoint")

    def _session_override():
        yield session

    fastapi_app.dependency_overrides[get_session] = _session_override
    try:
        w = _build_world(session)
        w.sessions = {c.name: _browser_session(fastapi_app, c) for c in CALLERS if c.kind != "token"}
        w.rows = _row_counts(session)
    finally:
        fastapi_app.dependency_overrides.pop(get_session, None)
        session.close()
    return w


def _row_counts(db: Session) -> dict[str, int]:
    names = sorted(inspect(db.connection()).get_table_names())
    counts = db.execute(select(*(select(func.count()).select_from(table(n)).scalar_subquery() for n in names)))
    return dict(zip(names, counts.one(), strict=True))


@pytest.fixture
def db(_module_connection, world) -> Iterator[Session]:
    """This module's `db` (in place of tests/conftest.py's): a session on the module's connection
    whose commits land in a savepoint rolled back after the test. The test sees the world, never
    another test's writes (checked: every table holds as many rows as when the world was made)."""
    savepoint = _module_connection.begin_nested()
    session = Session(bind=_module_connection, join_transaction_mode="create_savepoint")
    try:
        assert _row_counts(session) == world.rows, "a test before this one left rows behind"
        yield session
    finally:
        session.close()
        savepoint.rollback()


def test_every_route_is_covered_or_public():
    problems = [f"{r.method} {r.path}: cannot fill {uncovered(r)}; add it to SPECIAL"
                for r in ROUTES if r.key not in PUBLIC and uncovered(r)]
    assert problems == []
    assert len(ROUTES) > 20


def test_special_table_names_existing_routes():
    keys = {r.key for r in ROUTES}
    assert sorted(k for k in SPECIAL if k not in keys) == []


@pytest.mark.parametrize("route", [r for r in ROUTES if not uncovered(r)], ids=lambda r: f"{r.method} {r.path}")
def test_access(app, db, world, route):
    failures = run_route(app, db, world, route)
    TRIED["routes"] += 1
    assert failures == []


def test_commune_editor_cannot_reach_another_commune(app, db, world):
    """xa.nhaplieu (commune 04720) against a sibling commune of district 141: by URL, query or body."""
    editor = next(c for c in CALLERS if c.name == "xa.nhaplieu")
    scoped = [r for r in ROUTES if not uncovered(r) and r.key not in PUBLIC and spec_of(r).target == "UNIT"]
    failures = [f for r in scoped for f in run_route(app, db, world, r, callers=[editor], only_label="out")]
    assert failures == []
    assert len(scoped) >= 10


def test_matrix_flags_a_route_that_ignores_scope(app, db, world):
    """The matrix can fail: a route that signs callers in but never checks the unit is caught."""
    from app.accounts.deps import ApiCaller

    def leaky(unit_code: str, principal: ApiCaller) -> dict:
        return {"unit": unit_code, "caller": principal.role}

    counted = TRIED["combinations"]
    fastapi_app.add_api_route("/api/v1/__leaky/{unit_code}", leaky, methods=["GET"])
    try:
        route = next(r for r in all_routes() if r.path == "/api/v1/__leaky/{unit_code}")
        failures = run_route(app, db, world, route, callers=[c for c in CALLERS if c.name == "xa.nhaplieu"])
    finally:
        fastapi_app.router.routes[:] = [r for r in fastapi_app.router.routes
                                        if getattr(r, "path", None) != "/api/v1/__leaky/{unit_code}"]
        TRIED["combinations"] = counted  # not part of the app's matrix
    assert TestClient(app).get("/api/v1/__leaky/04720").status_code == 404  # removed again
    # The sibling commune (200 instead of 404) and the missing unit (200 instead of 404).
    assert len(failures) == 2
    assert all("expected 404, got 200" in f for f in failures)


UNSAFE = [r for r in ROUTES if r.method != "GET" and not uncovered(r)]


@pytest.mark.parametrize("route", UNSAFE, ids=lambda r: f"{r.method} {r.path}")
def test_csrf_required_on_every_unsafe_route(app, db, world, route):
    """A signed-in browser's unsafe request without the CSRF token is refused (403), page or API.

    The province administrator may do everything, so any other answer means the route acted
    (or would have) on a forged cross-site request.
    """
    admin = next(c for c in CALLERS if c.name == "tinh.quantri")
    client = _client_for(app, admin, world)
    del client.headers["X-CSRF-Token"]
    spec = spec_of(route)
    label, value, _unit = targets(world, admin, spec.target)[0]
    db.close()
    savepoint = db.bind.begin_nested()
    try:
        r = _request(client, route, spec, value)
    finally:
        db.close()
        savepoint.rollback()
        client.close()
    assert r.status_code == 403, (label, value, r.status_code, r.text[:200])


def test_lists_never_show_another_commune(app, db, world):
    """Pages and API lists that take no unit (dashboards, lists, exports, audit) show a commune's
    caller nothing of a sibling commune that has a figure, its audit row and a user."""
    from app.accounts.deps import Principal
    from app.program.models import Indicator
    from app.values import service as values

    sibling_code = world.out["04720"]
    sibling = db.exec(select(Unit).where(Unit.code == sibling_code)).one()
    province = db.exec(select(Unit).where(Unit.code == "15")).one()
    admin = Principal(unit=province, role="admin", via="web",
                      user=db.exec(select(User).where(User.username == "tinh.quantri")).one())
    program = db.exec(select(Program)).first()
    ct17 = db.exec(select(Indicator).where(Indicator.program_id == program.id, Indicator.code == "CT17")).one()
    values.save_value(db, admin, program, sibling, ct17, PERIOD, values.Figure(value=3))
    secret, digest = new_api_token()
    commune = db.exec(select(Unit).where(Unit.code == "04720")).one()
    db.add(ApiToken(name="xã", unit_id=commune.id, mode="write", token_hash=digest, prefix=secret[:12],
                    expires_at=utcnow() + timedelta(days=1)))
    db.commit()

    editor = next(c for c in CALLERS if c.name == "xa.nhaplieu")
    session_client = _client_for(app, editor, world)
    token_client = TestClient(app, base_url="http://testserver", follow_redirects=False,
                              headers={"Authorization": f"Bearer {secret}"})
    lists = [r for r in ROUTES if r.method == "GET" and not r.path_params and r.key not in PUBLIC
             and not any(req for _q, req in r.query)]
    leaks, tried = [], 0
    for route in lists:
        for who, client in (("session", session_client), ("token", token_client)):
            if who == "token" and not route.is_api:
                continue
            r = client.get(route.path)
            if r.status_code in (302, 303) or "spreadsheet" in r.headers.get("content-type", ""):
                continue  # a redirect to the caller's own unit; XLSX is zipped (same rows as CSV)
            tried += 1
            # Thị trấn Yên Bình shares its name with the caller's own district: match codes then.
            name_leak = sibling.name != "Yên Bình" and sibling.name in r.text
            if re.search(rf"(?<![\w-]){sibling_code}(?![\w-])", r.text) or name_leak:
                leaks.append(f"{route.path} ({who}) shows {sibling_code} {sibling.name}")
    session_client.close()
    token_client.close()
    assert leaks == []
    assert tried >= 8
    # The figure is there to be leaked: the province sees it in the same list.
    province_client = _client_for(app, next(c for c in CALLERS if c.name == "tinh.quantri"), world)
    assert sibling_code in province_client.get("/api/v1/data-values").text
    province_client.close()
