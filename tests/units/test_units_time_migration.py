"""Migration 0012 (units in time): a database made by the previous release (head 0011) with a
2023 program, figures and its kept roll-up upgrades with every figure intact: the kept tables
equal a rebuild by the new code, the 2023 figures read the same, the unit attributes are the
2023 rows of `unit_year`, whole-year validity became dates, and a code can then be reused by a
later unit. It downgrades back."""
from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from tests.program.test_program_lifecycle_migration import _migrate, empty_engine  # noqa: F401 - fixture

# Province 1 → districts 2, 3 → communes 4, 5 (under 2) and 6 (under 3) → village 7 (under 4).
# Commune 4 is new-rural and led by the province Front; village 7 has 120 households, 500 people.
# District 3 was in force until 2023 only (a whole year, as 0011 stored it).
UNITS = [
    (1, "15", "Yên Bái", "tinh", 0, None, "/1/", None, False, None, None, None, None),
    (2, "141", "Yên Bình", "huyen", 1, 1, "/1/2/", None, False, None, None, None, None),
    (3, "133", "Lục Yên", "huyen", 1, 1, "/1/3/", None, False, None, None, None, 2023),
    (4, "04720", "Xuân Long", "xa", 2, 2, "/1/2/4/", "recognised", True, None, None, None, None),
    (5, "04721", "Tân Nguyên", "xa", 2, 2, "/1/2/5/", None, False, None, None, None, None),
    (6, "04480", "Yên Thế", "thi-tran", 2, 3, "/1/3/6/", None, False, None, None, None, None),
    (7, "04720-01", "Thôn 1", "thon", 3, 4, "/1/2/4/7/", None, False, 120, 500, None, None),
]
LEVELS = [(0, "province", "Cấp tỉnh"), (1, "district", "Cấp huyện"), (2, "commune", "Cấp xã"),
          (3, "village", "Thôn")]
KINDS = [("tinh", "Tỉnh", 0), ("huyen", "Huyện", 1), ("xa", "Xã", 2), ("thi-tran", "Thị trấn", 2),
         ("thon", "Thôn", 3)]
# I1: supervisions (count, flow, entered by communes); I2: new-rural communes' answer (yes/no,
# stock, share of new-rural communes). Figures: commune 4 I1 Jan 3, commune 6 I1 Feb 4,
# commune 4 I2 Jan yes.
FIGURES = [(4, 1, "2023-01", 3), (6, 1, "2023-02", 4), (4, 2, "2023-01", 1)]


def _old_kept_rows() -> tuple[list, list, list]:
    """The roll-up 0011 kept for FIGURES, worked out by hand."""
    cells = [(1, 1, "2023-01", 3, 1), (2, 1, "2023-01", 3, 1), (1, 1, "2023-02", 4, 1), (3, 1, "2023-02", 4, 1)]
    for m in range(1, 13):  # the stock's "yes" stands from January on, in the province and district 2
        cells += [(1, 2, f"2023-{m:02d}", 1, 1), (2, 2, f"2023-{m:02d}", 1, 1)]
    own = [(4, 1, f"2023-{m:02d}", 3, 1) for m in range(1, 13)] + \
          [(6, 1, f"2023-{m:02d}", 4, 1) for m in range(2, 13)]
    counts = [(1, 1, 2, 0), (1, 2, 3, 1), (1, 3, 1, 0), (2, 2, 2, 1), (2, 3, 1, 0), (3, 2, 1, 0), (4, 3, 1, 0)]
    return cells, own, counts


