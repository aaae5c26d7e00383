"""Errors as application/problem+json (RFC 9457) for the API; Vietnamese pages for the UI."""
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.i18n import gettext_
from app.core.templates import error_page

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """A failure with an HTTP status, a short title, a detail a developer can act on, extras."""

    def __init__(self, status: int, title: str, detail: str = "",
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = headers


def problem_response(status: int, title: str, detail: str = "", instance: str = "",
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _wants_problem(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install(app: FastAPI) -> None:
    """Register handlers: API paths answer problem+json; pages keep FastAPI's HTML handling."""
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        if _wants_problem(request):
            return problem_response(exc.status, exc.title, exc.detail, request.url.path,
                                    headers=exc.headers, **exc.extra)
        return error_page(request, exc.status, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if _wants_problem(request):
            return problem_response(exc.status_code, _title(exc.status_code), str(exc.detail),
                                    request.url.path, headers=getattr(exc, "headers", None))
        return error_page(request, exc.status_code, _title(exc.status_code), str(exc.detail),
                          headers=getattr(exc, "headers", None))

    @app.exception_handler(PermissionError)
    async def _forbidden(request: Request, _exc: PermissionError):
        # A rule of a service refused the write (e.g. a unit read through a successor link but
        # not the caller's to change): 403, and the request's transaction is never committed.
        detail = gettext_("You may read this unit's figures but not change them.")
        if _wants_problem(request):
            return problem_response(403, _title(403), detail, request.url.path)
        return error_page(request, 403, _title(403), detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        if _wants_problem(request):
            return problem_response(422, "Unprocessable Content",
                                    "The request does not match the schema; see `errors`.",
                                    request.url.path, errors=errors)
        return error_page(request, 422, _title(422), "; ".join(e["msg"] for e in errors))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
