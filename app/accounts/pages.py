"""Sign in and out, and the signed-in user's own account page."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.accounts import service, sessions
from app.accounts.deps import OptionalWebUser, WebUser, end_session, start_session, verify_csrf
from app.accounts.protection import check_login_rate, safe_next
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.templates import render
from app.core.time import utcnow

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

ROLE_NAMES = {"admin": "Administrator", "editor": "Editor", "viewer": "Viewer", "token": "API token"}


def role_name(role: str) -> str:
    return _(ROLE_NAMES.get(role, role))


@router.get("/login")
def login_form(request: Request, principal: OptionalWebUser, next: str = "/"):
    if principal:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
):
    check_login_rate(request, session)  # counts this attempt for its address (commits)
    user = service.authenticate(session, username, password)  # counts it for the account (commits)
    if user is None:
        # One message for every refusal: unknown user, wrong password, paused or locked account.
        return render(request, "accounts/login.html",
                      {"next": safe_next(next), "username": username,
                       "error": _("Wrong username or password."),
                       "lock_note": _("After {k} failed attempts in a row, wait half a minute before "
                                      "trying again; after {n}, sign-in to the account pauses for "
                                      "{minutes} minutes.", k=min(service.SLOWDOWN), n=service.MAX_FAILURES,
                                      minutes=int(service.LOCK_DURATION.total_seconds() // 60))},
                      status_code=400)
    start_session(request, session, user)  # a fresh session: new row, new cookie, new CSRF token
    session.commit()
    if service.must_change_password(user):
        return RedirectResponse("/account?first=1", status_code=303)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    end_session(request, session)  # the session row ends: a copied cookie no longer works
    session.commit()
    return RedirectResponse("/login", status_code=303)


def _account_page(request: Request, principal, session, **ctx):
    status = ctx.pop("status_code", 200)
    user = principal.user
    return render(request, "accounts/account.html", {
        "user": user, "unit": principal.unit, "role": role_name(principal.role),
        "min_length": service.MIN_PASSWORD_LENGTH,
        "must_change": service.must_change_password(user),
        "sessions": sessions.live_sessions(session, user.id, utcnow()),
        "this_session": principal.web_session.id if principal.web_session else None,
        "device_name": sessions.device_name,
        "errors": {}, **ctx}, status_code=status)


@router.get("/account")
def account(request: Request, principal: WebUser, session: SessionDep, changed: int = 0,
            first: int = 0, ended: int = 0):
    return _account_page(request, principal, session, changed=bool(changed), first=bool(first),
                         ended=bool(ended))


@router.post("/account/sessions/{session_id}/end")
def end_one_session(principal: WebUser, session: SessionDep, session_id: int) -> RedirectResponse:
    """End one of the user's own sessions (e.g. a phone left signed in)."""
    sessions.end(session, session_id, utcnow(), user_id=principal.user_id)
    session.commit()
    if principal.web_session is not None and principal.web_session.id == session_id:
        return RedirectResponse("/", status_code=303)  # signed out: the home page sends to /login
    return RedirectResponse("/account?ended=1#sessions", status_code=303)


@router.post("/account/sessions/end-all")
def end_all_sessions(request: Request, principal: WebUser, session: SessionDep) -> RedirectResponse:
    """Sign out everywhere: every session of the user ends, this one too."""
    sessions.end_all(session, principal.user_id, utcnow())  # type: ignore[arg-type]
    session.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)  # signed out: the home page sends to /login


@router.post("/account/password")
def change_password(
    request: Request,
    principal: WebUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    confirm_password: Annotated[str, Form(max_length=1000)] = "",
):
    user = principal.user
    try:
        service.change_own_password(session, user, current_password, new_password, confirm_password)
    except service.AccountError as e:
        session.rollback()
        return _account_page(request, principal, session, status_code=400,
                             errors={e.field or "form": _(e.message, **e.params)})
    start_session(request, session, user)  # this browser stays signed in; every other session ended
    session.commit()
    return RedirectResponse("/account?changed=1", status_code=303)
