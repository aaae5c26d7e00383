"""The roll-up's pure rules: which units' figures count, effective monthly figures (flows sum
their months, stocks carry their latest entry forward), cumulative spans, the figure shown.

No database access here; `app.rollup.service` says the rules in words.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.program import rules as program_rules
from app.program.models import Indicator
from app.program.periods import PeriodRange
from app.rollup.types import Figure
from app.units.time import NEW_RURAL

CHUNK = 5000  # ids per IN (…) list, rows per insert
SPANS = [(a, b) for a in range(1, 13) for b in range(a, 13)]  # every [first..last] of a year


class IndicatorFacts:
    """Plain copy of an Indicator's fields read in hot loops (ORM attribute access is slow)."""

    __slots__ = ("obj", "id", "code", "measure", "time_rollup", "share_filter", "baseline",
                 "entry_depths", "depths", "maxd")

    def __init__(self, ind: Indicator) -> None:
        self.obj = ind
        for name in ("id", "code", "measure", "time_rollup", "share_filter", "baseline", "entry_depths"):
            setattr(self, name, getattr(ind, name))
        self.depths = frozenset(program_rules.entry_depths(ind))
        self.maxd = max(self.depths) if self.depths else -1


_DEPTHS: dict[tuple[int | None, str], frozenset[int]] = {}


def entry_depths(ind: Indicator) -> frozenset[int]:
    """`program_rules.entry_depths`, parsed once per indicator."""
    if type(ind) is IndicatorFacts:
        return ind.depths
    key = (ind.id, ind.entry_depths)
    depths = _DEPTHS.get(key)
    if depths is None:
        depths = _DEPTHS[key] = frozenset(program_rules.entry_depths(ind))
    return depths


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def max_depth(ind: Indicator) -> int:
    if type(ind) is IndicatorFacts:
        return ind.maxd
    depths = entry_depths(ind)
    return max(depths) if depths else -1


def owners_from(path: str, depth: int, ind: Indicator) -> list[int]:
    """Units holding cells that a unit's figure feeds: itself and its ancestors above the
    indicator's deepest entry level. A parent may sit more than one level up (a commune under
    the province in the two-tier tree): every ancestor of an entering unit is above it."""
    ids = path_ids(path)
    maxd = max_depth(ind)
    if depth < maxd:
        return ids
    if depth == maxd:
        return ids[:-1]
    top = min(depth, maxd - 1)  # deeper than every entry level (figures that feed no cell)
    return ids[:top + 1] if top >= 0 else []


def triple(snap: dict[str, Any] | None) -> tuple[int, int, int] | None:
    if snap is None:
        return None
    v, n, d = snap.get("value"), snap.get("numerator"), snap.get("denominator")
    if v is None and n is None and d is None:
        return None
    return (v or 0, n or 0, d or 0)


def monthly(rows: dict[str, tuple[int, int, int]], ind: Indicator,
             year: int) -> dict[str, tuple[int, int, int]]:
    """Effective figure per month of the year: a flow's month as entered; a stock carried
    forward from its latest entry."""
    if ind.time_rollup == "flow":
        return dict(rows)
    out: dict[str, tuple[int, int, int]] = {}
    last = None
    for m in range(1, 13):
        per = f"{year}-{m:02d}"
        if per in rows:
            last = rows[per]
        if last is not None:
            out[per] = last
    return out


def cumulative(monthly: dict[str, tuple[int, int, int]], year: int
                ) -> dict[str, tuple[int, int, int, int]]:
    """Flow figures summed from January: month → (Σvalue, Σnum, Σden, months entered), from the
    first month entered to December."""
    out: dict[str, tuple[int, int, int, int]] = {}
    acc = None
    for m in range(1, 13):
        per = f"{year}-{m:02d}"
        eff = monthly.get(per)
        if eff is not None:
            acc = (eff[0], eff[1], eff[2], 1) if acc is None else (
                acc[0] + eff[0], acc[1] + eff[1], acc[2] + eff[2], acc[3] + 1)
        if acc is not None:
            out[per] = acc
    return out


@dataclass
class Sums:
    """Accumulated effective figures of one unit (or many) for one indicator over a period."""

    value: int = 0
    num: int = 0
    den: int = 0
    reported: int = 0  # units with an effective figure (flows: > 0 when anything was entered)


def effective(rows: Sequence[tuple], indicator: Indicator, period: PeriodRange) -> tuple | None:
    """(value, num, den) of one unit's rows (period, value, num, den) over the period."""
    if indicator.time_rollup == "flow":
        inside = [r for r in rows if period.start <= r[0] <= period.end]
        if not inside:
            return None
        return (sum(r[1] or 0 for r in inside), sum(r[2] or 0 for r in inside),
                sum(r[3] or 0 for r in inside))
    upto = [r for r in rows if f"{period.year}-01" <= r[0] <= period.end]
    if not upto:
        return None
    last = max(upto, key=lambda r: r[0])
    return (last[1] or 0, last[2] or 0, last[3] or 0)


def figure_of(indicator: Indicator, acc: Sums | None, expected: int | None = None) -> Figure:
    measure = indicator.measure
    if measure == "yes_no":
        yes = acc.value if acc else 0
        reported = acc.reported if acc else 0
        exp = expected if expected is not None else reported
        value = (yes / exp if exp else None) if reported else None
        return Figure(value=value, numerator=yes, denominator=exp, reported=reported, expected=exp)
    if acc is None or acc.reported == 0:
        return Figure(value=None)
    reported = acc.reported if indicator.time_rollup == "stock" else None
    if measure == "ratio":
        value = acc.num / acc.den if acc.den else None
        return Figure(value=value, numerator=acc.num, denominator=acc.den, reported=reported)
    return Figure(value=acc.value, reported=reported)


def counts_toward(indicator: Indicator, unit_depth: int, new_rural: str | None) -> bool:
    """Whether a unit's figure belongs in the indicator's subtree figure."""
    if unit_depth not in entry_depths(indicator):
        return False
    if indicator.measure == "yes_no" and indicator.share_filter == "new_rural":
        return new_rural in NEW_RURAL
    return True
