"""Response hardening: security headers on every response, the per-address sign-in limit,
the client address behind a trusted proxy, and the forced password change.

`install(app)` is called once from `app.main.create_app`.
"""
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.accounts import throttle
from app.core.config import settings
from app.core.i18n import _
from app.core.problems import Problem
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


def _password_change_required(request: Request, _exc: PasswordChangeRequired):  # noqa: ANN202
    if request.url.path.startswith("/api/"):
        from app.core.problems import problem_response

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


def install(app: FastAPI) -> None:
    app.add_exception_handler(PasswordChangeRequired, _password_change_required)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeadersMiddleware)
    trusted = [h.strip() for h in settings.TRUSTED_PROXIES.split(",") if h.strip()]
    if trusted:
        # Outermost: every later layer sees the client's own address and scheme.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
