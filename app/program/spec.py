"""What a program is, as plain values: `ProgramSpec` (indicators, targets, tasks named by code),
the words its fields may take, and `ProgramError`, the one shape of a thing wrong with it.

The administration pages, the API and the program file all work on a `ProgramSpec`; `spec_of`
reads one from the database and `for_new_year` turns last year's into this year's. What may
be written in one is checked in `app.program.checks`; the steps of a program's life (draft,
copy, publish) are `app.program.lifecycle`.
"""
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.core.i18n import _
from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.units.models import Unit, UnitLevel
from app.units.time import overlaps_clause

DRAFT, PUBLISHED = "draft", "published"
SCOPES = ("total", "own", "each")
COMPARATORS = (">=", ">", "<=", "<", "=", "range")
TIME_ROLLUPS = ("flow", "stock")
SHARE_FILTERS = ("all", "new_rural")
BASES = ("own", "subtree")
ONS = ("value", "reduction_pct")
# What a stored figure means: refused once figures exist for the indicator.
MEANING = ("measure", "entry_depths", "time_rollup")
YEAR_MIN, YEAR_MAX = 2000, 2100
CODE_RE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
TEXT_MAX = 5000


class ProgramError(Exception):
    """One thing wrong with a program or an edit.

    `message` is English with {placeholders}; `text()` is in the user's language. `loc` says
    where (API `errors[].loc`), `where` (an English msgid with the same params) says it for people.
    `status` is the HTTP answer when this error alone is raised: 422 bad value, 409 a conflict
    with the program's state (figures exist, already published, year taken), 404 not found.
    """

    def __init__(self, kind: str, message: str, *, loc: tuple[Any, ...] = (), where: str = "",
                 status: int = 422, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.code, self.message, self.loc, self.where, self.status, self.params = (
            kind, message, loc, where, status, params)

    # A program file's sheet and row, when the error comes from one (app.program.program_file).
    sheet: str | None = None
    row: int | None = None

    def _line(self, tr: Any) -> str:
        if self.sheet is None:
            return ""
        if self.row is None:
            return tr("Sheet {sheet}", sheet=self.sheet)
        return tr("Sheet {sheet}, row {row}", sheet=self.sheet, row=self.row)

    def _say(self, tr: Any) -> str:
        place = " — ".join(p for p in (self._line(tr), tr(self.where, **self.params) if self.where else "") if p)
        what = tr(self.message, **self.params)
        return f"{place}: {what}" if place else what

    def text(self) -> str:
        return self._say(_)

    def english(self) -> str:
        return self._say(lambda m, **p: m.format(**p) if p else m)

    def as_problem_item(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.english(), "type": self.code}


class ProgramInvalid(Exception):
    """Several errors at once (publishing, a file, one target's fields): nothing was changed."""

    def __init__(self, errors: list[ProgramError]) -> None:
        super().__init__("; ".join(e.english() for e in errors))
        self.errors = errors


# --------------------------------------------------------------------------------------------
# The plain description of a program
# --------------------------------------------------------------------------------------------

@dataclass
class IndicatorSpec:
    code: str
    number: int
    name: str
    short_name: str
    measure: str
    entry_depths: str  # "0,1,2"
    time_rollup: str
    share_filter: str = "all"
    value_label: str | None = None
    numerator_label: str | None = None
    denominator_label: str | None = None
    baseline: int | None = None
    baseline_year: int | None = None
    baseline_source: str | None = None
    description: str | None = None


@dataclass
class TargetSpec:
    indicator: str  # indicator code
    scope: str
    comparator: str
    value: float
    value_high: float | None = None
    unit: str | None = None  # unit code (None: the program's root)
    depth: int | None = None
    basis: str = "own"
    on: str = "value"
    label: str | None = None


@dataclass
class TaskSpec:
    quarter: int
    number: int
    title: str
    text: str
    parent: int | None = None  # number of the parent task in the same quarter (sub-items)
    due_month: int | None = None
    due_note: str | None = None
    lead_unit: str | None = None  # unit code (None: the program's root)
    lead_department: str | None = None
    indicators: list[str] = field(default_factory=list)  # codes of this program's indicators
    foreign: list[str] = field(default_factory=list)  # linked indicators of another program

    @property
    def label(self) -> str:
        return f"({self.parent}.{self.number})" if self.parent is not None else f"({self.number})"


@dataclass
class ProgramSpec:
    year: int
    title: str
    theme: str
    motto: str
    source: str | None = None
    indicators: list[IndicatorSpec] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)


@dataclass
class Tree:
    """The units a program may name: its root's subtree, by code, with their depths."""

    root: Unit
    depths: dict[str, int]  # unit code → depth
    levels: dict[int, str]  # depth → level name
    ids: dict[str, int] = field(default_factory=dict)  # unit code → id (codes are reused over the years)

    def level_name(self, depth: int) -> str:
        return self.levels.get(depth, str(depth))


