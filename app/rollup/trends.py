"""Trends: each indicator's figure month by month over the year, and last year's beside it,
drawn on the server as small SVG charts (no chart library, no script).

The series are read from the kept tables, never recomputed from the tree: a unit that has
units entering below it reads its `rollup_cell` rows (the subtree's effective figure of each
month: a flow's month, a stock's carried-forward latest), one query for every indicator of the
year; a unit at an indicator's deepest entry level holds no cells and reads its own
`data_value` rows (a stock carried forward here). A flow is drawn as its running total from
January (what a year-end target is compared with), a stock, ratio or share as it stands.
Last year's line is drawn where last year's program has an indicator of the same code and the
unit existed then (same unit id: figures belong to the unit in force in their period).

The chart is readable without colour: this year is a solid line with round markers, last year
a dashed line with square markers, the target a dotted line, each named in a text legend; the
figures are also given in a table for screen readers.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import select as sa_select
from sqlmodel import Session

from app.program.models import Indicator, Program
from app.rollup.models import RollupCell
from app.units.models import Unit
from app.values.models import DataValue

PERCENT = ("ratio", "yes_no")


@dataclass
class Series:
    indicator: Indicator
    this_year: list[float | None] = field(default_factory=lambda: [None] * 12)
    last_year: list[float | None] | None = None
    target: float | None = None  # the year's target line, same unit as the figures

    @property
    def has_data(self) -> bool:
        return any(v is not None for v in self.this_year)


def _value(ind: Indicator, v: int, num: int, den: int, expected: int | None) -> float | None:
    if ind.measure == "ratio":
        return num * 100 / den if den else None
    if ind.measure == "yes_no":
        return v * 100 / expected if expected else None
    return float(v)


def _shape(ind: Indicator, months: dict[int, tuple[int, int, int]], expected: int | None,
           upto: int, carry: bool) -> list[float | None]:
    out: list[float | None] = [None] * 12
    running, last = 0, None
    for m in range(1, upto + 1):
        row = months.get(m)
        if ind.time_rollup == "flow":
            if row is not None:
                running += row[0]
                last = running
            out[m - 1] = float(last) if last is not None else None
        else:
            if row is not None:
                last = row
            elif not carry:
                continue
            out[m - 1] = _value(ind, *last, expected) if last is not None else None
    return out


def _rows(session: Session, unit_id: int, ind_ids: list[int], year: int, own: bool
          ) -> dict[int, dict[int, tuple[int, int, int]]]:
    by: dict[int, dict[int, tuple[int, int, int]]] = defaultdict(dict)
    if not ind_ids:
        return by
    if own:
        q = sa_select(DataValue.indicator_id, DataValue.period, DataValue.value, DataValue.numerator,
                      DataValue.denominator).where(
            DataValue.unit_id == unit_id, DataValue.indicator_id.in_(ind_ids),
            DataValue.period >= f"{year}-01", DataValue.period <= f"{year}-12")
    else:
        q = sa_select(RollupCell.indicator_id, RollupCell.period, RollupCell.value_sum,
                      RollupCell.num_sum, RollupCell.den_sum).where(
            RollupCell.unit_id == unit_id, RollupCell.indicator_id.in_(ind_ids),
            RollupCell.period >= f"{year}-01", RollupCell.period <= f"{year}-12")
    for iid, per, v, n, d in session.execute(q):
        by[iid][int(per[5:7])] = (int(v or 0), int(n or 0), int(d or 0))
    return by


def series_for(session: Session, unit: Unit, program: Program, indicators: list[Indicator],
               upto: int, expected: dict[int, int | None] | None = None,
               targets: dict[int, float | None] | None = None) -> dict[int, Series]:
    """indicator id → its series for `unit`, this year up to month `upto` and last year whole.

    expected: indicator id → units that should report (share-of-units denominators);
    targets: indicator id → the value of the target line."""
    expected, targets = expected or {}, targets or {}
    ids = [i.id for i in indicators]
    cells = _rows(session, unit.id, ids, program.year, own=False)
    own = _rows(session, unit.id, [i for i in ids if i not in cells], program.year, own=True)
    out = {i.id: Series(i, target=targets.get(i.id)) for i in indicators}
    for ind in indicators:
        rows = cells.get(ind.id) or own.get(ind.id) or {}
        out[ind.id].this_year = _shape(ind, rows, expected.get(ind.id), upto, carry=True)
    prev = session.execute(sa_select(Program).where(Program.year == program.year - 1)).scalar_one_or_none()
    if prev is not None:
        codes = {i.code: i for i in indicators}
        prev_inds = {i.id: codes[i.code] for i in session.execute(
            sa_select(Indicator).where(Indicator.program_id == prev.id)).scalars() if i.code in codes}
        pcells = _rows(session, unit.id, list(prev_inds), prev.year, own=False)
        pown = _rows(session, unit.id, [i for i in prev_inds if i not in pcells], prev.year, own=True)
        for pid, ind in prev_inds.items():
            rows = pcells.get(pid) or pown.get(pid)
            if rows:
                out[ind.id].last_year = _shape(ind, rows, expected.get(ind.id), 12, carry=True)
    return out


# --- drawing ----------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def svg(series: Series, width: int, height: int, labels: dict[str, str], axis: bool = False) -> Markup:
    """An SVG line chart of the series. labels: this_year, last_year, target, title."""
    values = [v for v in series.this_year if v is not None]
    values += [v for v in (series.last_year or []) if v is not None]
    if series.target is not None:
        values.append(series.target)
    top = max(values) if values else 1.0
    top = top if top > 0 else 1.0
    pad_l, pad_r, pad_t, pad_b = (34 if axis else 2), 4, 4, (16 if axis else 2)
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(m: int) -> float:
        return pad_l + w * m / 11

    def y(v: float) -> float:
        return pad_t + h - h * v / (top * 1.05)

    parts = [f'<svg class="trend" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(labels["title"])}" focusable="false">']
    if axis:
        for frac in (0, .5, 1):
            yy = y(top * frac)
            parts.append(f'<line class="grid" x1="{pad_l}" x2="{width - pad_r}" y1="{_fmt(yy)}" y2="{_fmt(yy)}"/>'
                         f'<text class="ax" x="{pad_l - 3}" y="{_fmt(yy + 3)}" text-anchor="end">'
                         f'{escape(labels.get("tick", "{v}").format(v=_compact(top * frac)))}</text>')
        for m in range(12):
            parts.append(f'<text class="ax" x="{_fmt(x(m))}" y="{height - 3}" text-anchor="middle">{m + 1}</text>')
    if series.target is not None:
        ty = _fmt(y(series.target))
        parts.append(f'<line class="target" x1="{pad_l}" x2="{width - pad_r}" y1="{ty}" y2="{ty}"/>')
        if axis and labels.get("target"):
            parts.append(f'<text class="tl" x="{width - pad_r}" y="{_fmt(y(series.target) - 3)}" '
                         f'text-anchor="end">{escape(labels["target"])}</text>')
    for name, data, marker in (("last", series.last_year, "square"), ("this", series.this_year, "dot")):
        if not data:
            continue
        pts = [(x(m), y(v)) for m, v in enumerate(data) if v is not None]
        if not pts:
            continue
        parts.append(f'<polyline class="{name}" points="{" ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in pts)}"/>')
        if axis or name == "this":
            r = 2.5 if axis else 1.6
            for a, b in pts:
                if marker == "dot":
                    parts.append(f'<circle class="{name}" cx="{_fmt(a)}" cy="{_fmt(b)}" r="{r}"/>')
                else:
                    parts.append(f'<rect class="{name}" x="{_fmt(a - r)}" y="{_fmt(b - r)}" width="{2 * r}" height="{2 * r}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - SVG of our own numbers and class names


def _compact(v: float) -> str:
    """Axis ticks: 10 000 000 000 → "10 tỷ", 2 500 000 → "2,5 tr", 95.0 → "95"."""
    for size, unit in ((10**9, " tỷ"), (10**6, " tr"), (10**3, " N")):
        if abs(v) >= size:
            return f"{v / size:.1f}".rstrip("0").rstrip(".").replace(".", ",") + unit
    return f"{v:.1f}".rstrip("0").rstrip(".").replace(".", ",")
