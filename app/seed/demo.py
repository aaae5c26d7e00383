"""Demo accounts (listed in `app.accounts.demo`) and demo figures for the first months.

Demo only: a production start refuses SEED_DEMO_USERS.
"""
import random
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from app.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from app.accounts.models import User
from app.accounts.security import hash_password
from app.core.time import utcnow
from app.program.models import Indicator, Program
from app.rollup.service import rebuild
from app.units import tree
from app.units.models import Unit
from app.units.time import in_force_clause, unit_by_code_on, year_attributes
from app.values.models import DataValue, PeriodSubmission


def seed_demo_users(session: Session) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, unit_code, role in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first() is not None:
            continue
        unit = unit_by_code_on(session, unit_code, date(2023, 12, 31))
        if unit is None:
            continue
        session.add(User(username=username, full_name=full_name, unit_id=unit.id, role=role,
                         password_hash=password_hash, is_demo=True))
    session.flush()


def _draw_unit(u: Unit, put: Callable[..., None], rng: random.Random, month_list: list[int], months: int,
               villages_of: dict[int, list[Unit]], attr: Callable[[Unit, str], Any]) -> None:
    """One unit's demo figures, drawn in a fixed order (the same seed gives the same figures)."""
    if u.depth in (0, 1, 2):  # CT01 cadres studied (stock, grows month by month)
        total = {0: 60, 1: 35, 2: 12}[u.depth] + rng.randint(0, 6)
        share = rng.uniform(0.6, 0.85)
        for m in month_list:
            share = min(1.0, share + rng.uniform(0.03, 0.1))
            put(u, "CT01", m, num=int(total * share), den=total)
    if u.depth in (1, 2):  # CT03 fanpage active
        answer = 1 if rng.random() < 0.85 else 0
        put(u, "CT03", 1, answer)
        if answer == 0 and months >= 3 and rng.random() < 0.5:
            put(u, "CT03", 3, 1)
    if u.depth == 0:
        put(u, "CT05", 2, 1)
        put(u, "CT12", 2, 3)
        put(u, "CT12", 3, 2)
        put(u, "CT13", 3, 1)
        put(u, "CT17", 3, 1)
        put(u, "CT18", 3, 1)
        for m in month_list:
            put(u, "CT15", m, rng.randint(4, 12) * 100_000_000)
    if u.depth == 1:
        for m in month_list:
            houses = rng.choice((0, 0, 1, 1, 2))
            if houses:
                put(u, "CT12", m, houses)
            put(u, "CT15", m, rng.randint(5, 30) * 10_000_000)
        if rng.random() < 0.6:
            put(u, "CT13", rng.choice(month_list), 1)
        if rng.random() < 0.7:
            put(u, "CT17", rng.choice(month_list), 1)
        if rng.random() < 0.4:
            put(u, "CT18", rng.choice(month_list), 1)
    _draw_local(u, put, rng, month_list, villages_of, attr)


def _draw_local(u: Unit, put: Callable[..., None], rng: random.Random, month_list: list[int],
                villages_of: dict[int, list[Unit]], attr: Callable[[Unit, str], Any]) -> None:
    """A commune's and a village's own figures (after what every level draws)."""
    if u.depth == 2:
        vs = villages_of.get(u.id, [])
        population = sum(attr(v, 'population') or 0 for v in vs) or rng.randint(2000, 9000)
        reached = rng.uniform(0.7, 0.9)
        for m in month_list:
            reached = min(1.0, reached + rng.uniform(0.0, 0.05))
            put(u, "CT02", m, num=int(population * reached), den=population)
            if rng.random() < 0.08:
                put(u, "CT06", m, 1)
            helped = rng.choice((0, 0, 0, 1, 1, 2))
            if helped:
                put(u, "CT14", m, helped)
            put(u, "CT15", m, rng.randint(5, 40) * 1_000_000)
        if attr(u, "new_rural") in ("recognised", "expected"):
            put(u, "CT16", 1, 1 if rng.random() < 0.9 else 0)
        if rng.random() < 0.45:
            put(u, "CT17", rng.choice(month_list), 1)
    if u.depth == 3:
        put(u, "CT04", 1, 1 if rng.random() < 0.55 else 0)
        put(u, "CT07", 1, rng.randint(1, 3))
        put(u, "CT10", 1, 1 if rng.random() < 0.74 else 0)
        households = attr(u, 'households') or rng.randint(60, 260)
        share = rng.uniform(0.72, 0.9)
        for m in month_list:
            share = min(1.0, share + rng.uniform(0.0, 0.02))
            put(u, "CT11", m, num=int(households * share), den=households)


