""""Each unit of a level" targets (each commune holds a supervision a month): which ones are
counted in SQL and kept per ancestor (`rollup_each`), their upkeep on a save, and their judging
on a read (`EachJudging`, mixed into the read contexts of `app.rollup.reads`).
"""
from collections import defaultdict

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.program.models import Indicator, Target
from app.rollup.comparators import PLAIN
from app.rollup.judging import TargetFacts, Terms, actual_parts, evaluate, meets
from app.rollup.rules import SPANS, counts_toward, path_ids
from app.rollup.statements import EACH_READ, EACH_TERMS, EACH_UPDATE, count_col, each_count_statement
from app.rollup.subtree import LazyUnits, light_under
from app.rollup.types import MET, NO_DATA, TargetResult
from app.units.models import Unit


def counted_in_sql(t: Target, ind: Indicator) -> bool:
    """The "each unit of a level" targets counted in SQL and kept per ancestor in `rollup_each`:
    on every unit of the level (no unit named), on the unit's own flow count/amount, with a
    plain comparator. (A read counts them in SQL only two or more levels down:
    `EachJudging._sql_each_applies`.)"""
    return (t.scope == "each" and t.basis == "own" and t.unit_id is None and t.depth is not None
            and ind.time_rollup == "flow" and ind.measure in ("count", "amount") and t.on == "value"
            and t.comparator in PLAIN)


def each_targets_by_level(session: Session, indicators: dict[int, Indicator]
                           ) -> "dict[tuple[int, int], list[TargetFacts]]":
    out: dict[tuple[int, int], list[TargetFacts]] = defaultdict(list)
    for t in session.exec(select(Target).where(Target.scope == "each").order_by(Target.id)).all():
        ind = indicators.get(t.indicator_id)
        if ind is not None and counted_in_sql(t, ind):
            out[(t.indicator_id, t.depth)].append(TargetFacts(t))
    return out


def span_statuses(cum: dict[str, tuple[int, int, int, int]], year: int, t: Target
                   ) -> dict[tuple[int, int], tuple[bool, bool]]:
    """(has data, meets) of one unit's flow over every span of months, from its cumulative rows."""
    vals, reps = [0] * 13, [0] * 13
    for m in range(1, 13):
        c = cum.get(f"{year}-{m:02d}")
        if c is not None:
            vals[m], reps[m] = c[0], c[3]
    out = {}
    for a, b in SPANS:
        has = reps[b] - reps[a - 1] > 0
        out[(a, b)] = (has, has and meets(t, vals[b] - vals[a - 1], 1)[0])
    return out


def update_each(session: Session, changes: list[tuple[Unit, int, int, dict, dict]]) -> None:
    """Bring the `rollup_each` counts of the changed units' ancestors up to date: read the
    terms of the kept targets at the changed units' levels (one small read per batch), judge
    the unit on every span before and after, and update only the spans whose verdict changed
    (usually none: a commune with 3 supervisions getting a 4th still meets "≥ 1")."""
    if not changes:
        return
    # Summed per kept row, then written one row per statement in key order (see "Locks").
    updates: dict[tuple[int, int, str, str, str, float], list[int]] = defaultdict(lambda: [0, 0])
    # The kept targets' terms, per (top ancestor, indicator, depth, year): one read per batch.
    roots = sorted({path_ids(u.path)[0] for u, *_ in changes if u.parent_id is not None})
    if not roots:
        return
    years = sorted({c[2] for c in changes})
    kept: dict[tuple[int, int, int, int], set[tuple[int, str, float]]] = defaultdict(set)
    for root, tid, iid, depth, comparator, value, start in session.execute(EACH_TERMS, {
            "roots": roots, "iids": sorted({c[1] for c in changes}),
            "starts": [f"{y}-01" for y in years], "ends": [f"{y}-12" for y in years]}):
        kept[(root, iid, depth, int(start[:4]))].add((tid, comparator, value))
    for unit, iid, year, ca, cb in changes:
        ancestors = path_ids(unit.path)[:-1]
        if not ancestors:
            continue
        terms = sorted(kept.get((ancestors[0], iid, unit.depth, year), ()))
        for tid, comparator, value in terms:
            t = Terms(comparator, value)
            after, before = span_statuses(ca, year, t), span_statuses(cb, year, t)
            for (a, b), st in after.items():
                old = before[(a, b)]
                dw, dm = int(st[0]) - int(old[0]), int(st[1]) - int(old[1])
                if dw or dm:
                    for anc in ancestors:
                        acc = updates[(anc, tid, f"{year}-{a:02d}", f"{year}-{b:02d}", comparator, value)]
                        acc[0] += dw
                        acc[1] += dm
    params = [{"u": u, "tid": tid, "ps": ps, "pe": pe, "cmp": cmp, "val": val, "dw": d[0], "dm": d[1]}
              for (u, tid, ps, pe, cmp, val), d in sorted(updates.items()) if d != [0, 0]]
    if params:
        session.execute(EACH_UPDATE, params)


