"""A new year's program without code: copy a year into a draft, edit it, check it, publish it.

Why a draft: the program in force is read by entry, roll-up, reports and the API the moment
it exists, so a half-edited program would show wrong targets to every unit. A new program is a
draft (`Program.status`), which every "program in force" look-up ignores, until `publish`
finds no error in it.

One description, three doors. The administration pages, the API and the program file all work
on a `ProgramSpec` (plain values, units and indicators named by code): `spec_of` reads one from
the database, `write_spec` writes one into an empty draft, `problems` checks one and lists
*every* error, so the province fixes them in one pass and a file import changes nothing when
one line is wrong. Copying a year is `spec_of(previous)`, renamed to the new year, written.

Once units have entered figures for an indicator, what those figures mean (measure, entry
levels, flow/stock) is fixed: changing it would silently re-read stored numbers. Targets and
baselines stay editable; every edit is audited (`audit_log`, entities program / indicator /
target / program_task), and on a published program the kept roll-up (cells, unit counts,
'each unit' counts) is rebuilt in the same transaction, so a committed target and the
dashboard's judgement never disagree.

Only the province's administrators (an admin signed in at the root unit, never a token) make
and change programs. Services never commit: the caller owns the transaction.
"""
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.deps import Principal
from app.core.i18n import _
from app.program import rules
from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.program.periods import quarter_of
from app.units.models import Unit, UnitLevel
from app.values.models import AuditLog, DataValue

DRAFT, PUBLISHED = "draft", "published"
SCOPES = ("total", "own", "each")
COMPARATORS = (">=", ">", "<=", "<", "=", "range")
TIME_ROLLUPS = ("flow", "stock")
SHARE_FILTERS = ("all", "new_rural")
BASES = ("own", "subtree")
ONS = ("value", "reduction_pct")
PERCENT_MEASURES = ("ratio", "yes_no")
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
    from datetime import date

    from app.units.time import overlaps_clause

    q = select(Unit.code, Unit.depth, Unit.id).where(col(Unit.path).startswith(root.path))
    if year is not None:
        q = q.where(overlaps_clause(date(year, 1, 1), date(year, 12, 31)))
    rows = session.exec(q.order_by(Unit.valid_from.is_(None), Unit.valid_from, Unit.id)).all()
    levels = dict(session.exec(select(UnitLevel.depth, UnitLevel.name)).all())
    return Tree(root, {c: d for c, d, _i in rows}, levels, {c: i for c, _d, i in rows})


def adapt_to_tree(spec: ProgramSpec, tree: Tree) -> ProgramSpec:
    """A program copied onto a tree that lacks some of its levels (the two-tier tree from
    01/07/2025 has no districts): what a missing level entered is entered by the next level below
    that the tree has, its "each unit of a level" targets go to that level (a commune's targets
    where the district's were), and targets or task leads naming units outside the tree fall back
    to the whole tree / the root. A tree with every level changes nothing."""
    present = sorted(set(tree.depths.values()) | {tree.root.depth})

    def moved(d: int) -> int:
        return next((x for x in present if x >= d), present[-1])

    indicators = []
    for ind in spec.indicators:
        depths = parse_depths(ind.entry_depths) or set()
        indicators.append(replace(ind, entry_depths=depths_text({moved(d) for d in depths})) if depths else ind)
    targets = [replace(t, depth=moved(t.depth) if t.depth is not None else None,
                       unit=t.unit if t.unit is None or t.unit in tree.depths else None)
               for t in spec.targets]
    # Two targets landing on the same level (each district + each commune): the deeper one stays.
    seen: set[tuple] = set()
    kept = []
    for t in reversed(targets):
        key = (t.indicator, t.scope, t.depth, t.unit, t.on, t.basis)
        if t.scope == "each" and key in seen:
            continue
        seen.add(key)
        kept.append(t)
    tasks = [replace(t, lead_unit=t.lead_unit if t.lead_unit is None or t.lead_unit in tree.depths else None)
             for t in spec.tasks]
    return replace(spec, indicators=indicators, targets=list(reversed(kept)), tasks=tasks)


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


# --------------------------------------------------------------------------------------------
# Checks: every error of a program, or of one indicator / target / task
# --------------------------------------------------------------------------------------------

def _err(kind: str, message: str, loc: tuple, where: str = "", **params: Any) -> ProgramError:
    return ProgramError(kind, message, loc=loc, where=where, **params)


