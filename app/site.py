"""Site-wide pages: landing, language switch, favicon, the service worker, the offline page.

Outside `app.core` because the landing page asks `app.accounts` who is signed in; the error
page itself is `app.core.templates.error_page`.

Landing: an editor's work is entering figures, so after sign-in an editor opens their unit's
entry page; viewers and administrators follow the roll-up, so they open the dashboard.

The service worker (`static/sw.js`) is served from `/sw.js` so that its scope is the whole
site (a worker under /static/ could only see /static/). It is sent with the versioned URLs of
the static files it keeps, so a release that changes any of them changes the worker's bytes
and the phone picks up the new worker and drops the old files.
"""
import json

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from app.accounts.deps import OptionalWebUser, WebUser, csrf_token
from app.accounts.protection import safe_next
from app.core.i18n import LANGUAGES
from app.core.templates import STATIC_DIR, render, static_url

router = APIRouter(include_in_schema=False)

# Kept by the service worker at install: every page's look and behaviour, and the offline page.
SHELL_STATIC = ("app.css", "htmx-2.0.4.min.js", "app.js", "entry.js", "favicon.svg")


@router.get("/")
def home(principal: OptionalWebUser) -> RedirectResponse:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/entry" if principal.role == "editor" else "/dashboard", status_code=303)


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request, next: str = "/") -> RedirectResponse:
    resp = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


@router.get("/signed-in")
def signed_in(request: Request, principal: WebUser) -> HTMLResponse:
    """The lightest signed-in page: the session check and the base template, nothing else.
    The floor the page benchmark (bench/page_bench.py) sets the other pages beside."""
    return render(request, "signed_in.html", {"principal": principal})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico on a first visit whatever the page says."""
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=604800"})


@router.get("/sw.js")
def service_worker() -> Response:
    shell = [static_url(name) for name in SHELL_STATIC]
    head = f"const SHELL = {json.dumps(shell)};\n"
    body = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    return Response(head + body, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@router.get("/offline")
def offline_page(request: Request) -> HTMLResponse:
    """What the service worker shows for a page it has not kept, when there is no signal."""
    return render(request, "values/offline.html")


@router.get("/csrf-token")
def fresh_csrf_token(request: Request, principal: OptionalWebUser) -> JSONResponse:
    """The session's CSRF token, for sending saves kept offline from a page kept in the cache
    (whose own token may belong to an earlier session); 401 when the session has ended."""
    if principal is None:
        return JSONResponse({"signed_in": False}, status_code=401,
                            headers={"Cache-Control": "no-store"})
    user = principal.user.username if principal.user else ""
    return JSONResponse({"signed_in": True, "user": user, "token": csrf_token(request)},
                        headers={"Cache-Control": "no-store"})
