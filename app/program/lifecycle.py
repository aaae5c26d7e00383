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
from dataclasses import dataclass, fields, replace

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.principal import Principal
from app.audit.models import AuditLog
from app.audit.service import audit
from app.core.i18n import _
from app.program.changes import (
    all_programs,
    can_manage,
    has_figures,
    indicator_in,
    program_by_year,
    province_task_in,
    require_draft,
    require_manager,
    target_in,
)
from app.program.checks import depths_text, parse_depths, problems
from app.program.edits import (
    add_indicator,
    add_program_task,
    add_target,
    delete_target,
    task_spec,
    update_indicator,
    update_program,
    update_program_task,
    update_target,
)
from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.program.spec import (
    DRAFT,
    PUBLISHED,
    TEXT_MAX,
    YEAR_MAX,
    YEAR_MIN,
    IndicatorSpec,
    ProgramError,
    ProgramInvalid,
    ProgramSpec,
    TargetSpec,
    TaskSpec,
    Tree,
    for_new_year,
    spec_of,
    tree_of,
)
from app.rollup.service import rebuild_unit_counts
from app.units.models import Unit, UnitYear
from app.values.models import DataValue

# The front door: callers say `lifecycle.<name>` for every step of a program's life. The parts
# live in `spec` (the description and its words), `checks` (every error at once), `changes`
# (who may change a program, and what follows a change) and `edits` (one part at a time).
__all__ = [
    "DRAFT", "PUBLISHED", "TEXT_MAX", "YEAR_MAX", "YEAR_MIN",
    "BaselineSuggestion", "IndicatorSpec", "ProgramError", "ProgramInvalid", "ProgramSpec",
    "TargetSpec", "TaskSpec", "Tree",
    "adapt_to_tree", "add_indicator", "add_program_task", "add_target", "all_programs", "baseline_suggestion",
    "can_manage", "create_draft", "delete_draft", "delete_target", "for_new_year", "has_figures",
    "import_spec", "indicator_in", "problems", "program_by_year", "province_task_in", "publish",
    "spec_of", "target_in", "task_spec", "tree_of", "update_indicator", "update_program",
    "update_program_task", "update_target", "write_spec",
]


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


def _carry_unit_attributes(session: Session, tree: Tree, source_year: int, year: int) -> None:
    """A copied program starts with the source year's unit attributes (new-rural status,
    province-led, households, population) for the units of its tree that have none for the new
    year yet: the province then changes them for the year (they are per year, `unit_year`)."""
    ids = sorted(set(tree.ids.values()))
    if not ids:
        return
    have = set(session.exec(select(UnitYear.unit_id).where(UnitYear.year == year,
                                                           col(UnitYear.unit_id).in_(ids))).all())
    for a in session.exec(select(UnitYear).where(UnitYear.year == source_year, col(UnitYear.unit_id).in_(ids))).all():
        if a.unit_id not in have:
            session.add(UnitYear(unit_id=a.unit_id, year=year, new_rural=a.new_rural, front_led=a.front_led,
                                 households=a.households, population=a.population, is_demo=a.is_demo))
    session.flush()


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


def _check_year(year: int) -> None:
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ProgramError("bad_year", "The year must be between {lo} and {hi}.", loc=("year",),
                           lo=YEAR_MIN, hi=YEAR_MAX)


def create_draft(session: Session, principal: Principal, year: int, *, copy_from: int | None = None,
                 with_tasks: bool = False, via: str = "web") -> Program:
    """A draft program for `year`: empty, or a copy of `copy_from`'s indicators and targets (and
    its province tasks when `with_tasks`). Audited; does not commit."""
    require_manager(principal)
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
    audit(session, principal, via, "program", program.id, "create", None,
           {"year": year, "status": DRAFT, "copy_from": copy_from, "with_tasks": with_tasks,
            "indicators": len(spec.indicators), "targets": len(spec.targets), "tasks": len(spec.tasks)},
           unit_id=program.root_unit_id)
    return program


def import_spec(session: Session, principal: Principal, program: Program, spec: ProgramSpec,
                *, via: str = "import") -> None:
    """Fill an empty draft from a program file's description. Every error is raised at once
    (ProgramInvalid) and nothing is written."""
    require_manager(principal, program)
    require_draft(program)
    if session.exec(select(func.count()).select_from(Indicator).where(Indicator.program_id == program.id)).one() \
            or session.exec(select(func.count()).select_from(Task).where(Task.program_id == program.id)).one():
        raise ProgramError("draft_not_empty", "Import into an empty draft (this one already has indicators or tasks).",
                           status=409)
    tree = tree_of(session, session.get(Unit, program.root_unit_id), program.year)
    errors = problems(replace(spec, title=spec.title or program.title), tree)
    if errors:
        raise ProgramInvalid(errors)
    write_spec(session, program, replace(spec, year=program.year), tree)
    audit(session, principal, via, "program", program.id, "import", None,
           {"year": program.year, "indicators": len(spec.indicators), "targets": len(spec.targets),
            "tasks": len(spec.tasks)}, unit_id=program.root_unit_id)



def publish(session: Session, principal: Principal, program: Program, *, via: str = "web") -> Program:
    """Put a draft in force. Every error is raised at once (ProgramInvalid); nothing changes then."""
    require_manager(principal, program)
    if program.status == PUBLISHED:
        raise ProgramError("already_published", "The {year} program is already published.", status=409,
                           year=program.year)
    errors = problems(spec_of(session, program),
                      tree_of(session, session.get(Unit, program.root_unit_id), program.year))
    if errors:
        raise ProgramInvalid(errors)
    program.status = PUBLISHED
    session.add(program)
    session.flush()
    rebuild_unit_counts(session)  # the year's months get their counts of units in force
    audit(session, principal, via, "program", program.id, "publish", {"status": DRAFT}, {"status": PUBLISHED},
           unit_id=program.root_unit_id)
    return program


def delete_draft(session: Session, principal: Principal, program: Program, *, via: str = "web") -> None:
    """Throw a draft away (a published program is never deleted). Audited."""
    require_manager(principal, program)
    require_draft(program)
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
    audit(session, principal, via, "program", program.id, "delete", {"year": program.year, "status": DRAFT}, None,
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
