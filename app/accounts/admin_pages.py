"""Administration pages: users and API tokens of the administrator's subtree."""
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import service
from app.accounts.deps import Principal, WebUser, verify_csrf
from app.accounts.models import ROLES
from app.accounts.pages import role_name
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.problems import Problem
from app.core.templates import render
from app.core.time import today_vn, utcnow

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
NO_STORE = {"Cache-Control": "no-store"}


def admin_user(principal: WebUser) -> Principal:
    if principal.role != "admin":
        raise Problem(403, "Forbidden", _("Only an administrator may open this page."))
    return principal


AdminUser = Annotated[Principal, Depends(admin_user)]


def _not_found() -> Problem:
    return Problem(404, "Not Found", _("Not found in your area."))


@router.get("/admin")
def admin_home(request: Request, principal: AdminUser):
    return render(request, "admin/index.html", {"unit": principal.unit})


def _users_page(request: Request, session, principal: Principal, **ctx):
    status = ctx.pop("status_code", 200)
    q = ctx.pop("q", "")
    rows = service.users_in_scope(session, principal, q)
    now = utcnow()
    return render(request, "admin/users.html", {
        "rows": rows, "unit": principal.unit, "me": principal.user,
        "is_locked": lambda u: service.is_locked(u, now),
        "roles": [(r, role_name(r)) for r in ROLES], "role_name": role_name,
        "units": service.units_for_choice(session, principal),
        "q": q, "page_size": service.USERS_PAGE,
        "errors": {}, "form": {"role": "editor", "can_edit_below": True}, **ctx,
    }, status_code=status)


@router.get("/admin/users")
def users(request: Request, principal: AdminUser, session: SessionDep, done: str = "",
          q: str = ""):
    return _users_page(request, session, principal, done=done, q=q)


@router.post("/admin/users")
def create_user(
    request: Request,
    principal: AdminUser,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    full_name: Annotated[str, Form(max_length=400)] = "",
    unit_code: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    can_edit_below: Annotated[bool, Form()] = False,
):
    try:
        user, temp = service.create_user(session, principal, username=username, full_name=full_name,
                                         unit_code=unit_code, role=role, can_edit_below=can_edit_below)
    except service.AccountError as e:
        session.rollback()
        form = {"username": username, "full_name": full_name, "unit_code": unit_code, "role": role,
                "can_edit_below": can_edit_below}
        return _users_page(request, session, principal, status_code=400, form=form,
                           errors={e.field or "form": _(e.message, **e.params)})
    session.commit()
    return render(request, "admin/secret.html", {
        "kind": "user", "user": user, "secret": temp, "role": role_name(user.role),
        "unit": session.get(service.Unit, user.unit_id)}, headers=NO_STORE)


@router.post("/admin/users/{user_id}/active")
def set_active(
    request: Request, principal: AdminUser, session: SessionDep, user_id: int,
    active: Annotated[bool, Form()] = False,
):
    try:
        service.set_active(session, principal, user_id, active)
    except service.NotInScope:
        raise _not_found() from None
    except service.AccountError as e:
        session.rollback()
        return _users_page(request, session, principal, status_code=400,
                           errors={"form": _(e.message, **e.params)})
    session.commit()
    return RedirectResponse(f"/admin/users?done={'enabled' if active else 'disabled'}", status_code=303)


@router.post("/admin/users/{user_id}/access")
def change_access(
    request: Request, principal: AdminUser, session: SessionDep, user_id: int,
    new_role: Annotated[str, Form(max_length=16)] = "",
    new_unit_code: Annotated[str, Form(max_length=64)] = "",
    new_can_edit_below: Annotated[bool, Form()] = False,
):
    """Change a user's role or unit; their sessions end at once. (Field names differ from the
    new-user form's, which shares the page.)"""
    try:
        service.change_access(session, principal, user_id, role=new_role, unit_code=new_unit_code,
                              can_edit_below=new_can_edit_below)
    except service.NotInScope:
        raise _not_found() from None
    except service.AccountError as e:
        session.rollback()
        return _users_page(request, session, principal, status_code=400,
                           errors={"form": _(e.message, **e.params)})
    session.commit()
    return RedirectResponse("/admin/users?done=access", status_code=303)


@router.post("/admin/users/{user_id}/sessions/end")
def end_user_sessions(principal: AdminUser, session: SessionDep, user_id: int) -> RedirectResponse:
    """Sign a user out everywhere (a lost phone, a shared computer)."""
    try:
        service.end_user_sessions(session, principal, user_id)
    except service.NotInScope:
        raise _not_found() from None
    session.commit()
    return RedirectResponse("/admin/users?done=signed_out", status_code=303)


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, principal: AdminUser, session: SessionDep, user_id: int):
    try:
        user, temp = service.reset_password(session, principal, user_id)
    except service.NotInScope:
        raise _not_found() from None
    session.commit()
    return render(request, "admin/secret.html", {
        "kind": "reset", "user": user, "secret": temp, "role": role_name(user.role),
        "unit": session.get(service.Unit, user.unit_id)}, headers=NO_STORE)


def _tokens_page(request: Request, session, principal: Principal, **ctx):
    status = ctx.pop("status_code", 200)
    today = today_vn()
    return render(request, "admin/tokens.html", {
        "rows": service.tokens_in_scope(session, principal), "unit": principal.unit,
        "units": service.units_for_choice(session, principal),
        "errors": {}, "form": {"mode": "read", "unit_code": principal.unit.code,
                               "expires_on": (today + timedelta(days=365)).strftime("%d/%m/%Y")},
        "last_day": service.last_day_of_use, **ctx,
    }, status_code=status)


@router.get("/admin/tokens")
def tokens(request: Request, principal: AdminUser, session: SessionDep, done: str = ""):
    return _tokens_page(request, session, principal, done=done)


@router.post("/admin/tokens")
def create_token(
    request: Request,
    principal: AdminUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=400)] = "",
    unit_code: Annotated[str, Form(max_length=64)] = "",
    mode: Annotated[str, Form(max_length=8)] = "",
    expires_on: Annotated[str, Form(max_length=32)] = "",
):
    try:
        token, secret = service.create_token(session, principal, name=name, unit_code=unit_code,
                                             mode=mode, expires_on=expires_on)
    except service.AccountError as e:
        session.rollback()
        form = {"name": name, "unit_code": unit_code, "mode": mode, "expires_on": expires_on}
        return _tokens_page(request, session, principal, status_code=400, form=form,
                            errors={e.field or "form": _(e.message, **e.params)})
    session.commit()
    return render(request, "admin/secret.html", {
        "kind": "token", "token": token, "secret": secret, "last_day": service.last_day_of_use(token),
        "unit": session.get(service.Unit, token.unit_id)}, headers=NO_STORE)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(principal: AdminUser, session: SessionDep, token_id: int) -> RedirectResponse:
    try:
        service.revoke_token(session, principal, token_id)
    except service.NotInScope:
        raise _not_found() from None
    session.commit()
    return RedirectResponse("/admin/tokens?done=revoked", status_code=303)
