"""Sign in and out."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import select

from app.accounts.deps import OptionalWebUser, start_session, verify_csrf
from app.accounts.models import User
from app.accounts.security import verify_password
from app.core.db import SessionDep
from app.core.i18n import _
from app.core.templates import render
from app.core.time import utcnow

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])


def _safe_next(next_url: str | None) -> str:
    return next_url if next_url and next_url.startswith("/") and not next_url.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, principal: OptionalWebUser, next: str = "/"):  # noqa: ANN201
    if principal:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "accounts/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):  # noqa: ANN201
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        return render(request, "accounts/login.html",
                      {"next": _safe_next(next), "username": username,
                       "error": _("Wrong username or password.")}, status_code=400)
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