def tree_of(session: Session, root: Unit, year: int | None = None) -> Tree:
    """The root's subtree; with `year`, the units in force on some day of that year."""
    q = select(Unit.code, Unit.depth, Unit.id).where(col(Unit.path).startswith(root.path))
    if year is not None:
        q = q.where(overlaps_clause(date(year, 1, 1), date(year, 12, 31)))
    rows = session.exec(q.order_by(Unit.valid_from.is_(None), Unit.valid_from, Unit.id)).all()
    levels = dict(session.exec(select(UnitLevel.depth, UnitLevel.name)).all())
    return Tree(root, {c: d for c, d, _i in rows}, levels, {c: i for c, _d, i in rows})


def spec_of(session: Session, program: Program) -> ProgramSpec:
    """The program as plain values: its indicators, targets and the root plan's tasks."""
    indicators = list(session.exec(select(Indicator).where(Indicator.program_id == program.id)
                                   .order_by(Indicator.number, Indicator.id)).all())
    by_id = {i.id: i for i in indicators}
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    targets = list(session.exec(select(Target).where(col(Target.indicator_id).in_(list(by_id) or [0]))
                                .order_by(Target.indicator_id, Target.id)).all())
    tasks = list(session.exec(select(Task).where(Task.program_id == program.id,
                                                 Task.plan_unit_id == program.root_unit_id)
                              .order_by(Task.quarter, Task.parent_id.is_not(None), Task.number,
                                        Task.id)).all())
    task_ids = {t.id: t for t in tasks}
    links: dict[int, list[tuple[Indicator, int]]] = {}
    if tasks:
        for link, ind, year in session.exec(
                select(TaskIndicator, Indicator, Program.year)
                .join(Indicator, Indicator.id == TaskIndicator.indicator_id)
                .join(Program, Program.id == Indicator.program_id)
                .where(col(TaskIndicator.task_id).in_(list(task_ids)))
                .order_by(Indicator.number, Indicator.code)).all():
            links.setdefault(link.task_id, []).append((ind, year))
    ind_order = {i.id: n for n, i in enumerate(indicators)}
    return ProgramSpec(
        year=program.year, title=program.title, theme=program.theme, motto=program.motto,
        source=program.source,
        indicators=[IndicatorSpec(**{f.name: getattr(i, f.name) for f in fields(IndicatorSpec)})
                    for i in indicators],
        targets=[TargetSpec(indicator=by_id[t.indicator_id].code, scope=t.scope,
                            comparator=t.comparator, value=t.value, value_high=t.value_high,
                            unit=(codes.get(t.unit_id) if t.unit_id not in (None, program.root_unit_id)
                                  else None),
                            depth=t.depth, basis=t.basis, on=t.on, label=t.label)
                 for t in sorted(targets, key=lambda t: (ind_order[t.indicator_id], t.id))],
        tasks=[TaskSpec(quarter=t.quarter, number=t.number, title=t.title, text=t.text,
                        parent=task_ids[t.parent_id].number if t.parent_id in task_ids else None,
                        due_month=t.due_month, due_note=t.due_note,
                        lead_unit=(codes.get(t.lead_unit_id) if t.lead_unit_id != program.root_unit_id
                                   else None),
                        lead_department=t.lead_department,
                        indicators=[i.code for i, _y in links.get(t.id, []) if i.program_id == program.id],
                        foreign=[f"{i.code} ({y})" for i, y in links.get(t.id, [])
                                 if i.program_id != program.id])
               for t in tasks])


def _renamed(text: str | None, old: int, new: int) -> str | None:
    """"năm 2023" → "năm 2026" and "so với năm 2022" → "so với năm 2025": the program's year and
    the year before it, where the words say "năm"; other years ("Tết Quý Mão 2023") stay."""
    if text is None:
        return None
    years = {str(old): str(new), str(old - 1): str(new - 1)}
    return re.sub(rf"(?i)(năm\s+)({old}|{old - 1})\b", lambda m: m.group(1) + years[m.group(2)], text)


def for_new_year(spec: ProgramSpec, year: int, *, with_tasks: bool) -> ProgramSpec:
    """Last year's program as the start of `year`'s draft: words naming the old year renamed,
    baselines left for the province to confirm (last year's figure is offered), tasks optional."""
    old = spec.year
    return ProgramSpec(
        year=year, title=_renamed(spec.title, old, year) or "", theme=_renamed(spec.theme, old, year) or "",
        motto=spec.motto, source=_renamed(spec.source, old, year),
        indicators=[replace(i, name=_renamed(i.name, old, year) or "", baseline=None,
                            baseline_year=(year - 1) if i.baseline is not None else None,
                            baseline_source=None) for i in spec.indicators],
        targets=[replace(t, label=_renamed(t.label, old, year)) for t in spec.targets],
        tasks=[replace(t, title=_renamed(t.title, old, year) or "", text=_renamed(t.text, old, year) or "",
                       indicators=list(t.indicators), foreign=[]) for t in spec.tasks] if with_tasks else [])