def indicator_problems(ind: IndicatorSpec, tree: Tree, loc: tuple = (), *, entering_baseline: bool = False
                       ) -> list[ProgramError]:
    """An indicator's own errors. A baseline the province enters needs its source
    (`entering_baseline`); one already stored without a source is a demo figure, shown as such."""
    where, p = "Indicator {code}", {"code": ind.code}
    loc = loc or ("indicators", ind.code)
    out: list[ProgramError] = []
    if not CODE_RE.fullmatch(ind.code or ""):
        out.append(_err("bad_code", "The code may hold letters, digits, '.', '-' and '_' (at most 32).",
                        (*loc, "code"), where, **p))
    if not (ind.name or "").strip() or not (ind.short_name or "").strip():
        out.append(_err("name_missing", "Enter the indicator's name and short name.", (*loc, "name"), where, **p))
    if ind.measure not in rules.MEASURES:
        out.append(_err("bad_measure", "The measure must be ratio, yes_no, count or amount.",
                        (*loc, "measure"), where, **p))
    if ind.time_rollup not in TIME_ROLLUPS:
        out.append(_err("bad_time_rollup", "Choose flow (months add up) or stock (the latest month stands).",
                        (*loc, "time_rollup"), where, **p))
    depths = parse_depths(ind.entry_depths)
    if depths is None or not depths:
        out.append(_err("no_entry_levels", "Choose at least one level that enters the indicator.",
                        (*loc, "entry_depths"), where, **p))
    else:
        known = set(tree.depths.values())
        for d in sorted(depths - known):
            out.append(_err("unknown_level", "The tree has no level {depth}.", (*loc, "entry_depths"),
                            where, depth=d, **p))
    if ind.share_filter not in SHARE_FILTERS:
        out.append(_err("bad_share_filter", "Which units should report: all, or new_rural communes.",
                        (*loc, "share_filter"), where, **p))
    elif ind.share_filter == "new_rural" and ind.measure != "yes_no":
        out.append(_err("share_filter_not_yes_no", "Only a yes/no indicator counts a share of new-rural communes.",
                        (*loc, "share_filter"), where, **p))
    if ind.baseline is not None:
        if ind.baseline < 0:
            out.append(_err("baseline_negative", "The baseline cannot be negative.", (*loc, "baseline"), where, **p))
        if entering_baseline and not (ind.baseline_source or "").strip():
            out.append(_err("baseline_source_missing", "Say where the baseline comes from.",
                            (*loc, "baseline_source"), where, **p))
        if ind.baseline_year is None or not (YEAR_MIN <= ind.baseline_year <= YEAR_MAX):
            out.append(_err("baseline_year_missing", "Enter the year of the baseline.",
                            (*loc, "baseline_year"), where, **p))
    return out


def parse_depths(text: str | list[int] | None) -> set[int] | None:
    """"0,1,2" or [0, 1, 2] → {0, 1, 2}; None when it cannot be read."""
    if text is None:
        return None
    parts = text if isinstance(text, list) else [p for p in str(text).replace(" ", "").split(",") if p]
    try:
        depths = {int(p) for p in parts}
    except (TypeError, ValueError):
        return None
    return depths if all(0 <= d <= 9 for d in depths) else None


def depths_text(depths: set[int]) -> str:
    return ",".join(str(d) for d in sorted(depths))


def target_problems(t: TargetSpec, ind: IndicatorSpec | None, tree: Tree, loc: tuple,
                    number: int = 1) -> list[ProgramError]:
    where, p = "Target {n} of {code}", {"n": number, "code": t.indicator}
    out: list[ProgramError] = []
    if ind is None:
        return [_err("unknown_indicator", "There is no indicator {code} in this program.", (*loc, "indicator"),
                     where, **p)]
    depths = parse_depths(ind.entry_depths) or set()
    if t.scope not in SCOPES:
        out.append(_err("bad_scope", "The scope must be total, own or each.", (*loc, "scope"), where, **p))
    if t.comparator not in COMPARATORS:
        out.append(_err("bad_comparator", "The comparator must be >=, >, <=, <, = or range.",
                        (*loc, "comparator"), where, **p))
    if t.basis not in BASES:
        out.append(_err("bad_basis", "The basis must be own or subtree.", (*loc, "basis"), where, **p))
    if t.on not in ONS:
        out.append(_err("bad_on", "Compare the value, or the reduction against the baseline.", (*loc, "on"), where, **p))
    if t.value is None:
        out.append(_err("value_missing", "Enter the target's value.", (*loc, "value"), where, **p))
        return out
    if t.value < 0:
        out.append(_err("value_negative", "The target cannot be negative.", (*loc, "value"), where, **p))
    if t.comparator == "range":
        if t.value_high is None:
            out.append(_err("range_without_high", "A range needs an upper bound.", (*loc, "value_high"), where, **p))
        elif t.value_high < t.value:
            out.append(_err("range_reversed", "The upper bound is below the lower bound.",
                            (*loc, "value_high"), where, **p))
    elif t.value_high is not None:
        out.append(_err("high_without_range", "Only a range has an upper bound.", (*loc, "value_high"), where, **p))
    percent = t.on == "reduction_pct" or ind.measure in PERCENT_MEASURES
    if percent and t.on == "value" and (t.value > 100 or (t.value_high or 0) > 100):
        out.append(_err("percent_over_100", "A percentage target cannot exceed 100.", (*loc, "value"), where, **p))
    if t.on == "reduction_pct" and ind.baseline is None:
        out.append(_err("reduction_without_baseline",
                        "A reduction target needs the indicator's baseline: enter it with its source.",
                        (*loc, "on"), where, **p))
    if t.unit is not None and t.unit not in tree.depths:
        out.append(_err("unknown_unit", "No unit {unit} in the program's tree.", (*loc, "unit"), where,
                        unit=t.unit, **p))
    if t.scope == "each":
        if t.depth is None:
            out.append(_err("each_without_level", "Choose the level whose every unit must meet the target.",
                            (*loc, "depth"), where, **p))
        elif t.basis == "own" and t.depth not in depths:
            out.append(_err("level_does_not_enter",
                            "The level {level} does not enter this indicator, so its units have no figure.",
                            (*loc, "depth"), where, level=tree.level_name(t.depth), **p))
    elif t.scope == "own":
        unit_depth = tree.depths.get(t.unit) if t.unit is not None else tree.root.depth
        if unit_depth is not None and unit_depth not in depths:
            out.append(_err("level_does_not_enter",
                            "The level {level} does not enter this indicator, so its units have no figure.",
                            (*loc, "unit"), where, level=tree.level_name(unit_depth), **p))
    return out