class EachJudging:
    """The "each unit of a level" part of a read context (`app.rollup.reads.ReadContext`): one
    or two levels down the units' own rows are judged in Python; further down one grouped SQL
    query (or the kept `rollup_each` rows) counts, per child of the viewed unit, the units with
    data and those meeting the target."""

    def prepare_each(self) -> None:
        """Read at once the own figures of every unit that an `each` target looks at."""
        by_depth: dict[int, set[int]] = defaultdict(set)
        for iid, ts in self.targets.items():
            for t in ts:
                if t.scope == "each" and t.basis == "own" and t.depth is not None \
                        and t.depth >= self.scope.depth and t.unit_id is None \
                        and not self._sql_each_applies(self.by_id[iid], t):
                    by_depth[t.depth].add(iid)
        for depth, iids in by_depth.items():
            self.load_own([x[0] for x in self.light_under_scope(depth)], sorted(iids))

    def _each_map(self, ind: Indicator, t: Target) -> dict[int, tuple[bool, bool]]:
        """unit id → (has data, meets) for every unit at the target's depth under the scope."""
        if t.id not in self._each:
            pool = self.light_under_scope(t.depth) if t.depth >= self.scope.depth else []
            ids = [x[0] for x in pool]
            out: dict[int, tuple[bool, bool]] = {}
            if t.basis == "subtree":
                units = {u.id: u for u in self.session.exec(select(Unit).where(Unit.id.in_(ids))).all()} \
                    if ids else {}
                self.prepare(list(units.values()))
                for uid, u in units.items():
                    status = evaluate(t, ind, self.subtree_figure(u, ind), self.period).status
                    out[uid] = (status != NO_DATA, status == MET)
            else:
                self.load_own(ids, [ind.id])
                for uid, _path, nr in pool:
                    acc = self._own.get((uid, ind.id))
                    expected = None
                    if ind.measure == "yes_no":
                        expected = 1 if counts_toward(ind, t.depth, nr) else 0
                    parts = actual_parts(t, ind, acc, expected, self.period)
                    out[uid] = (False, False) if parts is None else (True, meets(t, *parts)[0])
            self._each[t.id] = out
        return self._each[t.id]

    def evaluate_each(self, viewed: Unit, ind: Indicator, t: Target) -> TargetResult | None:
        if t.depth is None or viewed.depth > t.depth:
            return None
        scope_unit = (self.session.get(Unit, t.unit_id) if t.unit_id not in (None, self.root.id)
                      else (self.root if t.unit_id else None))
        if scope_unit is not None and not (viewed.path.startswith(scope_unit.path)
                                           or scope_unit.path.startswith(viewed.path)):
            return None
        if scope_unit is None and self._sql_each_applies(ind, t):
            return self._each_by_sql(viewed, ind, t)
        units = self.light_at(viewed, t.depth)
        if scope_unit is not None:
            units = [x for x in units if x[1].startswith(scope_unit.path)]
        status_of = self._each_map(ind, t)
        meeting, failing, any_data = 0, [], False
        for uid, _path, _nr in units:
            has, ok = status_of.get(uid, (False, False))
            any_data = any_data or has
            if ok:
                meeting += 1
            else:
                failing.append(uid)
        return self._summary(t, len(units), meeting, failing, any_data)

    # -- "each" over a level two or more below the scope (each commune of a province): counted
    # in SQL, so that thousands of units never travel to Python.
    sql_each = True

    def _sql_each_applies(self, ind: Indicator, t: Target) -> bool:
        return self.sql_each and t.depth >= self.scope.depth + 2 and counted_in_sql(t, ind)

    def _each_counts(self, ind: Indicator, t: Target) -> dict[int, tuple[int, int]]:
        """child of the scope → (units with data, units meeting) among its units at t.depth.

        Every SQL-counted `each` target at the same depth is counted by one query."""
        key = -t.id
        if key not in self._each:
            same = [x for xs in self.targets.values() for x in xs
                    if x.scope == "each" and x.depth == t.depth and x.unit_id is None
                    and self._sql_each_applies(self.by_id[x.indicator_id], x)]
            for x in same:
                self._each[-x.id] = {}
            if self._each_kept_counts(same):
                return self._each[key]
            pool = self.light_under_scope(t.depth)
            steps = (len(path_ids(pool[0][1])) - len(path_ids(self.scope.path))) if pool else 1
            q = each_count_statement(steps,
                                      tuple((x.indicator_id, x.comparator, x.frac) for x in same),
                                      self.period.first > 1)
            end = self.period.end
            prev = f"{self.period.year}-{self.period.first - 1:02d}" if self.period.first > 1 else end
            params = {"scope_id": self.scope.id, "depth": t.depth, "end": end, "prev": prev, "day": self.day}
            for row in self.session.execute(q, params):
                cid, iid, n = row[0], row[1], int(row[2])
                for x, m in zip(same, row[3:], strict=True):
                    if x.indicator_id == iid:
                        self._each[-x.id][cid] = (n, int(m or 0))
        return self._each[key]

    def _each_kept_counts(self, same: list[TargetFacts]) -> bool:
        """Fill the counts of `same` per child of the scope from `rollup_each`, when it holds
        them for this span with the targets' current terms; False → count from `rollup_own`."""
        rows = self.session.execute(EACH_READ, {
            "scope_id": self.scope.id, "tids": [x.id for x in same],
            "ps": self.period.start, "pe": self.period.end}).all()
        by_id = {x.id: x for x in same}
        found: set[int] = set()
        for uid, tid, iid, depth, comparator, value, _w, _m in rows:
            x = by_id[tid]
            if (iid, depth, comparator, value) != (x.indicator_id, x.depth, x.comparator, x.value):
                return False  # the target changed since the last rebuild
            if uid == self.scope.id:
                found.add(tid)
        if found != set(by_id):
            return False
        for uid, tid, _i, _d, _c, _v, with_data, meeting in rows:
            if uid != self.scope.id:
                self._each[-tid][uid] = (int(with_data), int(meeting))
        return True

    def _each_by_sql(self, viewed: Unit, ind: Indicator, t: Target) -> TargetResult:
        counts = self._each_counts(ind, t)
        if viewed.id == self.scope.id:
            with_data = sum(c[0] for c in counts.values())
            meeting = sum(c[1] for c in counts.values())
        else:
            with_data, meeting = counts.get(viewed.id, (0, 0))
        total = self._units_below(viewed, t.depth)
        r = self._summary(t, total, meeting, [], with_data > 0)
        r.units_failing = LazyUnits(self.session, length=total - meeting,
                                     loader=self._failing_loader(viewed, ind, t))
        return r

    def _units_below(self, unit: Unit, depth: int) -> int:
        counts = getattr(self, "_counts", None)
        if counts and (unit.id, depth) in counts:  # read with the cells already
            return counts[(unit.id, depth)][0]
        if unit.id not in self._below:
            self._below[unit.id] = {d: n for d, n in self.session.execute(
                sa_select(count_col.depth, count_col.units)
                .where(count_col.unit_id == unit.id, count_col.period == self.period.end))}
        n = self._below[unit.id].get(depth)
        return n if n is not None else len(light_under(self.session, unit, depth, self.day, self.year))

    def _failing_loader(self, viewed: Unit, ind: Indicator, t: Target):
        def load() -> list[Unit]:
            ids = [x[0] for x in light_under(self.session, viewed, t.depth, self.day, self.year)]
            self.load_own(ids, [ind.id])
            failing = []
            for uid in ids:
                parts = actual_parts(t, ind, self._own.get((uid, ind.id)), None, self.period)
                if parts is None or not meets(t, *parts)[0]:
                    failing.append(uid)
            lazy = LazyUnits(self.session, failing)
            return list(lazy)
        return load

