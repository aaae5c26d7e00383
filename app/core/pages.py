"""Site-wide pages: home, language switch, error page."""
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.deps import OptionalWebUser
from app.core.i18n import LANGUAGES
from app.core.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(principal: OptionalWebUser) -> RedirectResponse:
    return RedirectResponse("/dashboard" if principal else "/login", status_code=303)


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request, next: str = "/") -> RedirectResponse:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


def error_page(request: Request, status: int, title: str, detail: str = "",
               headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "title": title, "detail": detail},
                  status_code=status, headers=headers)