def task_problems(t: TaskSpec, codes: set[str], tree: Tree, loc: tuple) -> list[ProgramError]:
    where, p = "Task {label} of quarter {quarter}", {"label": t.label, "quarter": t.quarter}
    out: list[ProgramError] = []
    if t.quarter not in (1, 2, 3, 4):
        out.append(_err("bad_quarter", "Choose the quarter (I to IV).", (*loc, "quarter"), where, **p))
    if t.number is None or t.number < 1:
        out.append(_err("bad_number", "The task's number must be 1 or more.", (*loc, "number"), where, **p))
    if not (t.title or "").strip():
        out.append(_err("title_missing", "Enter a short title.", (*loc, "title"), where, **p))
    elif len(t.title) > 300:
        out.append(_err("title_too_long", "The title is too long (at most {max} characters).", (*loc, "title"),
                        where, max=300, **p))
    if len(t.text or "") > TEXT_MAX:
        out.append(_err("text_too_long", "The text is too long (at most {max} characters).", (*loc, "text"),
                        where, max=TEXT_MAX, **p))
    if t.due_month is not None and (not 1 <= t.due_month <= 12):
        out.append(_err("bad_month", "The due month must be 1 to 12.", (*loc, "due_month"), where, **p))
    if t.lead_unit is not None and t.lead_unit not in tree.depths:
        out.append(_err("unknown_unit", "No unit {unit} in the program's tree.", (*loc, "lead_unit"), where,
                        unit=t.lead_unit, **p))
    for c in t.indicators:
        if c not in codes:
            out.append(_err("unknown_indicator", "There is no indicator {code} in this program.",
                            (*loc, "indicators"), where, code=c, **p))
    for c in t.foreign:
        out.append(_err("foreign_indicator", "It is linked to {indicator}, an indicator of another program.",
                        (*loc, "indicators"), where, indicator=c, **p))
    return out


def problems(spec: ProgramSpec, tree: Tree) -> list[ProgramError]:
    """Every error of the program, in reading order; empty when it may be published."""
    out: list[ProgramError] = []
    for name, value in (("title", spec.title), ("theme", spec.theme), ("motto", spec.motto)):
        if not (value or "").strip():
            out.append(_err(f"{name}_missing", {"title": "Enter the program's title.",
                                                "theme": "Enter the program's theme.",
                                                "motto": "Enter the program's motto."}[name], (name,)))
    if not spec.indicators:
        out.append(_err("no_indicators", "The program has no indicator.", ("indicators",)))
    seen: dict[str, int] = {}
    for n, ind in enumerate(spec.indicators):
        if ind.code in seen:
            out.append(_err("duplicate_code", "The code {code} is used by two indicators.",
                            ("indicators", n, "code"), code=ind.code))
        seen.setdefault(ind.code, n)
        out += indicator_problems(ind, tree, ("indicators", ind.code))
    by_code = {i.code: i for i in spec.indicators}
    counter: dict[str, int] = {}
    for n, t in enumerate(spec.targets):
        counter[t.indicator] = counter.get(t.indicator, 0) + 1
        out += target_problems(t, by_code.get(t.indicator), tree, ("targets", n), counter[t.indicator])
    numbers: set[tuple[int, int | None, int]] = set()
    tops = {(t.quarter, t.number) for t in spec.tasks if t.parent is None}
    for n, t in enumerate(spec.tasks):
        loc = ("tasks", n)
        key = (t.quarter, t.parent, t.number)
        if key in numbers:
            out.append(_err("duplicate_task", "Two tasks have the same number.", (*loc, "number"),
                            "Task {label} of quarter {quarter}", label=t.label, quarter=t.quarter))
        numbers.add(key)
        if t.parent is not None and (t.quarter, t.parent) not in tops:
            out.append(_err("unknown_parent", "Its parent task is not in the quarter.", (*loc, "parent"),
                            "Task {label} of quarter {quarter}", label=t.label, quarter=t.quarter))
        out += task_problems(t, set(by_code), tree, loc)
    return out


# --------------------------------------------------------------------------------------------
# Reading programs; who may change them
# --------------------------------------------------------------------------------------------

def program_by_year(session: Session, year: int) -> Program | None:
    """A year's program, draft or published."""
    return session.exec(select(Program).where(Program.year == year)).first()


def all_programs(session: Session) -> list[Program]:
    return list(session.exec(select(Program).order_by(col(Program.year).desc())).all())


def can_manage(principal: Principal) -> bool:
    """Programs belong to the province: an administrator signed in at the root unit."""
    return (principal.role == "admin" and principal.token is None and principal.unit.parent_id is None)


def _require(principal: Principal, program: Program | None = None) -> None:
    if not can_manage(principal) or (program is not None and program.root_unit_id != principal.unit.id):
        raise PermissionError("programs")


def _require_draft(program: Program) -> None:
    if program.status != DRAFT:
        raise ProgramError("published", "The {year} program is published: this change is only possible in a draft.",
                           status=409, year=program.year)


