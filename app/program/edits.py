"""Edits of a program's parts: its title and theme, an indicator, a target, a task.

Once units have entered figures for an indicator, what those figures mean (measure, entry
levels, flow/stock) is fixed; targets and baselines stay editable. Every edit is checked by the
same rules as a whole program (`app.program.checks`), audited, and on a published program
followed by a roll-up rebuild when it changes an 'each unit' target (`app.program.changes`).
"""
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.accounts.principal import Principal
from app.audit.service import audit
from app.program.changes import (
    has_figures,
    refresh_rollup,
    require_draft,
    require_manager,
)
from app.program.checks import (
    depths_text,
    error_at,
    indicator_problems,
    parse_depths,
    target_problems,
    task_problems,
)
from app.program.closing import hold_year
from app.program.models import Indicator, Program, Target, Task, TaskIndicator
from app.program.periods import quarter_of
from app.program.spec import (
    MEANING,
    IndicatorSpec,
    ProgramError,
    ProgramInvalid,
    TargetSpec,
    TaskSpec,
    Tree,
    tree_of,
)
from app.units.models import Unit

PROGRAM_FIELDS = ("title", "theme", "motto", "source")


def _require_editable(session: Session, principal: Principal, program: Program) -> None:
    """The province's administrators edit a program until its year is closed: a closed year is
    read-only, its targets included (they judge the year's figures). The year is read under the
    lock a close waits for (`app.program.closing.hold_year`)."""
    require_manager(principal, program)
    hold_year(session, program)
    if program.closed_at is not None:
        raise ProgramError("year_closed", "The year {year} is closed: its program (indicators, targets and tasks) "
                           "is read-only.", status=409, year=program.year)


def update_program(session: Session, principal: Principal, program: Program, changes: dict[str, Any],
                   *, via: str = "web") -> Program:
    """Title, theme, motto, source: editable in a draft and in a published program. Audited."""
    _require_editable(session, principal, program)
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
        audit(session, principal, via, "program", program.id, "update", old, new, unit_id=program.root_unit_id)
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
    _require_editable(session, principal, program)
    unknown = [k for k in changes if k not in INDICATOR_FIELDS]
    if unknown:
        raise ProgramError("unknown_field", "{name} cannot be changed here.", loc=(unknown[0],), name=unknown[0])
    changes = {k: _clean(k, v) for k, v in changes.items()}
    changed = {k: v for k, v in changes.items() if getattr(indicator, k) != v}
    if not changed:
        return indicator
    if "code" in changed:
        require_draft(program)
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
    audit(session, principal, via, "indicator", indicator.id, "update", old, changed,
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    if {"share_filter", *MEANING} & set(changed):  # which units count, or how (names and baselines
        refresh_rollup(session, program)        # are read when a page is drawn)
    return indicator


def add_indicator(session: Session, principal: Principal, program: Program, values: dict[str, Any],
                  *, via: str = "web") -> Indicator:
    """A new indicator of a draft. Audited."""
    _require_editable(session, principal, program)
    require_draft(program)
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
    audit(session, principal, via, "indicator", ind.id, "create", None,
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
    _require_editable(session, principal, program)
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
    audit(session, principal, via, "target", target.id, "create", None, _target_row(spec),
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    refresh_rollup(session, program, spec.scope)
    return target


def update_target(session: Session, principal: Principal, program: Program, target: Target,
                  values: dict[str, Any], *, via: str = "web") -> Target:
    """Change a target (draft or published): checked like at publishing. Audited (old → new);
    a published program's kept roll-up is rebuilt in the same transaction."""
    _require_editable(session, principal, program)
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
    audit(session, principal, via, "target", target.id, "update",
           {k: v for k, v in old.items() if new[k] != v}, {k: v for k, v in new.items() if old[k] != v},
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    refresh_rollup(session, program, before.scope, spec.scope)
    return target


def delete_target(session: Session, principal: Principal, program: Program, target: Target,
                  *, via: str = "web") -> None:
    _require_editable(session, principal, program)
    indicator = session.get(Indicator, target.indicator_id)
    old = _target_row(target_spec(session, program, target, indicator))
    session.delete(target)
    session.flush()
    audit(session, principal, via, "target", target.id, "delete", old, None,
           unit_id=program.root_unit_id, indicator_id=indicator.id)
    refresh_rollup(session, program, old["scope"])


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
        errors.append(error_at("month_outside_quarter", "Month {month} is not in quarter {quarter}.",
                           ("task", "due_month"), month=spec.due_month, quarter=spec.quarter))
    if errors:
        raise ProgramInvalid(errors)


def add_program_task(session: Session, principal: Principal, program: Program, values: dict[str, Any],
                     *, via: str = "web") -> Task:
    """A task of a draft's province plan. Audited."""
    _require_editable(session, principal, program)
    require_draft(program)
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
    audit(session, principal, via, "program_task", task.id, "create", None,
           {k: getattr(spec, k) for k in TASK_FIELDS}, unit_id=program.root_unit_id)
    return task


def update_program_task(session: Session, principal: Principal, program: Program, task: Task,
                        values: dict[str, Any], *, via: str = "web") -> Task:
    """Change a draft's task: quarter, number, text, due month, lead, linked indicators. Audited."""
    _require_editable(session, principal, program)
    require_draft(program)
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
    audit(session, principal, via, "program_task", task.id, "update",
           {k: v for k, v in old.items() if new[k] != v}, {k: v for k, v in new.items() if old[k] != v},
           unit_id=program.root_unit_id)
    return task


