"""Translations: English msgids in code and templates, Vietnamese (first) from `locales/vi/*.po`.

Every `.po` file under `locales/<lang>/` is read at start and merged, so each domain keeps its
own catalogue file. No compile step: Babel reads the `.po` files directly.
"""
import gettext
from contextvars import ContextVar
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from app.core.config import ROOT, settings
from app.core.time import VN_TZ

LANGUAGES = ("vi", "en")
_current: ContextVar[str] = ContextVar("lang", default=settings.DEFAULT_LANGUAGE)


class _Catalogue(gettext.NullTranslations):
    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@lru_cache
def catalogue(lang: str) -> _Catalogue:
    messages: dict[str, str] = {}
    for po in sorted((ROOT / "locales" / lang).glob("*.po")):
        with po.open("rb") as f:
            for msg in read_po(f, locale=lang):
                if msg.id and msg.string and not msg.fuzzy and isinstance(msg.id, str):
                    messages[msg.id] = msg.string
    return _Catalogue(messages)


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else settings.DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext_(message: str, **kwargs: object) -> str:
    """Translate into the request's language; `{name}` placeholders are filled from kwargs."""
    text = catalogue(_current.get()).gettext(message) if _current.get() != "en" else message
    return text.format(**kwargs) if kwargs else text


_ = gettext_


# Group and decimal separators of "#,##0.##" in each language (what Babel's vi_VN / en_US use).
_SEPARATORS = {"vi": (".", ","), "en": (",", ".")}
_QUANTUM = [Decimal(1).scaleb(-d) for d in range(10)]


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    """12345678 → "12.345.678" in Vietnamese, "12,345,678" in English.

    The same text as Babel's `format_decimal(value, "#,##0[.0…]")` (half-even rounding of the
    value's decimal text), written directly: pages format hundreds of figures, and Babel's
    pattern machinery cost more than the rest of a dashboard card."""
    if value is None:
        return "—"
    kind = type(value)
    if kind is float or kind is int or kind is Decimal:
        if kind is int:
            text = f"{value:,}" + ("." + "0" * digits if digits else "")
        else:
            number = value if kind is Decimal else Decimal(repr(value))
            if not number.is_finite() or digits >= len(_QUANTUM):
                return _babel_number(value, digits)
            text = f"{number.quantize(_QUANTUM[digits], rounding=ROUND_HALF_EVEN):,.{digits}f}"
        group, point = _SEPARATORS.get(_current.get(), _SEPARATORS["en"])
        if group == ",":
            return text
        return text.replace(",", "\0").replace(".", point).replace("\0", group)
    return _babel_number(value, digits)


def _babel_number(value: object, digits: int) -> str:
    locale = "vi_VN" if _current.get() == "vi" else "en_US"
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt, locale=locale)


def fmt_vnd(value: int | None) -> str:
    """10000000000 → "10.000.000.000 đ"."""
    return "—" if value is None else f"{fmt_number(value)} đ"


def fmt_vnd_words(value: int | None) -> str:
    """10000000000 → "10 tỷ đồng"; 2500000 → "2,5 triệu đồng"."""
    if value is None:
        return "—"
    for size, unit in ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn")):
        if abs(value) >= size:
            n = value / size
            digits = 0 if n == int(n) else (1 if abs(n) >= 10 else 2)
            text = fmt_number(round(n, digits), digits).rstrip("0").rstrip(",.") if digits else fmt_number(n)
            return f"{text} {unit} đồng"
    return f"{fmt_number(value)} đồng"


def fmt_percent(value: float | None, digits: int = 1) -> str:
    """0.905 → "90,5 %"."""
    if value is None:
        return "—"
    return f"{fmt_number(value * 100, digits)} %"


def fmt_date(value) -> str:
    """A date or datetime as dd/mm/yyyy."""
    return "" if value is None else value.strftime("%d/%m/%Y")


def fmt_datetime(value) -> str:
    """A datetime as dd/mm/yyyy HH:MM (Asia/Ho_Chi_Minh)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(VN_TZ)
    return value.strftime("%d/%m/%Y %H:%M")