def has_figures(session: Session, indicator: Indicator) -> bool:
    return session.exec(select(DataValue.id).where(DataValue.indicator_id == indicator.id).limit(1)).first() \
        is not None


def _audit(session: Session, principal: Principal, via: str, entity: str, entity_id: int | None,
           action: str, old: Any, new: Any, **where: Any) -> None:
    from app.values.service import audit

    audit(session, principal, via, entity, entity_id, action, old, new, **where)


def _refresh_rollup(session: Session, program: Program, *scopes: str) -> None:
    """A published program's targets or indicators changed: rebuild the kept roll-up now, in
    the caller's transaction ('each unit' counts carry the targets' terms; unit counts follow
    which units should report). A target edit passes its scopes before and after: only 'each'
    targets have kept counts; whole-area and own-figure targets are judged when a page is read,
    so their edits need no rebuild (which reads every figure of every year)."""
    if scopes and "each" not in scopes:
        return
    if program.status == PUBLISHED:
        from app.rollup.service import rebuild

        session.flush()
        rebuild(session)


# --------------------------------------------------------------------------------------------
# Writing: drafts, copies, edits, publishing
# --------------------------------------------------------------------------------------------

def write_spec(session: Session, program: Program, spec: ProgramSpec, tree: Tree) -> None:
    """Write indicators, targets and tasks of `spec` into `program` (which has none yet).
    The spec must have passed `problems` for the parts it uses (codes must resolve)."""
    ids = tree.ids or dict(session.exec(select(Unit.code, Unit.id).where(col(Unit.code).in_(list(tree.depths)))).all())
    program.title, program.theme, program.motto, program.source = (
        spec.title, spec.theme, spec.motto, spec.source)
    session.add(program)
    by_code: dict[str, Indicator] = {}
    for i in spec.indicators:
        ind = Indicator(program_id=program.id, **{f.name: getattr(i, f.name) for f in fields(IndicatorSpec)})
        session.add(ind)
        by_code[i.code] = ind
    session.flush()
    for t in spec.targets:
        session.add(Target(indicator_id=by_code[t.indicator].id, scope=t.scope,
                           unit_id=ids[t.unit] if t.unit else (tree.root.id if t.scope in ("own", "total") else None),
                           depth=t.depth, basis=t.basis, comparator=t.comparator, value=t.value,
                           value_high=t.value_high, on=t.on, label=t.label))
    tops: dict[tuple[int, int], Task] = {}
    for t in sorted(spec.tasks, key=lambda t: t.parent is not None):
        task = Task(program_id=program.id, plan_unit_id=tree.root.id,
                    parent_id=tops[(t.quarter, t.parent)].id if t.parent is not None else None,
                    quarter=t.quarter, number=t.number, title=t.title, text=t.text or t.title,
                    due_month=t.due_month, due_note=t.due_note,
                    lead_unit_id=ids[t.lead_unit] if t.lead_unit else tree.root.id,
                    lead_department=t.lead_department)
        session.add(task)
        session.flush()
        if t.parent is None:
            tops[(t.quarter, t.number)] = task
        for c in dict.fromkeys(t.indicators):
            session.add(TaskIndicator(task_id=task.id, indicator_id=by_code[c].id))
    session.flush()


def _carry_unit_attributes(session: Session, tree: Tree, source_year: int, year: int) -> None:
    """A copied program starts with the source year's unit attributes (new-rural status,
    province-led, households, population) for the units of its tree that have none for the new
    year yet: the province then changes them for the year (they are per year, `unit_year`)."""
    from app.units.models import UnitYear

    ids = sorted(set(tree.ids.values()))
    if not ids:
        return
    have = set(session.exec(select(UnitYear.unit_id).where(UnitYear.year == year,
                                                           col(UnitYear.unit_id).in_(ids))).all())
    for a in session.exec(select(UnitYear).where(UnitYear.year == source_year, col(UnitYear.unit_id).in_(ids))).all():
        if a.unit_id not in have:
            session.add(UnitYear(unit_id=a.unit_id, year=year, new_rural=a.new_rural, front_led=a.front_led,
                                 households=a.households, population=a.population))
    session.flush()


def _check_year(year: int) -> None:
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ProgramError("bad_year", "The year must be between {lo} and {hi}.", loc=("year",),
                           lo=YEAR_MIN, hi=YEAR_MAX)


def create_draft(session: Session, principal: Principal, year: int, *, copy_from: int | None = None,
                 with_tasks: bool = False, via: str = "web") -> Program:
    """A draft program for `year`: empty, or a copy of `copy_from`'s indicators and targets (and
    its province tasks when `with_tasks`). Audited; does not commit."""
    _require(principal)
    _check_year(year)
    if program_by_year(session, year) is not None:
        raise ProgramError("year_taken", "There is already a program for {year}.", loc=("year",),
                           status=409, year=year)
    tree = tree_of(session, principal.unit, year)
    if copy_from is not None:
        source = program_by_year(session, copy_from)
        if source is None:
            raise ProgramError("no_source", "There is no program for {year} to copy.", loc=("copy_from",),
                               year=copy_from)
        spec = adapt_to_tree(for_new_year(spec_of(session, source), year, with_tasks=with_tasks), tree)
    else:
        spec = ProgramSpec(year=year, title=_("Key work program of the Front for {year}", year=year),
                           theme="", motto="")
    program = Program(year=year, title=spec.title, theme=spec.theme, motto=spec.motto,
                      root_unit_id=principal.unit.id, source=spec.source, status=DRAFT)
    # Two administrators creating the same year at once: the check above saw none for both;
    # the unique year lets one insert through and the other waits for it, then fails here.
    try:
        with session.begin_nested():
            session.add(program)
            session.flush()
    except IntegrityError:
        raise ProgramError("year_taken", "There is already a program for {year}.", loc=("year",),
                           status=409, year=year) from None
    write_spec(session, program, spec, tree)
    if copy_from is not None:
        _carry_unit_attributes(session, tree, copy_from, year)
    _audit(session, principal, via, "program", program.id, "create", None,
           {"year": year, "status": DRAFT, "copy_from": copy_from, "with_tasks": with_tasks,
            "indicators": len(spec.indicators), "targets": len(spec.targets), "tasks": len(spec.tasks)},
           unit_id=program.root_unit_id)
    return program


