"""Response hardening: security headers on every response, and the per-address sign-in limit.

`install(app)` is called once from `app.main.create_app`.
"""
import os

from fastapi import FastAPI, Request
from limits import parse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import settings
from app.core.i18n import _
from app.core.problems import Problem

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

# Failed sign-ins per client address (POST /login), on top of the per-account lockout: it
# stops one address from guessing across many accounts. Only failures count, so an office
# whose staff sign in together behind one address is never held up; set LOGIN_RATE_LIMIT to
# change it. Behind a reverse proxy, run uvicorn with --forwarded-allow-ips so the client's
# own address is seen. Counts live in memory, per process.
LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10/minute")
_LOGIN_LIMIT = parse(LOGIN_RATE_LIMIT)
# The test suite fails sign-ins on purpose from one address: there the limiter starts off and
# the test of the limit turns it on.
limiter = Limiter(key_func=get_remote_address, enabled=settings.ENVIRONMENT != "test",
                  storage_uri="memory://")


def check_login_rate(request: Request) -> None:
    """Refuse (429) a sign-in from an address that failed too often in the current window."""
    if limiter.enabled and not limiter.limiter.test(_LOGIN_LIMIT, "login", get_remote_address(request)):
        raise Problem(429, "Too Many Requests",
                      _("Too many sign-in attempts from this address. Wait a minute and try again."),
                      headers={"Retry-After": "60"})


def count_failed_login(request: Request) -> None:
    if limiter.enabled:
        limiter.limiter.hit(_LOGIN_LIMIT, "login", get_remote_address(request))


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


def _too_many(request: Request, _exc: RateLimitExceeded):  # noqa: ANN202
    from app.core.pages import error_page

    return error_page(request, 429, "Too Many Requests",
                      _("Too many sign-in attempts from this address. Wait a minute and try again."),
                      headers={"Retry-After": "60"})


def install(app: FastAPI) -> None:
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _too_many)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeadersMiddleware)
