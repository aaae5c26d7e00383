"""How the program's words and figures read, in one place for the pages, the report and the
XLSX: a roll-up figure and an entered one, a target's goal and its comparator sign, a verdict's
status word, a quarter's numeral (the `quarter` filter in templates)."""
from typing import Any

from app.core.i18n import _, fmt_number, fmt_percent, fmt_vnd
from app.core.templates import env
from app.program.models import Indicator
from app.program.rules import PERCENT_MEASURES
from app.rollup.on_track import BEHIND, MET, NO_DATA, NOT_MET, ON_TRACK
from app.rollup.types import Figure, TargetResult

QUARTER_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}
COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}
STATUS_WORDS = {MET: "Met", NOT_MET: "Not met", ON_TRACK: "On track", BEHIND: "Behind schedule",
                NO_DATA: "No data yet"}


def quarter_numeral(quarter: int) -> str:
    """1 → "I", 4 → "IV" (how plans write a quarter)."""
    return QUARTER_NUMERALS[quarter]


def comparator_sign(comparator: str) -> str:
    """">=" → "≥"; a comparator without a sign (e.g. "range") as it is."""
    return COMPARATOR_SIGNS.get(comparator, comparator)


def status_word(verdict: str) -> str:
    """A target's verdict in the user's language: "Đạt", "Chưa có số liệu", …"""
    return _(STATUS_WORDS[verdict])


def status_words() -> dict[str, str]:
    return {k: _(v) for k, v in STATUS_WORDS.items()}


def figure_text(indicator: Indicator, fig: Figure | None) -> str:
    """"90,5 %" (with "181/200" for ratios and shares), "12 nhà", "3.250.000.000 đ", "—"."""
    if fig is None or fig.value is None:
        return "—"
    if indicator.measure in PERCENT_MEASURES:
        text = fmt_percent(fig.value)
        if fig.numerator is not None and fig.denominator is not None:
            text += f" ({fmt_number(fig.numerator)}/{fmt_number(fig.denominator)})"
        return text
    if indicator.measure == "amount":
        return fmt_vnd(int(fig.value))
    label = f" {indicator.value_label}" if indicator.value_label else ""
    return f"{fmt_number(fig.value)}{label}"


def actual_text(indicator: Indicator, tr: TargetResult) -> str:
    """What the target compared: a percentage, a reduction, a count or an amount."""
    if tr.actual is None:
        return "—"
    if tr.target.scope == "each" and tr.units_total is not None:
        return f"{tr.units_meeting}/{tr.units_total}"
    if tr.target.on == "reduction_pct" or indicator.measure in PERCENT_MEASURES:
        return f"{fmt_number(tr.actual, 1)} %"
    if indicator.measure == "amount":
        return fmt_vnd(int(tr.actual))
    return fmt_number(tr.actual)


def target_text(indicator: Indicator, tr: TargetResult) -> str:
    """The target as a comparison: "≥ 95 %", "> 90 %", "10–15 % (giảm)", "≥ 3 (mỗi đơn vị)"."""
    t = tr.target
    pct = t.on == "reduction_pct" or indicator.measure in PERCENT_MEASURES
    def num(x: float) -> str:
        if indicator.measure == "amount" and not pct:
            return fmt_vnd(int(x))
        return fmt_number(x, 0 if float(x).is_integer() else 1) + (" %" if pct else "")
    if t.comparator == "range":
        text = f"{num(t.value)} – {num(t.value_high or t.value)}"
        return _("reduction of {text}", text=text) if t.on == "reduction_pct" else text
    return f"{comparator_sign(t.comparator)} {num(t.value)}"


def entered_text(indicator: Indicator, snap: dict[str, Any] | None) -> str:
    """A stored figure as a person reads it: "45/50 (90,0 %)", "Có", "10.000.000 đ", "12"."""
    if snap is None:
        return "—"
    if indicator.measure == "ratio":
        num, den = snap.get("numerator"), snap.get("denominator")
        if num is None or den is None:
            return "—"
        pct = f" ({fmt_percent(num / den)})" if den else ""
        return f"{fmt_number(num)}/{fmt_number(den)}{pct}"
    value = snap.get("value")
    if value is None:
        return "—"
    if indicator.measure == "yes_no":
        return _("Yes") if value else _("No")
    if indicator.measure == "amount":
        return fmt_vnd(value)
    return fmt_number(value)


env.filters["quarter"] = quarter_numeral