def import_spec(session: Session, principal: Principal, program: Program, spec: ProgramSpec,
                *, via: str = "import") -> None:
    """Fill an empty draft from a program file's description. Every error is raised at once
    (ProgramInvalid) and nothing is written."""
    _require(principal, program)
    _require_draft(program)
    if session.exec(select(func.count()).select_from(Indicator).where(Indicator.program_id == program.id)).one() \
            or session.exec(select(func.count()).select_from(Task).where(Task.program_id == program.id)).one():
        raise ProgramError("draft_not_empty", "Import into an empty draft (this one already has indicators or tasks).",
                           status=409)
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    errors = problems(replace(spec, title=spec.title or program.title), tree)
    if errors:
        raise ProgramInvalid(errors)
    write_spec(session, program, replace(spec, year=program.year), tree)
    _audit(session, principal, via, "program", program.id, "import", None,
           {"year": program.year, "indicators": len(spec.indicators), "targets": len(spec.targets),
            "tasks": len(spec.tasks)}, unit_id=program.root_unit_id)


PROGRAM_FIELDS = ("title", "theme", "motto", "source")


def update_program(session: Session, principal: Principal, program: Program, changes: dict[str, Any],
                   *, via: str = "web") -> Program:
    """Title, theme, motto, source: editable in a draft and in a published program. Audited."""
    _require(principal, program)
    old, new = {}, {}
    for name, value in changes.items():
        if name not in PROGRAM_FIELDS:
            raise ProgramError("unknown_field", "{name} cannot be changed here.", loc=(name,), name=name)
        value = (value or "").strip() if isinstance(value, str) or value is None else value
        if name != "source" and not value:
            raise ProgramError(f"{name}_missing", {"title": "Enter the program's title.",
                                                   "theme": "Enter the program's theme.",
                                                   "motto": "Enter the program's motto."}[name], loc=(name,))
        if name == "title" and len(value) > 300:
            raise ProgramError("title_too_long", "The title is too long (at most {max} characters).",
                               loc=(name,), max=300)
        if getattr(program, name) != (value or None if name == "source" else value):
            old[name], new[name] = getattr(program, name), (value or None if name == "source" else value)
            setattr(program, name, new[name])
    if new:
        session.add(program)
        session.flush()
        _audit(session, principal, via, "program", program.id, "update", old, new, unit_id=program.root_unit_id)
    return program


INDICATOR_FIELDS = tuple(f.name for f in fields(IndicatorSpec))


def _indicator_spec(ind: Indicator) -> IndicatorSpec:
    return IndicatorSpec(**{f: getattr(ind, f) for f in INDICATOR_FIELDS})


