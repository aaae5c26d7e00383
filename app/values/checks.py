"""Warnings on a figure that is allowed but looks like a slip: they never refuse a save.

A stock (households, population, cadres: the latest month stands) moves little from one month
to the next, so a figure that moves more than `MOVE_SHARE` against last month (52 households
entered against 71) is questioned; so is a ratio whose first number comes within
`NEAR_SHARE` of its total without reaching it (98 of 100 households: often 100 mistyped).
Flows (money raised, cases, meetings) vary by nature and are not compared. The figure is saved
all the same; the user may explain it in a comment, which is kept with the figure and shows in
its history (the audit row's snapshot carries the comment).
"""
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.core.i18n import _, fmt_number, fmt_percent
from app.program import rules
from app.program.models import Indicator

MOVE_SHARE = Fraction(1, 5)  # 20 %
NEAR_SHARE = Fraction(95, 100)  # 95 % of the total, not all of it
# Below this total a single unit is a large share: 9 of 10 is not "near the limit".
NEAR_MIN_TOTAL = 20


@dataclass(frozen=True)
class Warning:
    code: str  # moved | near_total
    message: str  # in the user's language


def _moved(name: str, before: int | None, now: int | None) -> Warning | None:
    if before is None or now is None or before == 0:
        return None
    if abs(Fraction(now - before, before)) <= MOVE_SHARE:
        return None
    return Warning("moved", _("{what}: {now} against {before} last month ({change}). Check the figure; "
                              "if it is right, say why in the comment.", what=name,
                              now=fmt_number(now), before=fmt_number(before),
                              change=("+" if now > before else "−") + fmt_percent(abs(now - before) / before)))


def figure_warnings(indicator: Indicator, figure: dict[str, Any] | None,
                    last_month: dict[str, Any] | None) -> list[Warning]:
    """The warnings for a figure (`value`/`numerator`/`denominator`) against last month's."""
    if not figure:
        return []
    found: list[Warning] = []
    if indicator.measure == "ratio":
        num, den = figure.get("numerator"), figure.get("denominator")
        if num is not None and den is not None and den >= NEAR_MIN_TOTAL \
                and NEAR_SHARE * den <= num < den:
            found.append(Warning("near_total", _(
                "{num} of {den} is close to all of them. If it is all of them, enter {den}.",
                num=fmt_number(num), den=fmt_number(den))))
    if rules.is_flow(indicator) or indicator.measure == "yes_no" or not last_month:
        return found
    if indicator.measure == "ratio":
        parts = (("denominator", indicator.denominator_label or _("Total")),
                 ("numerator", indicator.numerator_label or _("Achieved")))
    else:
        parts = (("value", indicator.short_name),)
    for key, name in parts:
        warning = _moved(name, last_month.get(key), figure.get(key))
        if warning is not None:
            found.append(warning)
    return found
