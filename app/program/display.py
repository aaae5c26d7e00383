"""How the program's words and figures read, in one place for the pages, the report and the
XLSX: a roll-up figure (one line for the report, with its note for the dashboard, short for a
scorecard cell) and an entered one, a target's goal and its comparator sign, a verdict's status
word, class and mark, a quarter's numeral (the `quarter` filter in templates)."""
from typing import Any

from app.core.i18n import _, fmt_number, fmt_percent, fmt_vnd, fmt_vnd_words
from app.core.templates import env
from app.program.models import Indicator, Target
from app.program.rules import PERCENT_MEASURES
from app.rollup.on_track import BEHIND, MET, NO_DATA, NOT_MET, ON_TRACK
from app.rollup.types import Figure, TargetResult

QUARTER_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}
COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}
STATUS_WORDS = {MET: "Met", NOT_MET: "Not met", ON_TRACK: "On track", BEHIND: "Behind schedule",
                NO_DATA: "No data yet"}
STATUS_CLASS = {MET: "met", NOT_MET: "not-met", ON_TRACK: "on-track", BEHIND: "behind",
                NO_DATA: "no-data"}
# Shown beside the colour, so a status reads without colour too.
STATUS_MARK = {MET: "✓", NOT_MET: "✗", ON_TRACK: "↗", BEHIND: "!", NO_DATA: "–"}


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


def percent_points(x: float) -> str:
    """Percentage points as read: 90 → "90 %", 72.727 → "72,7 %"."""
    return f"{fmt_number(x, 0 if round(x, 1) == int(round(x, 1)) else 1)} %"


def figure_and_note(ind: Indicator, fig: Figure | None) -> tuple[str, str]:
    """A roll-up figure as the dashboard shows it, and the note under it (the parts, the amount
    in words, who has not answered): ("72,7 %", "8 / 11")."""
    if fig is None or fig.value is None:
        if ind.measure == "yes_no" and fig is not None and fig.expected == 1:
            return "—", _("Not answered yet")
        if ind.measure == "yes_no" and fig is not None and fig.expected:
            return "—", _("{n} units should report; none has yet", n=fmt_number(fig.expected))
        return "—", _("No figures for this period")
    if ind.measure == "amount":
        return fmt_vnd(int(fig.value)), fmt_vnd_words(int(fig.value))
    if ind.measure == "count":
        label = f" {ind.value_label}" if ind.value_label else ""
        return f"{fmt_number(fig.value)}{label}", ""
    if ind.measure == "ratio":
        return percent_points(fig.value * 100), f"{fmt_number(fig.numerator)} / {fmt_number(fig.denominator)}"
    if fig.expected == 1:  # one unit's own answer
        return (_("Yes") if fig.numerator else _("No")), ""
    missing = (fig.expected or 0) - (fig.reported or 0)
    note = _("{yes} of {expected} units: yes", yes=fmt_number(fig.numerator),
             expected=fmt_number(fig.expected))
    if missing > 0:
        note += " · " + _("{n} not yet reported", n=fmt_number(missing))
    return percent_points(fig.value * 100), note


def cell_text(ind: Indicator, fig: Figure | None) -> str:
    """A figure short enough for a scorecard cell: "72,7 %", "1,25 tỷ", "12", "Có"."""
    if fig is None or fig.value is None:
        return "—"
    if ind.measure == "amount":
        return fmt_vnd_words(int(fig.value)).removesuffix(" đồng")
    if ind.measure == "yes_no" and fig.expected == 1:
        return _("Yes") if fig.numerator else _("No")
    if ind.measure in PERCENT_MEASURES:
        return percent_points(fig.value * 100)
    return fmt_number(fig.value)


def goal_value_text(ind: Indicator, t: Target, x: float | None, *, money_in_words: bool = True) -> str:
    """A number said of a target (its goal, a gap, what is due by now): a percentage for shares
    and reductions, money in words ("3,25 tỷ đồng") or in full ("3.250.000.000 đ"), else a count."""
    if x is None:
        return "—"
    if t.on == "reduction_pct" or ind.measure in PERCENT_MEASURES:
        return percent_points(x)
    if ind.measure == "amount":
        return fmt_vnd_words(int(round(x))) if money_in_words else fmt_vnd(int(x))
    return fmt_number(x, 0 if float(x).is_integer() else 1)


def goal_text(ind: Indicator, t: Target, *, money_in_words: bool = True) -> str:
    """A target's goal: "≥ 90 %", "10 % – 15 %", "reduce by ≥ 5 %" (pages, report and XLSX)."""
    def num(x: float | None) -> str:
        return goal_value_text(ind, t, x, money_in_words=money_in_words)
    if t.comparator == "range":
        goal = f"{num(t.value)} – {num(t.value_high if t.value_high is not None else t.value)}"
    else:
        goal = f"{comparator_sign(t.comparator)} {num(t.value)}"
    return _("reduce by {goal}", goal=goal) if t.on == "reduction_pct" else goal


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
    """The target as the report and its XLSX write it: the dashboard's words (`goal_text`), money
    in full đồng ("≥ 3.250.000.000 đ"), as a printed document writes it."""
    return goal_text(indicator, tr.target, money_in_words=False)


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
env.filters["status_word"] = status_word