def _draw_submissions(by_depth: dict[int, list[Unit]], month_list: list[int], rng: random.Random,
                      clock: random.Random, now: datetime) -> list[dict]:
    """Most communes and districts have sent January; fewer the later months."""
    subs = []
    for u in by_depth.get(1, []) + by_depth.get(2, []):
        for m, p in zip(month_list, (0.95, 0.85, 0.6, 0.4, 0.3, 0.2), strict=False):
            if rng.random() < p:
                # Sent between the 5th and the 24th of the next month: most before the
                # reporting day (the 20th), a few after it.
                sent = datetime(2023, m + 1, clock.randint(5, 24), 10, tzinfo=UTC)
                subs.append({"unit_id": u.id, "period": f"2023-{m:02d}", "status": "submitted",
                             "submitted_at": min(sent, now)})
    return subs


def seed_demo_values(session: Session, months: int = 3) -> None:
    """Figures for January–March 2023 at every level, and some months marked submitted, so a
    fresh start shows a living dashboard. Demo only; skipped when any figure exists.

    Plausible, not real: drawn with a fixed seed. Every date is inside 2023: a month's figures
    were entered early in the next month and its report sent between the 5th and the 24th
    (a few after the reporting day, so the dashboard's band shows some late). The Great Unity Day (CT08, CT09) is held in
    November, so it stays empty ("no data yet"). Rows go in with one bulk insert, then the
    roll-up is rebuilt once.
    """
    if session.exec(select(DataValue.id)).first() is not None:
        return
    program = session.exec(select(Program).where(Program.year == 2023)).first()
    if program is None:
        return
    rng = random.Random(2023)
    clock = random.Random(2024)  # dates only, so the figures drawn stay the same
    ind = {i.code: i for i in session.exec(select(Indicator).where(Indicator.program_id == program.id))}
    units = list(session.exec(select(Unit).where(in_force_clause(date(2023, 12, 31)))
                              .order_by(Unit.depth, Unit.id)).all())
    attrs = year_attributes(session, 2023)

    def attr(u: Unit, name: str):
        a = attrs.get(u.id)
        return getattr(a, name) if a is not None else None

    by_depth: dict[int, list[Unit]] = {}
    for u in units:
        by_depth.setdefault(u.depth, []).append(u)
    villages_of: dict[int, list[Unit]] = {}
    for v in by_depth.get(3, []):
        villages_of.setdefault(v.parent_id, []).append(v)
    now = utcnow()
    rows: list[dict] = []

    def entered(m: int) -> datetime:
        """When a month's figure was entered: early in the next month, inside 2023."""
        when = datetime(2023, m + 1, clock.randint(1, 15), 9, tzinfo=UTC) if m < 12 \
            else datetime(2023, 12, 28, 9, tzinfo=UTC)
        return min(when, now)

    def put(unit: Unit, code: str, m: int, value: int | None = None, num: int | None = None,
            den: int | None = None) -> None:
        at = entered(m)
        rows.append({"unit_id": unit.id, "indicator_id": ind[code].id, "period": f"2023-{m:02d}",
                     "value": value, "numerator": num, "denominator": den, "version": 1,
                     "created_at": at, "updated_at": at, "updated_via": "seed"})

    month_list = list(range(1, months + 1))
    for u in units:
        _draw_unit(u, put, rng, month_list, months, villages_of, attr)
    for i in range(0, len(rows), 5000):
        session.execute(insert(DataValue.__table__), rows[i:i + 5000])
    subs = _draw_submissions(by_depth, month_list, rng, clock, now)
    if subs:
        session.execute(insert(PeriodSubmission), subs)
    session.flush()
    rebuild(session)


