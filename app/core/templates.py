"""Jinja2 pages: one environment, filters for Vietnamese figures, full page or htmx fragment.

`static_url("app.css")` gives `/static/app.css?v=<hash of the file>`: the URL changes when the
file does, so static files are served with a year-long immutable `Cache-Control` and a phone
on one bar of signal asks for them once per release (see `app.main`). Plain `/static/x` URLs
still work; they are only revalidated instead of kept.
"""
import hashlib
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from app.core import i18n
from app.core.config import ROOT

STATIC_DIR = ROOT / "static"


@cache
def static_version(name: str) -> str:
    """The first 10 hex digits of the file's SHA-256 ("" for a missing file); read once."""
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    version = static_version(name)
    return f"/static/{name}?v={version}" if version else f"/static/{name}"


templates = Jinja2Blocks(directory=str(ROOT / "templates"))
env = templates.env
env.globals.update(_=i18n.gettext_, current_language=i18n.current_language, static_url=static_url)
env.filters.update(
    number=i18n.fmt_number,
    percent=i18n.fmt_percent,
    date=i18n.fmt_date,
    datetime=i18n.fmt_datetime,
)


def is_htmx(request: Request) -> bool:
    """An htmx request (a field's save, a dashboard click); pages are never boosted."""
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; for an htmx request that names `block`, render that block alone."""
    ctx = {"request": request, **(context or {})}
    if block and is_htmx(request):
        return templates.TemplateResponse(request, name, ctx, block_name=block,
                                          status_code=status_code, headers=headers)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


def error_page(request: Request, status: int, title: str, detail: str = "",
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """The Vietnamese error page every HTML path answers with (see `app.core.problems`)."""
    return render(request, "error.html", {"status": status, "title": title, "detail": detail},
                  status_code=status, headers=headers)
