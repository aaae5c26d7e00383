"""Checks: every error of a program, or of one indicator / target / task, listed at once so
the province fixes them in one pass and a file import changes nothing when one line is wrong."""
from typing import Any

from app.program import rules
from app.program.spec import (
    BASES,
    CODE_RE,
    COMPARATORS,
    ONS,
    SCOPES,
    SHARE_FILTERS,
    TEXT_MAX,
    TIME_ROLLUPS,
    YEAR_MAX,
    YEAR_MIN,
    IndicatorSpec,
    ProgramError,
    ProgramSpec,
    TargetSpec,
    TaskSpec,
    Tree,
)


def error_at(kind: str, message: str, loc: tuple, where: str = "", **params: Any) -> ProgramError:
    return ProgramError(kind, message, loc=loc, where=where, **params)


def indicator_problems(ind: IndicatorSpec, tree: Tree, loc: tuple = (), *, entering_baseline: bool = False
                       ) -> list[ProgramError]:
    """An indicator's own errors. A baseline the province enters needs its source
    (`entering_baseline`); one already stored without a source is a demo figure, shown as such."""
    where, p = "Indicator {code}", {"code": ind.code}
    loc = loc or ("indicators", ind.code)
    out: list[ProgramError] = []
    if not CODE_RE.fullmatch(ind.code or ""):
        out.append(error_at("bad_code", "The code may hold letters, digits, '.', '-' and '_' (at most 32).",
                        (*loc, "code"), where, **p))
    if not (ind.name or "").strip() or not (ind.short_name or "").strip():
        out.append(error_at("name_missing", "Enter the indicator's name and short name.", (*loc, "name"), where, **p))
    if ind.measure not in rules.MEASURES:
        out.append(error_at("bad_measure", "The measure must be ratio, yes_no, count or amount.",
                        (*loc, "measure"), where, **p))
    if ind.time_rollup not in TIME_ROLLUPS:
        out.append(error_at("bad_time_rollup", "Choose flow (months add up) or stock (the latest month stands).",
                        (*loc, "time_rollup"), where, **p))
    depths = parse_depths(ind.entry_depths)
    if depths is None or not depths:
        out.append(error_at("no_entry_levels", "Choose at least one level that enters the indicator.",
                        (*loc, "entry_depths"), where, **p))
    else:
        known = set(tree.depths.values())
        for d in sorted(depths - known):
            out.append(error_at("unknown_level", "The tree has no level {depth}.", (*loc, "entry_depths"),
                            where, depth=d, **p))
    if ind.share_filter not in SHARE_FILTERS:
        out.append(error_at("bad_share_filter", "Which units should report: all, or new_rural communes.",
                        (*loc, "share_filter"), where, **p))
    elif ind.share_filter == "new_rural" and ind.measure != "yes_no":
        out.append(error_at("share_filter_not_yes_no", "Only a yes/no indicator counts a share of new-rural communes.",
                        (*loc, "share_filter"), where, **p))
    if ind.baseline is not None:
        if ind.baseline < 0:
            out.append(error_at("baseline_negative", "The baseline cannot be negative.", (*loc, "baseline"), where, **p))
        if entering_baseline and not (ind.baseline_source or "").strip():
            out.append(error_at("baseline_source_missing", "Say where the baseline comes from.",
                            (*loc, "baseline_source"), where, **p))
        if ind.baseline_year is None or not (YEAR_MIN <= ind.baseline_year <= YEAR_MAX):
            out.append(error_at("baseline_year_missing", "Enter the year of the baseline.",
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
        return [error_at("unknown_indicator", "There is no indicator {code} in this program.", (*loc, "indicator"),
                     where, **p)]
    depths = parse_depths(ind.entry_depths) or set()
    if t.scope not in SCOPES:
        out.append(error_at("bad_scope", "The scope must be total, own or each.", (*loc, "scope"), where, **p))
    if t.comparator not in COMPARATORS:
        out.append(error_at("bad_comparator", "The comparator must be >=, >, <=, <, = or range.",
                        (*loc, "comparator"), where, **p))
    if t.basis not in BASES:
        out.append(error_at("bad_basis", "The basis must be own or subtree.", (*loc, "basis"), where, **p))
    if t.on not in ONS:
        out.append(error_at("bad_on", "Compare the value, or the reduction against the baseline.", (*loc, "on"), where, **p))
    if t.value is None:
        out.append(error_at("value_missing", "Enter the target's value.", (*loc, "value"), where, **p))
        return out
    if t.value < 0:
        out.append(error_at("value_negative", "The target cannot be negative.", (*loc, "value"), where, **p))
    if t.comparator == "range":
        if t.value_high is None:
            out.append(error_at("range_without_high", "A range needs an upper bound.", (*loc, "value_high"), where, **p))
        elif t.value_high < t.value:
            out.append(error_at("range_reversed", "The upper bound is below the lower bound.",
                            (*loc, "value_high"), where, **p))
    elif t.value_high is not None:
        out.append(error_at("high_without_range", "Only a range has an upper bound.", (*loc, "value_high"), where, **p))
    percent = t.on == "reduction_pct" or ind.measure in rules.PERCENT_MEASURES
    if percent and t.on == "value" and (t.value > 100 or (t.value_high or 0) > 100):
        out.append(error_at("percent_over_100", "A percentage target cannot exceed 100.", (*loc, "value"), where, **p))
    if t.on == "reduction_pct" and ind.baseline is None:
        out.append(error_at("reduction_without_baseline",
                        "A reduction target needs the indicator's baseline: enter it with its source.",
                        (*loc, "on"), where, **p))
    if t.unit is not None and t.unit not in tree.depths:
        out.append(error_at("unknown_unit", "No unit {unit} in the program's tree.", (*loc, "unit"), where,
                        unit=t.unit, **p))
    if t.scope == "each":
        if t.depth is None:
            out.append(error_at("each_without_level", "Choose the level whose every unit must meet the target.",
                            (*loc, "depth"), where, **p))
        elif t.basis == "own" and t.depth not in depths:
            out.append(error_at("level_does_not_enter",
                            "The level {level} does not enter this indicator, so its units have no figure.",
                            (*loc, "depth"), where, level=tree.level_name(t.depth), **p))
    elif t.scope == "own":
        unit_depth = tree.depths.get(t.unit) if t.unit is not None else tree.root.depth
        if unit_depth is not None and unit_depth not in depths:
            out.append(error_at("level_does_not_enter",
                            "The level {level} does not enter this indicator, so its units have no figure.",
                            (*loc, "unit"), where, level=tree.level_name(unit_depth), **p))
    return out


def task_problems(t: TaskSpec, codes: set[str], tree: Tree, loc: tuple) -> list[ProgramError]:
    where, p = "Task {label} of quarter {quarter}", {"label": t.label, "quarter": t.quarter}
    out: list[ProgramError] = []
    if t.quarter not in (1, 2, 3, 4):
        out.append(error_at("bad_quarter", "Choose the quarter (I to IV).", (*loc, "quarter"), where, **p))
    if t.number is None or t.number < 1:
        out.append(error_at("bad_number", "The task's number must be 1 or more.", (*loc, "number"), where, **p))
    if not (t.title or "").strip():
        out.append(error_at("title_missing", "Enter a short title.", (*loc, "title"), where, **p))
    elif len(t.title) > 300:
        out.append(error_at("title_too_long", "The title is too long (at most {max} characters).", (*loc, "title"),
                        where, max=300, **p))
    if len(t.text or "") > TEXT_MAX:
        out.append(error_at("text_too_long", "The text is too long (at most {max} characters).", (*loc, "text"),
                        where, max=TEXT_MAX, **p))
    if t.due_month is not None and (not 1 <= t.due_month <= 12):
        out.append(error_at("bad_month", "The due month must be 1 to 12.", (*loc, "due_month"), where, **p))
    if t.lead_unit is not None and t.lead_unit not in tree.depths:
        out.append(error_at("unknown_unit", "No unit {unit} in the program's tree.", (*loc, "lead_unit"), where,
                        unit=t.lead_unit, **p))
    for c in t.indicators:
        if c not in codes:
            out.append(error_at("unknown_indicator", "There is no indicator {code} in this program.",
                            (*loc, "indicators"), where, code=c, **p))
    for c in t.foreign:
        out.append(error_at("foreign_indicator", "It is linked to {indicator}, an indicator of another program.",
                        (*loc, "indicators"), where, indicator=c, **p))
    return out


def problems(spec: ProgramSpec, tree: Tree) -> list[ProgramError]:
    """Every error of the program, in reading order; empty when it may be published."""
    out: list[ProgramError] = []
    for name, value in (("title", spec.title), ("theme", spec.theme), ("motto", spec.motto)):
        if not (value or "").strip():
            out.append(error_at(f"{name}_missing", {"title": "Enter the program's title.",
                                                "theme": "Enter the program's theme.",
                                                "motto": "Enter the program's motto."}[name], (name,)))
    if not spec.indicators:
        out.append(error_at("no_indicators", "The program has no indicator.", ("indicators",)))
    seen: dict[str, int] = {}
    for n, ind in enumerate(spec.indicators):
        if ind.code in seen:
            out.append(error_at("duplicate_code", "The code {code} is used by two indicators.",
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
            out.append(error_at("duplicate_task", "Two tasks have the same number.", (*loc, "number"),
                            "Task {label} of quarter {quarter}", label=t.label, quarter=t.quarter))
        numbers.add(key)
        if t.parent is not None and (t.quarter, t.parent) not in tops:
            out.append(error_at("unknown_parent", "Its parent task is not in the quarter.", (*loc, "parent"),
                            "Task {label} of quarter {quarter}", label=t.label, quarter=t.quarter))
        out += task_problems(t, set(by_code), tree, loc)
    return out