def _fill_0011(conn) -> None:
    for d, k, n in LEVELS:
        conn.execute(text("INSERT INTO unit_level (depth, key, name) VALUES (:d, :k, :n)"), {"d": d, "k": k, "n": n})
    for c, n, d in KINDS:
        conn.execute(text("INSERT INTO unit_kind (code, name, depth) VALUES (:c, :n, :d)"), {"c": c, "n": n, "d": d})
    for uid, code, name, kind, depth, parent, path, nr, led, hh, pop, vf, vt in UNITS:
        conn.execute(text(
            "INSERT INTO unit (id, code, name, kind, depth, parent_id, path, sort_order, new_rural, front_led, "
            "households, population, is_demo, valid_from, valid_to) VALUES (:id, :code, :name, :kind, :depth, "
            ":parent, :path, 0, :nr, :led, :hh, :pop, false, :vf, :vt)"),
            {"id": uid, "code": code, "name": name, "kind": kind, "depth": depth, "parent": parent, "path": path,
             "nr": nr, "led": led, "hh": hh, "pop": pop, "vf": vf, "vt": vt})
    conn.execute(text("INSERT INTO program (id, year, title, theme, motto, root_unit_id, status) "
                      "VALUES (1, 2023, 'Chương trình 2023', 'Chủ đề', 'Phương châm', 1, 'published')"))
    conn.execute(text(
        "INSERT INTO indicator (id, program_id, code, number, name, short_name, measure, entry_depths, "
        "time_rollup, share_filter) VALUES "
        "(1, 1, 'CT17', 1, 'Giám sát', 'Giám sát', 'count', '2', 'flow', 'all'), "
        "(2, 1, 'CT16', 2, 'Nông thôn mới', 'NTM', 'yes_no', '2', 'stock', 'new_rural')"))
    for i, (uid, iid, per, v) in enumerate(FIGURES, start=1):
        conn.execute(text(
            "INSERT INTO data_value (id, unit_id, indicator_id, period, value, version, created_at, updated_at, "
            "updated_via) VALUES (:id, :u, :i, :p, :v, 1, :t, :t, 'web')"),
            {"id": i, "u": uid, "i": iid, "p": per, "v": v, "t": "2023-03-01 00:00:00"})
    cells, own, counts = _old_kept_rows()
    for table, rows in (("rollup_cell", cells), ("rollup_own", own)):
        for u, i, p, v, r in rows:
            conn.execute(text(f"INSERT INTO {table} (unit_id, indicator_id, period, value_sum, num_sum, den_sum, "
                              "reported_count) VALUES (:u, :i, :p, :v, 0, 0, :r)"), {"u": u, "i": i, "p": p, "v": v, "r": r})
    for u, d, n, nr in counts:
        conn.execute(text("INSERT INTO rollup_unit_count (unit_id, depth, units, new_rural) VALUES (:u, :d, :n, :nr)"),
                     {"u": u, "d": d, "n": n, "nr": nr})


def test_upgrade_from_0011_keeps_2023_figures_and_rollups(empty_engine):  # noqa: F811
    from app.program.models import Program
    from app.program.periods import PeriodRange
    from app.rollup.service import check, completeness, rollup
    from app.units.models import Unit

    _migrate(empty_engine, "upgrade", "0011")
    with empty_engine.begin() as conn:
        _fill_0011(conn)
    _migrate(empty_engine, "upgrade", "0012")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT unit_id, year, new_rural, front_led, households, population FROM unit_year "
                                 "ORDER BY unit_id")).all() == [(4, 2023, "recognised", True, None, None),
                                                                (7, 2023, None, False, 120, 500)]
        assert conn.execute(text("SELECT count(*) FROM rollup_unit_count")).scalar_one() == 7 * 12
        assert conn.execute(text("SELECT count(*) FROM data_value")).scalar_one() == 3
    _migrate(empty_engine, "upgrade", "head")  # the models below are today's
    with Session(empty_engine) as s:
        assert (s.get(Unit, 3).valid_from, s.get(Unit, 3).valid_to) == (None, date(2023, 12, 31))
        assert check(s) == []  # the kept tables, carried over, are what the new code computes
        program, province = s.get(Program, 1), s.get(Unit, 1)
        by_code = {r.indicator.code: r for r in rollup(s, province, PeriodRange.parse("2023-Q1"), program)}
        assert by_code["CT17"].subtree.value == 7  # 3 + 4
        fig = by_code["CT16"].subtree
        assert (fig.numerator, fig.expected) == (1, 1)  # one new-rural commune, and it said yes
        assert [(lv.depth, lv.total) for lv in completeness(s, province, "2023-03").levels] == [(1, 2), (2, 3), (3, 1)]
        # A code is now unique only among units in force together: 133 is reused from 2024.
        reused = Unit(id=99, code="133", name="Lục Yên mới", kind="huyen", depth=1, parent_id=1, path="/1/99/",
                      valid_from=date(2024, 1, 1))
        s.add(reused)
        s.commit()
        s.delete(reused)  # (the old schema's unique code would refuse the downgrade)
        s.commit()
    _migrate(empty_engine, "downgrade", "0011")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT new_rural, front_led FROM unit WHERE id = 4")).one() == ("recognised", True)
        assert conn.execute(text("SELECT valid_to FROM unit WHERE id = 3")).scalar_one() == 2023
        assert conn.execute(text("SELECT count(*) FROM rollup_unit_count")).scalar_one() == 7