def seed_demo_task_progress(session: Session) -> None:
    """Demo progress of the province's first-quarter tasks: most done, the rest under way;
    every date (done, noted, updated) inside 2023, like the demo figures."""
    from datetime import UTC, date, datetime

    from app.program.models import Program, Task, TaskNote

    program = session.exec(select(Program).where(Program.year == 2023)).first()
    if program is None:
        return
    root_tasks = list(session.exec(select(Task).where(
        Task.program_id == program.id, Task.plan_unit_id == program.root_unit_id,
        Task.parent_id == None, Task.quarter == 1).order_by(Task.number)))  # noqa: E711
    if not root_tasks or any(t.status != "not_started" for t in root_tasks):
        return
    def at(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, 10, tzinfo=UTC)

    for t in root_tasks:
        if t.number <= 9:
            t.status, t.done_on = "done", date(2023, 2 + t.number % 2, 10 + t.number)
            session.add(TaskNote(task_id=t.id, noted_on=t.done_on, created_at=at(t.done_on),
                                 text="Đã hoàn thành (số liệu minh họa)."))
            t.updated_at = at(t.done_on)
        else:
            t.status = "in_progress"
            session.add(TaskNote(task_id=t.id, noted_on=date(2023, 3, 20), created_at=at(date(2023, 3, 20)),
                                 text="Đang triển khai, dự kiến xong trong quý II (số liệu minh họa)."))
            t.updated_at = at(date(2023, 3, 20))
        t.version += 1
        session.add(t)
    session.flush()


# --------------------------------------------------------------------------------------------
# The demo 2026 program on the two-tier tree (from 01/07/2025)
# --------------------------------------------------------------------------------------------

DEMO_YEAR = 2026
DEMO_2026_COMMUNE_CODE = "04726"  # Xã Cảm Nhân, which absorbed Xã Xuân Long on 01/07/2025
DEMO_USERS_2026 = [
    ("laocai.quantri", "Quản trị cấp tỉnh Lào Cai", "15", "admin"),
    ("laocai.nhaplieu", "Cán bộ nhập liệu cấp tỉnh Lào Cai", "15", "editor"),
    ("laocai.xem", "Lãnh đạo theo dõi cấp tỉnh Lào Cai", "15", "viewer"),
    ("camnhan.nhaplieu", "Cán bộ nhập liệu xã Cảm Nhân", DEMO_2026_COMMUNE_CODE, "editor"),
]
DEMO_LABEL = " (minh họa)"
# New-rural and province-led communes of 2026: demo picks, in the 2023 proportions (106 of 173
# new-rural, 22 led), with a fixed seed; the province sets the real ones per year.
NEW_RURAL_2026, EXPECTED_2026, LED_2026, LED_EXPECTED_2026 = 57, 4, 12, 1


def seed_demo_2026(session: Session, *, users: bool, values: bool, months: int = 3) -> None:
    """A fresh start's second year: the two-tier Lào Cai tree in force from 01/07/2025 (from the
    installed package data, no network), its demo accounts, and a demo 2026 program made from
    2023 through the new-year flow (`app.program.lifecycle`: copied, adapted to two levels — a
    commune's targets where the district's were — published), labelled demo, with demo figures
    for January–March 2026. Skipped when a 2026 program exists; 2023 is left as it is."""
    import random

    from app.accounts.deps import Principal
    from app.program import lifecycle
    from app.program.models import Program
    from app.units.laocai_2025 import EFFECTIVE, load_laocai_2025
    from app.units.models import UnitYear

    if session.exec(select(Program.id).where(Program.year == DEMO_YEAR)).first() is not None:
        return
    if session.exec(select(Program.id).where(Program.year == 2023)).first() is None:
        return
    province = unit_by_code_on(session, "15", date(DEMO_YEAR, 1, 1))
    if province is None or province.valid_from != EFFECTIVE:
        report = load_laocai_2025(session, rebuild=False)  # rebuilt once at the end
        if not report.ok:
            raise RuntimeError("loading the 2025 Lào Cai tree failed: " + "; ".join(report.errors[:5]))
        province = unit_by_code_on(session, "15", date(DEMO_YEAR, 1, 1))
    communes = sorted(tree.children(session, province), key=lambda u: u.code)
    rng = random.Random(DEMO_YEAR)
    rural = [c for c in communes if c.kind == "xa"]
    picked = rng.sample(rural, min(len(rural), NEW_RURAL_2026 + EXPECTED_2026))
    recognised, expected = picked[:NEW_RURAL_2026], picked[NEW_RURAL_2026:]
    led = {c.id for c in recognised[:LED_2026] + expected[:LED_EXPECTED_2026]}
    for status, group in (("recognised", recognised), ("expected", expected)):
        for c in group:
            session.add(UnitYear(unit_id=c.id, year=DEMO_YEAR, new_rural=status, front_led=c.id in led,
                                  is_demo=True))
    session.flush()
    if users:
        _seed_users(session, DEMO_USERS_2026, date(DEMO_YEAR, 1, 1))
    admin = Principal(unit=province, role="admin", via="seed")
    program = lifecycle.create_draft(session, admin, DEMO_YEAR, copy_from=2023, with_tasks=True, via="seed")
    program.title += DEMO_LABEL
    program.source = ("Chương trình minh họa (demo), lập từ chương trình năm 2023 cho cây đơn vị hai cấp "
                      "từ 01/7/2025; không phải văn bản thật.")
    session.add(program)
    # Baselines are the province's to enter (with their source); the demo stands in the 2023
    # program's unconfirmed figure (no source: shown as a demo figure) so its targets can be judged.
    from app.program.models import Indicator

    for ind in session.exec(select(Indicator).where(Indicator.program_id == program.id,
                                                    Indicator.baseline_year.is_not(None))).all():
        if ind.baseline is None:
            ind.baseline = session.exec(select(Indicator.baseline).join(Program).where(
                Program.year == 2023, Indicator.code == ind.code)).first()
            session.add(ind)
    session.flush()
    lifecycle.publish(session, admin, program, via="seed")
    if values:
        _demo_values_2026(session, program, months)
    from app.rollup.service import rebuild

    rebuild(session)