def _clean(name: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if name == "entry_depths":
            depths = parse_depths(value)
            return depths_text(depths) if depths is not None else value
        if value == "" and name not in ("code", "name", "short_name", "measure", "time_rollup", "share_filter"):
            return None
    if name == "entry_depths" and isinstance(value, list):
        depths = parse_depths(value)
        return depths_text(depths) if depths is not None else ",".join(map(str, value))
    return value


def update_indicator(session: Session, principal: Principal, program: Program, indicator: Indicator,
                     changes: dict[str, Any], *, via: str = "web") -> Indicator:
    """Change an indicator's fields. Refused (409) when figures exist and the change would alter
    what they mean; the code only changes in a draft. Audited; rebuilds a published roll-up."""
    _require(principal, program)
    unknown = [k for k in changes if k not in INDICATOR_FIELDS]
    if unknown:
        raise ProgramError("unknown_field", "{name} cannot be changed here.", loc=(unknown[0],), name=unknown[0])
    changes = {k: _clean(k, v) for k, v in changes.items()}
    changed = {k: v for k, v in changes.items() if getattr(indicator, k) != v}
    if not changed:
        return indicator
    if "code" in changed:
        _require_draft(program)
        if session.exec(select(Indicator.id).where(Indicator.program_id == program.id,
                                                   Indicator.code == changed["code"])).first():
            raise ProgramError("duplicate_code", "The code {code} is used by two indicators.", loc=("code",),
                               status=409, code=changed["code"])
    meaning = [k for k in MEANING if k in changed]
    if meaning and has_figures(session, indicator):
        raise ProgramError("figures_exist",
                           "Units have entered figures for {code}: its measure, entry levels and flow/stock "
                           "can no longer change (they would change what those figures mean).",
                           loc=(meaning[0],), status=409, code=indicator.code)
    if "baseline" in changed and changed["baseline"] is not None and "baseline_year" not in changes \
            and indicator.baseline_year is None:
        changed["baseline_year"] = program.year - 1
    spec = replace(_indicator_spec(indicator), **changed)
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    errors = indicator_problems(spec, tree, ("indicator",),
                                entering_baseline=bool({"baseline", "baseline_source"} & set(changed)))
    if errors:
        raise ProgramInvalid(errors)
    old = {k: getattr(indicator, k) for k in changed}
    for k, v in changed.items():
        setattr(indicator, k, v)
    session.add(indicator)
    session.flush()
    _audit(session, principal, via, "indicator", indicator.id, "update", old, changed,
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    if {"share_filter", *MEANING} & set(changed):  # which units count, or how (names and baselines
        _refresh_rollup(session, program)        # are read when a page is drawn)
    return indicator


def add_indicator(session: Session, principal: Principal, program: Program, values: dict[str, Any],
                  *, via: str = "web") -> Indicator:
    """A new indicator of a draft. Audited."""
    _require(principal, program)
    _require_draft(program)
    values = {k: _clean(k, v) for k, v in values.items() if k in INDICATOR_FIELDS}
    if values.get("number") is None:
        last = session.exec(select(func.max(Indicator.number)).where(Indicator.program_id == program.id)).one()
        values["number"] = (last or 0) + 1
    values.setdefault("share_filter", "all")
    values.setdefault("short_name", values.get("name"))
    try:
        spec = IndicatorSpec(**{k: values.get(k) for k in ("code", "number", "name", "short_name", "measure",
                                                           "entry_depths", "time_rollup")},
                             **{k: v for k, v in values.items()
                                if k not in ("code", "number", "name", "short_name", "measure", "entry_depths",
                                             "time_rollup")})
    except TypeError as exc:  # a missing field
        raise ProgramError("missing", "Enter the indicator's code, name, measure, levels and flow/stock.") from exc
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    errors = indicator_problems(spec, tree, ("indicator",))
    if errors:
        raise ProgramInvalid(errors)
    if session.exec(select(Indicator.id).where(Indicator.program_id == program.id,
                                               Indicator.code == spec.code)).first():
        raise ProgramError("duplicate_code", "The code {code} is used by two indicators.", loc=("code",),
                           status=409, code=spec.code)
    ind = Indicator(program_id=program.id, **{f: getattr(spec, f) for f in INDICATOR_FIELDS})
    session.add(ind)
    session.flush()
    _audit(session, principal, via, "indicator", ind.id, "create", None,
           {f: getattr(spec, f) for f in INDICATOR_FIELDS}, unit_id=program.root_unit_id, indicator_id=ind.id)
    return ind


TARGET_FIELDS = ("scope", "comparator", "value", "value_high", "unit", "depth", "basis", "on", "label")


def target_spec(session: Session, program: Program, target: Target, indicator: Indicator) -> TargetSpec:
    unit = session.get(Unit, target.unit_id) if target.unit_id not in (None, program.root_unit_id) else None
    return TargetSpec(indicator=indicator.code, scope=target.scope, comparator=target.comparator,
                      value=target.value, value_high=target.value_high, unit=unit.code if unit else None,
                      depth=target.depth, basis=target.basis, on=target.on, label=target.label)


def _target_row(spec: TargetSpec) -> dict[str, Any]:
    return {k: getattr(spec, k) for k in TARGET_FIELDS}


def _check_target(session: Session, program: Program, indicator: Indicator, spec: TargetSpec) -> Tree:
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    errors = target_problems(spec, _indicator_spec(indicator), tree, ("target",))
    if errors:
        raise ProgramInvalid(errors)
    return tree


def _unit_id(session: Session, program: Program, spec: TargetSpec) -> int | None:
    if spec.unit:
        return tree_of(session, session.get(Unit, program.root_unit_id), program.year).ids[spec.unit]
    return program.root_unit_id if spec.scope in ("own", "total") else None


def _clean_target(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in values.items():
        if k not in TARGET_FIELDS:
            raise ProgramError("unknown_field", "{name} cannot be changed here.", loc=(k,), name=k)
        if isinstance(v, str):
            v = v.strip() or None
        out[k] = v
    if out.get("scope") not in (None, "each"):
        out.setdefault("depth", None)
    return out


def add_target(session: Session, principal: Principal, program: Program, indicator: Indicator,
               values: dict[str, Any], *, via: str = "web") -> Target:
    """A new target (draft or published). Audited; rebuilds a published roll-up."""
    _require(principal, program)
    values = _clean_target(values)
    if values.get("scope") is None or values.get("comparator") is None:
        raise ProgramError("missing", "Choose the target's scope and comparator and enter its value.")
    spec = TargetSpec(indicator=indicator.code, scope=values["scope"], comparator=values["comparator"],
                      value=values.get("value"), **{k: v for k, v in values.items()
                                                    if k not in ("scope", "comparator", "value") and v is not None})
    _check_target(session, program, indicator, spec)
    target = Target(indicator_id=indicator.id, unit_id=_unit_id(session, program, spec),
                    **{k: getattr(spec, k) for k in TARGET_FIELDS if k != "unit"})
    session.add(target)
    session.flush()
    _audit(session, principal, via, "target", target.id, "create", None, _target_row(spec),
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    _refresh_rollup(session, program, spec.scope)
    return target


def update_target(session: Session, principal: Principal, program: Program, target: Target,
                  values: dict[str, Any], *, via: str = "web") -> Target:
    """Change a target (draft or published): checked like at publishing. Audited (old → new);
    a published program's kept roll-up is rebuilt in the same transaction."""
    _require(principal, program)
    indicator = session.get(Indicator, target.indicator_id)
    values = _clean_target(values)
    before = target_spec(session, program, target, indicator)
    spec = replace(before, **values)
    if spec.scope != "each":
        spec.depth = None
    if spec.comparator != "range":
        spec.value_high = values.get("value_high") if "value_high" in values else None
    _check_target(session, program, indicator, spec)
    old, new = _target_row(before), _target_row(spec)
    if old == new:
        return target
    for k in TARGET_FIELDS:
        if k != "unit":
            setattr(target, k, getattr(spec, k))
    target.unit_id = _unit_id(session, program, spec)
    session.add(target)
    session.flush()
    _audit(session, principal, via, "target", target.id, "update",
           {k: v for k, v in old.items() if new[k] != v}, {k: v for k, v in new.items() if old[k] != v},
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    _refresh_rollup(session, program, before.scope, spec.scope)
    return target


def delete_target(session: Session, principal: Principal, program: Program, target: Target,
                  *, via: str = "web") -> None:
    _require(principal, program)
    indicator = session.get(Indicator, target.indicator_id)
    old = _target_row(target_spec(session, program, target, indicator))
    session.delete(target)
    session.flush()
    _audit(session, principal, via, "target", target.id, "delete", old, None,
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    _refresh_rollup(session, program, old["scope"])


TASK_FIELDS = ("quarter", "number", "title", "text", "due_month", "due_note", "lead_unit", "lead_department",
               "indicators")


def task_spec(session: Session, program: Program, task: Task) -> TaskSpec:
    lead = session.get(Unit, task.lead_unit_id)
    links = session.exec(select(Indicator.code, Indicator.program_id, Program.year)
                         .join(TaskIndicator, TaskIndicator.indicator_id == Indicator.id)
                         .join(Program, Program.id == Indicator.program_id)
                         .where(TaskIndicator.task_id == task.id).order_by(Indicator.number)).all()
    parent = session.get(Task, task.parent_id) if task.parent_id else None
    return TaskSpec(quarter=task.quarter, number=task.number, title=task.title, text=task.text,
                    parent=parent.number if parent else None, due_month=task.due_month,
                    due_note=task.due_note,
                    lead_unit=lead.code if lead and lead.id != program.root_unit_id else None,
                    lead_department=task.lead_department,
                    indicators=[c for c, pid, _y in links if pid == program.id],
                    foreign=[f"{c} ({y})" for c, pid, y in links if pid != program.id])


def _clean_task(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in values.items():
        if k not in TASK_FIELDS:
            raise ProgramError("unknown_field", "{name} cannot be changed here.", loc=(k,), name=k)
        if isinstance(v, str) and k != "indicators":
            v = v.strip() or None
        if k == "indicators":
            v = [c.strip() for c in (v.split(",") if isinstance(v, str) else v or []) if c and c.strip()]
        out[k] = v
    return out


def _write_task(session: Session, program: Program, task: Task, spec: TaskSpec) -> None:
    codes = dict(session.exec(select(Indicator.code, Indicator.id).where(Indicator.program_id == program.id)).all())
    lead_id = (tree_of(session, session.get(Unit, program.root_unit_id), program.year).ids[spec.lead_unit]
               if spec.lead_unit else program.root_unit_id)
    task.quarter, task.number, task.title, task.text = spec.quarter, spec.number, spec.title, spec.text or spec.title
    task.due_month, task.due_note, task.lead_unit_id, task.lead_department = (
        spec.due_month, spec.due_note, lead_id, spec.lead_department)
    session.add(task)
    session.flush()
    session.execute(delete(TaskIndicator).where(TaskIndicator.task_id == task.id))
    for c in dict.fromkeys(spec.indicators):
        session.add(TaskIndicator(task_id=task.id, indicator_id=codes[c]))
    session.flush()


def _check_task(session: Session, program: Program, spec: TaskSpec) -> None:
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    codes = set(session.exec(select(Indicator.code).where(Indicator.program_id == program.id)).all())
    errors = task_problems(spec, codes, tree, ("task",))
    if spec.due_month is not None and 1 <= spec.due_month <= 12 and spec.quarter in (1, 2, 3, 4) \
            and quarter_of(spec.due_month) != spec.quarter and not spec.due_note:
        errors.append(_err("month_outside_quarter", "Month {month} is not in quarter {quarter}.",
                           ("task", "due_month"), month=spec.due_month, quarter=spec.quarter))
    if errors:
        raise ProgramInvalid(errors)


def add_program_task(session: Session, principal: Principal, program: Program, values: dict[str, Any],
                     *, via: str = "web") -> Task:
    """A task of a draft's province plan. Audited."""
    _require(principal, program)
    _require_draft(program)
    values = _clean_task(values)
    if values.get("quarter") is not None and values.get("number") is None:
        last = session.exec(select(func.max(Task.number)).where(
            Task.program_id == program.id, Task.plan_unit_id == program.root_unit_id,
            Task.quarter == values["quarter"], col(Task.parent_id).is_(None))).one()
        values["number"] = (last or 0) + 1
    spec = TaskSpec(quarter=values.get("quarter"), number=values.get("number"), title=values.get("title") or "",
                    text=values.get("text") or "", **{k: v for k, v in values.items()
                                                      if k not in ("quarter", "number", "title", "text")})
    _check_task(session, program, spec)
    task = Task(program_id=program.id, plan_unit_id=program.root_unit_id, quarter=spec.quarter,
                number=spec.number, title=spec.title, text=spec.text or spec.title, lead_unit_id=program.root_unit_id)
    _write_task(session, program, task, spec)
    _audit(session, principal, via, "program_task", task.id, "create", None,
           {k: getattr(spec, k) for k in TASK_FIELDS}, unit_id=program.root_unit_id)
    return task


def update_program_task(session: Session, principal: Principal, program: Program, task: Task,
                        values: dict[str, Any], *, via: str = "web") -> Task:
    """Change a draft's task: quarter, number, text, due month, lead, linked indicators. Audited."""
    _require(principal, program)
    _require_draft(program)
    if task.program_id != program.id:
        raise ProgramError("not_found", "Not found in this program.", status=404)
    before = task_spec(session, program, task)
    spec = replace(before, **_clean_task(values))
    spec.foreign = [] if "indicators" in values else before.foreign
    _check_task(session, program, spec)
    old = {k: getattr(before, k) for k in TASK_FIELDS}
    new = {k: getattr(spec, k) for k in TASK_FIELDS}
    if old == new:
        return task
    _write_task(session, program, task, spec)
    task.version += 1
    session.add(task)
    session.flush()
    _audit(session, principal, via, "program_task", task.id, "update",
           {k: v for k, v in old.items() if new[k] != v}, {k: v for k, v in new.items() if old[k] != v},
           unit_id=program.root_unit_id)
    return task


def publish(session: Session, principal: Principal, program: Program, *, via: str = "web") -> Program:
    """Put a draft in force. Every error is raised at once (ProgramInvalid); nothing changes then."""
    _require(principal, program)
    if program.status == PUBLISHED:
        raise ProgramError("already_published", "The {year} program is already published.", status=409,
                           year=program.year)
    errors = problems(spec_of(session, program), tree_of(session, session.get(Unit, program.root_unit_id), program.year))
    if errors:
        raise ProgramInvalid(errors)
    program.status = PUBLISHED
    session.add(program)
    session.flush()
    from app.rollup.service import rebuild_unit_counts

    rebuild_unit_counts(session)  # the year's months get their counts of units in force
    _audit(session, principal, via, "program", program.id, "publish", {"status": DRAFT}, {"status": PUBLISHED},
           unit_id=program.root_unit_id)
    return program


def delete_draft(session: Session, principal: Principal, program: Program, *, via: str = "web") -> None:
    """Throw a draft away (a published program is never deleted). Audited."""
    _require(principal, program)
    _require_draft(program)
    ind_ids = list(session.exec(select(Indicator.id).where(Indicator.program_id == program.id)).all())
    task_ids = list(session.exec(select(Task.id).where(Task.program_id == program.id)).all())
    if task_ids:
        session.execute(delete(TaskIndicator).where(col(TaskIndicator.task_id).in_(task_ids)))
        session.execute(delete(Task).where(col(Task.id).in_(task_ids), col(Task.parent_id).is_not(None)))
        session.execute(delete(Task).where(col(Task.id).in_(task_ids)))
    if ind_ids:
        # The audit rows of the draft's edits stay (old → new in their JSON); only their link to
        # the indicator row, which is going, is cleared.
        session.execute(update(AuditLog).where(col(AuditLog.indicator_id).in_(ind_ids)).values(indicator_id=None))
        session.execute(delete(TaskIndicator).where(col(TaskIndicator.indicator_id).in_(ind_ids)))
        session.execute(delete(Target).where(col(Target.indicator_id).in_(ind_ids)))
        session.execute(delete(Indicator).where(col(Indicator.id).in_(ind_ids)))
    _audit(session, principal, via, "program", program.id, "delete", {"year": program.year, "status": DRAFT}, None,
           unit_id=program.root_unit_id)
    session.delete(program)
    session.flush()


# --------------------------------------------------------------------------------------------
# Baselines: offered from last year's figures
# --------------------------------------------------------------------------------------------

@dataclass
class BaselineSuggestion:
    value: int
    year: int
    units: int  # units whose figures make it up


def baseline_suggestion(session: Session, program: Program, indicator: Indicator) -> BaselineSuggestion | None:
    """Last year's total of the same indicator (same code in last year's published program), for
    a flow count or amount: the province confirms it (with its source) before it counts."""
    if indicator.measure not in ("count", "amount") or indicator.time_rollup != "flow":
        return None
    last_year = program.year - 1
    previous = session.exec(select(Indicator).join(Program, Program.id == Indicator.program_id)
                            .where(Program.year == last_year, Program.status == PUBLISHED,
                                   Indicator.code == indicator.code)).first()
    if previous is None:
        return None
    total, units = session.exec(select(func.coalesce(func.sum(DataValue.value), 0),
                                       func.count(func.distinct(DataValue.unit_id)))
                                .where(DataValue.indicator_id == previous.id,
                                       col(DataValue.period).startswith(f"{last_year}-"))).one()
    if not units:
        return None
    return BaselineSuggestion(int(total), last_year, int(units))
