"""Jinja2 pages: one environment, filters for Vietnamese figures, full page or htmx fragment."""
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from app.core import i18n
from app.core.config import ROOT

templates = Jinja2Blocks(directory=str(ROOT / "templates"))
env = templates.env
env.globals.update(_=i18n.gettext_, current_language=i18n.current_language)
env.filters.update(
    number=i18n.fmt_number,
    vnd=i18n.fmt_vnd,
    vnd_words=i18n.fmt_vnd_words,
    percent=i18n.fmt_percent,
    date=i18n.fmt_date,
    datetime=i18n.fmt_datetime,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


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