def _seed_users(session: Session, users: list, day: date) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, unit_code, role in users:
        if session.exec(select(User).where(User.username == username)).first() is not None:
            continue
        unit = unit_by_code_on(session, unit_code, day)
        if unit is None:
            continue
        session.add(User(username=username, full_name=full_name, unit_id=unit.id, role=role,
                         password_hash=password_hash, is_demo=True))
    session.flush()


def _demo_values_2026(session: Session, program, months: int) -> None:
    """Plausible figures for January–March 2026 for every indicator at its entry levels, drawn with
    a fixed seed (demo only), entered early in the following month."""
    import random
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from app.core.time import utcnow
    from app.program import rules
    from app.program.models import Indicator
    from app.units.time import year_attributes
    from app.values.models import DataValue

    rng = random.Random(DEMO_YEAR + 1)
    day = date(DEMO_YEAR, 1, 31)
    root = session.get(Unit, program.root_unit_id)
    units = sorted(tree.subtree(session, root, day), key=lambda u: (u.depth, u.id))
    attrs = year_attributes(session, DEMO_YEAR)
    now = utcnow()
    rows = []
    for ind in session.exec(select(Indicator).where(Indicator.program_id == program.id)
                            .order_by(Indicator.number)).all():
        depths = set(rules.entry_depths(ind))
        for u in units:
            if u.depth not in depths:
                continue
            a = attrs.get(u.id)
            if ind.share_filter == "new_rural" and not (a and a.new_rural):
                continue
            for m in range(1, months + 1):
                value = num = den = None
                if ind.measure == "yes_no":
                    if m > 1:
                        break
                    value = 1 if rng.random() < 0.7 else 0
                elif ind.measure == "ratio":
                    den = (a.households if a and a.households else rng.randint(60, 260)) if u.depth == 3 \
                        else rng.randint(20, 80)
                    num = int(den * rng.uniform(0.7, 0.95))
                elif ind.measure == "amount":
                    value = rng.randint(1, 30) * 1_000_000
                elif rng.random() < 0.5:
                    value = rng.randint(1, 3)
                else:
                    continue
                at = min(datetime(DEMO_YEAR, m + 1, rng.randint(1, 15), 9, tzinfo=UTC), now)
                rows.append({"unit_id": u.id, "indicator_id": ind.id, "period": f"{DEMO_YEAR}-{m:02d}",
                             "value": value, "numerator": num, "denominator": den, "version": 1,
                             "created_at": at, "updated_at": at, "updated_via": "seed"})
    for i in range(0, len(rows), 5000):
        session.execute(insert(DataValue.__table__), rows[i:i + 5000])
    session.flush()
