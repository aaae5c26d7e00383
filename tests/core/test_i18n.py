"""Every UI string has a Vietnamese translation, and figures read the Vietnamese way."""
import ast
from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_dir

from app.core import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]


def _ui_msgids() -> set[str]:
    ids: set[str] = set()
    for sub in ("app", "templates"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / sub, method_map=[(m.split("/", 1)[1], how) for m, how in METHODS if m.startswith(sub)],
            keywords={"_": None, "gettext_": None},
        ):
            ids.update([message] if isinstance(message, str) else [m for m in message if m])
    return ids


def _entry_error_messages() -> set[str]:
    """English messages of EntryError(...) calls: translated when shown in the UI."""
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "EntryError" \
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                found.add(node.args[1].value)
    return found


def test_every_ui_string_has_a_vietnamese_translation():
    vi = i18n.catalogue("vi")
    ids = _ui_msgids() | _entry_error_messages()
    assert len(ids) > 30
    missing = sorted(m for m in ids if m not in vi._messages)
    assert missing == []


def test_translate_fills_placeholders_in_vietnamese():
    i18n.set_language("vi")
    assert i18n._("The number cannot be negative.") == "Số không được âm."
    text = i18n._("The first number ({num}) cannot be larger than the total ({den}).", num=12, den=10)
    assert text == "Số đạt (12) không được lớn hơn tổng số (10)."


def test_format_money_vietnamese_grouping():
    i18n.set_language("vi")
    assert i18n.fmt_vnd(10_000_000_000) == "10.000.000.000 đ"
    assert i18n.fmt_vnd_words(10_000_000_000) == "10 tỷ đồng"
    assert i18n.fmt_vnd_words(3_250_000_000) == "3,25 tỷ đồng"


def test_format_percent_and_date_vietnamese():
    i18n.set_language("vi")
    assert i18n.fmt_percent(0.905) == "90,5 %"
    assert i18n.fmt_date(date(2023, 4, 5)) == "05/04/2023"


def test_english_is_second_language():
    i18n.set_language("en")
    try:
        assert i18n._("Sign in") == "Sign in"
        assert i18n.fmt_number(1234567) == "1,234,567"
    finally:
        i18n.set_language("vi")


def test_fmt_number_writes_what_babel_writes():
    """The direct formatter gives Babel's text (grouping, half-even rounding of the decimal
    text, "-0") for ints, floats and Decimals, in both languages."""
    import random
    from decimal import Decimal

    from babel.numbers import format_decimal

    rng = random.Random(16)
    values = [0, -0.0, 0.5, 1.5, 2.5, -0.4, 2.675, 99.95, -99.95, 1 / 3, 1e22, 123456789012345678,
              Decimal("12.345"), Decimal("-0.005")]
    values += [rng.randint(-10**9, 10**9) for _ in range(200)]
    values += [round(rng.uniform(-1e6, 1e6), rng.randint(0, 4)) for _ in range(400)]
    try:
        for lang, locale in (("vi", "vi_VN"), ("en", "en_US")):
            i18n.set_language(lang)
            for v in values:
                for digits in (0, 1, 2):
                    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
                    assert i18n.fmt_number(v, digits) == format_decimal(v, format=fmt, locale=locale), (lang, v, digits)
    finally:
        i18n.set_language("vi")


def test_fmt_number_hand_worked_examples():
    try:
        i18n.set_language("vi")
        assert i18n.fmt_number(12345678) == "12.345.678"
        assert i18n.fmt_number(72.727, 1) == "72,7"
        assert i18n.fmt_number(2.5) == "2"  # half-even, as Babel
        assert i18n.fmt_number(-1234.55, 1) == "-1.234,6"
        i18n.set_language("en")
        assert i18n.fmt_number(12345678.25, 1) == "12,345,678.2"
    finally:
        i18n.set_language("vi")


def test_each_request_reads_its_own_language(client):
    """`?lang=` first, then the `lang` cookie the switch sets, else Vietnamese; nothing of one
    request's language stays for the next."""
    def title(r) -> str:
        return r.text.split("<h1>")[1].split("</h1>")[0]

    assert title(client.get("/login")) == "Đăng nhập"
    assert title(client.get("/login?lang=en")) == "Sign in"
    assert title(client.get("/login")) == "Đăng nhập"
    client.cookies.set("lang", "en")
    assert title(client.get("/login")) == "Sign in"
    assert title(client.get("/login?lang=vi")) == "Đăng nhập"
    client.cookies.set("lang", "xx")  # not a language of the app: the default
    assert title(client.get("/login")) == "Đăng nhập"


def test_language_switch_goes_back_only_to_a_page_of_this_site(client):
    assert client.get("/lang/en?next=/dashboard/15").headers["location"] == "/dashboard/15"
    for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example"):
        r = client.get("/lang/en", params={"next": elsewhere})
        assert (r.status_code, r.headers["location"]) == (303, "/"), elsewhere
