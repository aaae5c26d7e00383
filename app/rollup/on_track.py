"""On track: how a year-end target is read before the year ends. One rule, in one place.

The program's targets are for the whole year ("≥ 20 houses", "≥ 10 tỷ đồng", "≥ 95 % of
villages"). Judging them "met" or "not met" against a part-year figure says "not met" of
almost everything in April, which tells a leader nothing. So, before the year is over:

- a running total (a *flow*: houses, money, supervisions, critiques) is compared with the
  target pro-rated to the months its figure covers: target × months / 12, or, where a task
  driving the indicator sets a due month D, target × months up to D / D (all of it by D);
  at or above that pace it is *on track* ("Đúng tiến độ"), below it *behind* ("Chậm tiến độ");
- a standing figure (a *stock* such as cadres trained, or a share of units) is compared as it
  stands with the full target: below it, *behind*;
- a ceiling ("≤ n cases") that holds so far is *on track*; a running total already above it
  has failed for good (it only grows): *not met*;
- a reduction against last year ("reduce child marriage 10–15 %") is already measured against
  the pro-rated baseline by the roll-up engine: holding → on track, else behind;
- "Met" ("Đạt") is said of a target already reached (a floor: it cannot be undone by adding
  months), and "Met"/"Not met" of every target once the year is over (its figure runs to
  December and December has ended).

Pure functions of exact numbers (`Fraction`), no database: the dashboard, scorecard, drill-down,
monthly report and exports call `verdict` (one figure) or `combine` (many units, each judged
by `verdict`).
"""
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from app.program.periods import PeriodRange

MET, NOT_MET, ON_TRACK, BEHIND, NO_DATA = "met", "not_met", "on_track", "behind", "no_data"
VERDICTS = (MET, ON_TRACK, BEHIND, NOT_MET, NO_DATA)
# Worst first: an indicator shows the worst verdict of its targets.
SEVERITY = {NOT_MET: 0, BEHIND: 1, NO_DATA: 2, ON_TRACK: 3, MET: 4}

FLOW, STOCK, PRORATED = "flow", "stock", "prorated"
FLOORS = (">=", ">", "=", "range")
CEILINGS = ("<=", "<")


@dataclass(frozen=True)
class Pace:
    """Where in the year a figure stands: the share of a year-end flow target expected by the
    end of the period, and whether the year is over (then only met / not met are said)."""

    share: Fraction
    final: bool


def pace(period: PeriodRange, as_of: date, due_month: int | None = None) -> Pace:
    """The pace for a figure over `period`, read on `as_of`.

    share = (months of the period up to D) / D with D the due month (12 when no task sets
    one): Jan–Apr → 4/12; Jan–Apr with a task due in June → 4/6; Jan–Aug due June → 1;
    Q2 (Apr–Jun) → 3/12. final: the period runs to December and `as_of` is past 31/12.
    """
    d = due_month if due_month and 1 <= due_month <= 12 else 12
    covered = min(period.last, d) - min(period.first - 1, d)
    final = period.last == 12 and as_of > date(period.year, 12, 31)
    return Pace(share=Fraction(max(covered, 0), d), final=final)


def _holds(actual: Fraction, comparator: str, threshold: Fraction) -> bool:
    if comparator in (">=", "range"):  # a range's floor; above its ceiling still holds
        return actual >= threshold
    if comparator == ">":
        return actual > threshold
    if comparator == "<=":
        return actual <= threshold
    if comparator == "<":
        return actual < threshold
    if comparator == "=":
        return actual == threshold
    raise ValueError(f"unknown comparator {comparator!r}")


def verdict(actual: Fraction | None, comparator: str, target: Fraction, kind: str, p: Pace) -> str:
    """One figure against one year-end target.

    actual: what the target compares (a count, an amount, a percentage), None = no figure.
    kind: FLOW (a running total: pro-rate the target), STOCK (as it stands), PRORATED (the
    actual is already measured against a pro-rated base: a reduction on last year).
    """
    if actual is None:
        return NO_DATA
    holds = _holds(actual, comparator, target)
    if p.final:
        return MET if holds else NOT_MET
    if kind == PRORATED:
        return ON_TRACK if holds else BEHIND
    if comparator in CEILINGS:
        if holds:
            return ON_TRACK
        return NOT_MET if kind == FLOW else BEHIND
    if holds:
        return MET
    if kind == FLOW and _holds(actual, comparator, target * p.share):
        return ON_TRACK
    return BEHIND


def combine(verdicts: list[str], final: bool) -> str:
    """Many units each against a target ("each district ≥ 3"): met when all are; once the
    year is over, not met otherwise; before, on track when every unit is met or on track,
    behind when any is behind (a unit without figures is behind: nothing done yet)."""
    if not verdicts or all(v == NO_DATA for v in verdicts):
        return NO_DATA
    if all(v == MET for v in verdicts):
        return MET
    if final:
        return NOT_MET
    if any(v == NOT_MET for v in verdicts):
        return NOT_MET
    if all(v in (MET, ON_TRACK) for v in verdicts):
        return ON_TRACK
    return BEHIND


def worst(verdicts: list[str]) -> str:
    """An indicator's verdict: the worst of its targets' (no targets → no data)."""
    return min(verdicts, key=SEVERITY.__getitem__) if verdicts else NO_DATA
