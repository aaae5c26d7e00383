"""Migration 0017 (unit_year.is_demo): rows only the seed could have written carry forward as
demo (a commune's new-rural status or province-led flag, any row of a demo village); sizes of a
real village stay real. It downgrades back."""
from sqlalchemy import text

from tests.core.test_figures_generation_migration import _migrate, empty_engine  # noqa: F401 - fixture

UNITS = [  # id, code, name, kind, depth, parent, path, is_demo
    (1, "15", "Yên Bái", "tinh", 0, None, "/1/", False),
    (2, "04720", "Xuân Long", "xa", 2, 1, "/1/2/", False),
    (3, "04721", "Tân Nguyên", "xa", 2, 1, "/1/3/", False),
    (4, "04720-01", "Thôn 1", "thon", 3, 2, "/1/2/4/", True),
    (5, "04720-T1", "Thôn Khe Lụa", "thon", 3, 2, "/1/2/5/", False),
]
YEARS = [  # unit, year, new_rural, front_led, households, population
    (2, 2023, "recognised", True, None, None),
    (3, 2023, None, True, None, None),
    (4, 2023, None, False, 120, 500),
    (5, 2023, None, False, 95, 400),
]


def test_upgrade_marks_the_seeds_rows_demo_and_downgrades(empty_engine):  # noqa: F811 - the imported fixture
    _migrate(empty_engine, "upgrade", "0016")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO unit_level (depth, key, name) VALUES (0, 'province', 'Tỉnh'), "
                          "(2, 'commune', 'Xã'), (3, 'village', 'Thôn')"))
        conn.execute(text("INSERT INTO unit_kind (code, name, depth) VALUES ('tinh', 'Tỉnh', 0), "
                          "('xa', 'Xã', 2), ('thon', 'Thôn', 3)"))
        for row in UNITS:
            conn.execute(text("INSERT INTO unit (id, code, name, kind, depth, parent_id, path, sort_order, is_demo) "
                              "VALUES (:i, :c, :n, :k, :d, :p, :path, 0, :demo)"),
                         dict(zip(("i", "c", "n", "k", "d", "p", "path", "demo"), row, strict=True)))
        for row in YEARS:
            conn.execute(text("INSERT INTO unit_year (unit_id, year, new_rural, front_led, households, population) "
                              "VALUES (:u, :y, :nr, :led, :h, :p)"),
                         dict(zip(("u", "y", "nr", "led", "h", "p"), row, strict=True)))
    _migrate(empty_engine, "upgrade", "0017")
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT unit_id, is_demo, households FROM unit_year ORDER BY unit_id")).all()
    assert [(u, bool(d), h) for u, d, h in rows] == [(2, True, None), (3, True, None), (4, True, 120), (5, False, 95)]
    _migrate(empty_engine, "downgrade", "0016")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit_year")).scalar_one() == 4
