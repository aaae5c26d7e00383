"""Response hardening: security headers on every response, the per-address sign-in limit,
the client address behind a trusted proxy, and the forced password change.

`install(app)` is called once from `app.main.create_app`.
"""
import csv

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.accounts import throttle
from app.core import i18n
from app.core.config import settings
from app.core.i18n import _
from app.core.problems import Problem, problem_response
from app.core.templates import error_page
from app.core.time import utcnow

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; "
       "object-src 'none'")
# Swagger UI (/docs) is FastAPI's page: inline start-up script and assets from a CDN. Only it
# gets this policy; it shows no user data (the API needs a bearer token it does not hold).
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
            f"style-src 'self' 'unsafe-inline' {DOCS_CDN}; img-src 'self' data: {DOCS_CDN} "
            "https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'self'; object-src 'none'")
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")

# Sign-in attempts per client address (POST /login), on top of the per-account lockout: it
# stops one address from guessing across many accounts. EVERY attempt it lets through is
# counted, before the password is checked, in the database (app/accounts/throttle.py), so all
# processes and instances share one count. The client address is the connection's, or the
# forwarded one when the connection comes from a proxy listed in TRUSTED_PROXIES.
LOGIN_RATE_LIMIT = settings.LOGIN_RATE_LIMIT
LOGIN_LIMIT, LOGIN_WINDOW = throttle.parse_rate(LOGIN_RATE_LIMIT)
# The test suite signs in hundreds of times from one address: there the limit starts off and
# the tests of the limit turn it on.
LIMIT_ENABLED = (settings.LOGIN_RATE_LIMIT_ENABLED if settings.LOGIN_RATE_LIMIT_ENABLED is not None
                 else settings.ENVIRONMENT != "test")


def client_address(request: Request) -> str:
    """The caller's address (already the forwarded one when a trusted proxy sent it)."""
    return request.client.host if request.client else ""


def check_login_rate(request: Request, db: Session) -> None:
    """Count this sign-in attempt for its address; refuse (429) past the limit. Commits."""
    if not LIMIT_ENABLED:
        return
    hits = throttle.hit(db, f"login:{client_address(request)}", LOGIN_WINDOW, utcnow())
    db.commit()
    if hits > LOGIN_LIMIT:
        raise Problem(429, "Too Many Requests",
                      _("Too many sign-in attempts from this address. Wait a minute and try again."),
                      headers={"Retry-After": str(LOGIN_WINDOW)})


class PasswordChangeRequired(Exception):
    """The signed-in user still has a temporary password: nothing opens until it is changed."""


def _password_change_required(request: Request, _exc: PasswordChangeRequired):
    if request.url.path.startswith("/api/"):
        return problem_response(403, "Password change required",
                                "Sign in on the web and change the temporary password first.",
                                request.url.path)
    resp = RedirectResponse("/account?first=1", status_code=303)
    if request.headers.get("HX-Request"):
        resp.headers["HX-Redirect"] = "/account?first=1"
    return resp


def security_headers(path: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": DOCS_CSP if path in DOCS_PATHS else CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if settings.ENVIRONMENT == "production":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- bad input: NUL characters, unreadable CSV ---------------------------------------------

# Form and JSON bodies up to this size are read whole and checked before the app sees them;
# larger ones (bulk imports) are checked by their own readers.
NUL_SCAN_LIMIT = 2 * 2**20


def _nul_in(body: bytes, content_type: str) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"%00" in body
    return b"\\u0000" in body.lower()


class RefuseNulMiddleware:
    """Refuses (400) a page request whose URL, form or JSON body carries a NUL character.

    Why: PostgreSQL cannot store NUL in text, so such a value failed deep inside a save with a
    500 (sign-in name, task notes, user and token names); SQLite would store it silently. One
    guard at the door answers every page the same way and nothing is half-written. The JSON
    API (/api/) keeps its own, finer answers (a 422 for a code, a rejected row in an import),
    documented in its OpenAPI schema.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "") \
                or b"%00" in scope.get("raw_path", b""):
            await self._refuse(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or not (
                content_type.startswith("application/x-www-form-urlencoded") or "json" in content_type):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more and size <= NUL_SCAN_LIMIT:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        if not more and _nul_in(b"".join(m.get("body", b"") for m in messages), content_type):
            await self._refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Outside the session layer: the error page gets a throwaway session of its own.
        request = Request({**scope, "session": {}})
        i18n.set_language(request.query_params.get("lang") or request.cookies.get("lang")
                          or settings.DEFAULT_LANGUAGE)
        response = error_page(request, 400, "Bad Request",
                              _("The text you sent contains a NUL character (\\0), which is not "
                                "allowed. Remove it and try again."))
        await response(scope, receive, send)


def _unreadable_csv(request: Request, exc: Exception):
    """A CSV whose field exceeds csv.field_size_limit() (128 KiB) or whose quotes never close:
    a 400 naming the cause, before anything is written (the reader fails before any save)."""
    if request.url.path.startswith("/api/"):
        return problem_response(400, "Bad Request",
                                f"The CSV file cannot be read: a field is longer than 128 KiB or its "
                                f"quotes do not close ({exc}).", request.url.path)
    return error_page(request, 400, "Bad Request",
                      _("The CSV file cannot be read: a field is longer than 128 KiB or its quotes do not close."))


def install(app: FastAPI) -> None:
    app.add_exception_handler(PasswordChangeRequired, _password_change_required)  # type: ignore[arg-type]
    app.add_exception_handler(csv.Error, _unreadable_csv)  # type: ignore[arg-type]
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    trusted = [h.strip() for h in settings.TRUSTED_PROXIES.split(",") if h.strip()]
    if trusted:
        # Outermost: every later layer sees the client's own address and scheme.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)


def safe_next(next_url: str | None) -> str:
    """Where to send the browser after signing in or switching language: a path of this site,
    else "/". Not another site's address: `//host` and `/\\host` (which browsers read as
    `//host`) are refused."""
    return next_url if next_url and next_url.startswith("/") and not next_url.startswith("//") \
        and "\\" not in next_url else "/"
