"""Roll-up engine: every indicator of a unit's subtree over a period, against its targets.

Rules (PRODUCT.md, section "Indicators"):
- a unit's own figure over a period: flows sum the months of the period; stocks (and every
  yes/no) take the latest month entered at or before the period's last month, within the
  program year (a stock entered in March still stands in May; March and June → June wins);
- a subtree figure runs over the units of the subtree at the indicator's entry depths:
  count/amount Σ own figures; ratio Σnumerator / Σdenominator (never an average of
  percentages); yes/no = share of units: yes / units that should report (every unit at the
  entry depths, or only new-rural communes for share_filter "new_rural"), with the units that
  answered counted apart so "not yet reported" is never shown as "no";
- targets are evaluated by scope (total / own / each) with exact arithmetic (Fractions).

Design: pre-aggregated cells, kept up to date in the saving transaction.
A dashboard reads the figures of one unit and its children for every indicator; summing the
raw `data_value` rows of a subtree at read time means touching ~140,000 rows for a province
(~10 million nationally) and picking the latest month per unit for stocks, which costs tens to
hundreds of milliseconds. Instead `rollup_cell` (see `app.rollup.models`) holds, for every unit
that has entering units below it, every indicator and every month, the sum of its subtree's
*effective* figures: a flow's figure of the month, a stock's carried-forward latest figure.
So a period is read as one row per (unit, indicator) for stocks (the period's last month) and
one row per month for flows, whatever the size of the subtree: the province dashboard with its
district breakdown is ~1,000 small rows read by primary key. Units at an indicator's deepest
entry level (villages for village indicators) hold no cells: their figure is their own
`data_value` row, which keeps the table ~10× smaller than `data_value` itself.

A save changes one unit's effective figures for one month (flow) or for the months until its
next entry (stock), so `on_value_changed` reads that unit's ≤ 12 rows of the year, computes the
before/after effective vectors and upserts the differences into the cells of the unit's
ancestors (from `Unit.path`: at most depth × 12 rows), in the caller's transaction: a committed
figure and its roll-up never disagree. The batch form does the same for thousands of changes
with one read and one upsert per table, each kept row changed once (`app.rollup.batch`,
which applies these rules set-wise). `rollup_unit_count` caches, per unit and depth below it, how many
units should report (all, and new-rural ones) for share-of-units denominators and completeness.

"Each unit of a level" targets look at every unit of that level in the viewed subtree. One or
two levels down (each district of a province) the units' own rows are read and judged in
Python; further down (each commune of a province, of the country) `rollup_own` keeps each
unit's own flow figures summed from January, so a span is `row(last) − row(first − 1)` and one
grouped SQL query counts, per child of the viewed unit, the units with data and those meeting
the target (integer cross-multiplication, like everywhere else); the failing units are read
only if a page lists them. Those counts are also kept: `rollup_each` holds, per ancestor, per
such target and per span of months [a..b] of a year (78 spans), how many of the ancestor's
units at the target's level have data and how many meet it, so the national page reads one row
per province instead of judging 10,395 communes. A save judges the changed unit on every span
before and after and updates only the spans whose verdict changed, in all its ancestors at
once. The rows carry the target's terms (comparator, threshold): a target edited or added since
the last `rebuild` is counted by the grouped query above until the next one.

A page's first read is one round trip (`statements.fused_statement`): the own figures of the unit and its
children, their cells and their unit counts, as one UNION ALL. Statements that are costly to
build (the grouped count) are built once per shape and reused with parameters.

`rebuild` recomputes all four tables from `data_value` and the tree (seeding, imports of
units, recovery); a change of the tree (a unit moved, a commune's new-rural status changed)
needs a `rebuild`.

`raw_rollup` answers the same questions straight from `data_value` (the straightforward
design); it is the reference the tests compare the cells with, and the benchmark's baseline.
`check` compares every kept table with what `rebuild` would write and lists the differences
(`python -m app.cli rollup check`, the load bench, the tests).

Concurrency: exact under any interleaving, at PostgreSQL's default READ COMMITTED and on SQLite.
A save's change to the kept tables is (after − before) of one unit's effective figures for one
(unit, indicator, year); "before" is read from `data_value`. Two transactions changing the
same (unit, indicator) at once, each reading "before" without seeing the other's uncommitted
row (a stock's March and May, the same flow month twice), would add changes that do not sum
to the truth. So:

1. *What is locked.* Before it reads anything it will change, a transaction locks every
   (unit, indicator) it will write, with `lock_figures`: on PostgreSQL a transaction-scoped
   advisory lock per pair (`figure_lock_key`), after the roll-up lock EVERYTHING in shared
   mode; a batch of more than MANY_FIGURES pairs takes EVERYTHING exclusively instead (a
   bounded number of locks however large the import), and so does `rebuild`. The figures are
   read after the lock is granted, and at READ COMMITTED each statement sees everything
   committed before it: the "before" is the last committed figure, the version check sees the
   latest version, and a concurrent second save of the same figure becomes a 409 instead of an
   overwrite. On SQLite the request already holds the database's write lock from its start
   (`app.core.db`), which serialises writers; a script's deferred transaction that read
   before another writer committed is refused by SQLite rather than allowed to write.
2. *Changes commute.* The kept rows are changed by relative amounts (`x = x + :delta`, an
   upsert that adds), never set to a value computed from a read, so two transactions on
   different units of one subtree can both add to the province's cell in either order.
3. *Order, and why it cannot deadlock.* Every transaction takes its advisory locks in one
   call, EVERYTHING first, then the pairs in ascending key order (the sort sits under
   OFFSET 0 so the locking call sees the rows in that order); it then writes its roll-up
   changes in one pass (`on_values_changed` once: the whole page, the whole batch):
   `rollup_cell` rows in (unit, indicator, month) order, `rollup_own` rows of its own locked
   units only, `rollup_each` rows one per statement in (unit, target, span) order. A
   transaction waiting for an advisory lock holds no roll-up row, and one writing roll-up rows
   never asks for an advisory lock again; all row locks are taken in one global order. So no
   cycle of waits can form. A caller that saves twice in one transaction (a script, a test)
   steps outside that order: PostgreSQL then detects any deadlock within a second and aborts
   one transaction, which the web answers as 503 with Retry-After (nothing written).
4. *Readers* never lock: they read committed cells. `check` reads in one snapshot
   (REPEATABLE READ on PostgreSQL, a read transaction on SQLite) while saves go on.

A submission locks all of its unit's pairs too, so a save in flight finishes before the month
is marked submitted and a later save sees it submitted.

The rooms of the engine (this module is the front door: it re-exports what callers use):

- `rules`: the pure rules (whose figures count, effective months, cumulative spans, the figure);
- `comparators`: the comparator table, read by Python and SQL alike; `judging`: a figure
  against a target, exactly;
- `statements`: the SQL, built once; `subtree`: the units a read looks at;
- `reads`: the reads from the kept tables; `each`: "each unit of a level" targets (their kept
  counts and their judging); `raw`: the raw reference; `completeness`: who submitted a month;
- `save` (locks, upkeep after a save) and `batch` (the upkeep, set-wise); `rebuild` and `check`.
"""
from app.rollup.check import Difference, check
from app.rollup.completeness import Completeness, LevelCompleteness, completeness
from app.rollup.judging import actual_of, evaluate
from app.rollup.raw import raw_rollup
from app.rollup.reads import breakdown, dashboard, drill, rollup
from app.rollup.rebuild import rebuild, rebuild_unit_counts
from app.rollup.save import (
    EVERYTHING,
    MANY_FIGURES,
    figure_lock_key,
    lock_everything,
    lock_figures,
    on_value_changed,
    on_values_changed,
)
from app.rollup.types import ValueChange

__all__ = ["rollup", "breakdown", "dashboard", "drill", "completeness", "on_value_changed",
           "on_values_changed", "rebuild", "rebuild_unit_counts", "raw_rollup", "evaluate",
           "actual_of", "Completeness", "LevelCompleteness", "ValueChange", "lock_figures",
           "lock_everything", "figure_lock_key", "EVERYTHING", "MANY_FIGURES", "check", "Difference"]
