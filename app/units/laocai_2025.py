"""The two-tier Lào Cai tree in force from 01/07/2025, from installed package data (no network).

On 01/07/2025 Yên Bái province was merged into Lào Cai (code 15 kept) and the district level
was abolished: province → commune (xã, phường) → village. This loads, as one tree version
through the unit importer (`app.units.importer.import_rows`, effective 01/07/2025):

- the province and its 99 commune-level units from the pinned `vietnam-provinces` release
  (2025.10.1: the list after the reform), each commune directly under the province;
- every former Yên Bái unit (province, districts, communes, villages) ends on 30/06/2025
  (`--retire 15`): code 15 and the commune codes reused by the new list name the new units from
  01/07/2025, the old ones stay as they were for 2023 and every figure entered on them;
- which former Yên Bái communes each new commune absorbed, as successor links (merged into; a
  new commune made of exactly one former commune: renamed), from `vietnamadminunits`' 2025
  converter data: its table of new wards → former (province, district, ward) keys, the one
  `convert_address_2025` reads for an address without a street, joined to GSO codes through the
  package's legacy list. Former Lào Cai (province 10) communes are not in this database and are
  left out of the links;
- demo villages for the new communes (8 to 10 each, `is_demo`, households and population for
  2026 drawn with a fixed seed), to be replaced by a real list with `import-units --replace-demo`.
"""
import json
import random
import sqlite3
from datetime import date

from sqlmodel import Session

from app.core.package_data import package_data
from app.units.importer import ImportReport, import_rows

EFFECTIVE = date(2025, 7, 1)
PROVINCE_CODE = "15"
VILLAGE_YEAR = 2026  # the year the demo villages' households and population are drawn for
KIND_OF = {"tỉnh": "tinh", "thành phố": "thanh-pho-tw", "xã": "xa", "phường": "phuong", "đặc khu": "xa"}


def new_communes() -> tuple[dict, list[dict]]:
    """The province and its commune-level units as `vietnam-provinces` lists them."""
    data = json.loads(package_data("vietnam_provinces", "data", "nested-divisions.json")
                      .read_text(encoding="utf-8"))
    province = next(p for p in data if p["code"] == int(PROVINCE_CODE))
    return province, province["wards"]


def absorbed() -> dict[str, list[tuple[str, str, str]]]:
    """New commune's full name ("Phường Cầu Thia") → GSO codes of the former Yên Bái communes it
    absorbed (code, district's and commune's full names in the list of 2024–2025), from
    `vietnamadminunits`' converter data. Matched by name: the two packages give
    some new communes different codes (Cầu Thia is 04291 in `vietnam-provinces`, 04681 in
    `vietnamadminunits`); the former communes' codes are the GSO codes of the old list."""
    root = package_data("vietnamadminunits", "data")  # the package's data only: not imported
    converter = json.loads((root / "converter_2025.json").read_text(encoding="utf-8"))
    conn = sqlite3.connect(f"file:{root / 'dataset.db'}?mode=ro", uri=True)
    try:
        new_keys = dict(conn.execute(
            "SELECT wardKey, ward FROM admin_units WHERE provinceKey = 'tinhlaocai'").fetchall())
        old_codes = {f"{p}_{d}_{w}": (code, dn, wn) for p, d, w, code, dn, wn in conn.execute(
            "SELECT provinceKey, districtKey, wardKey, wardCode, district, ward FROM admin_units_legacy "
            "WHERE provinceKey = 'tinhyenbai'")}
    finally:
        conn.close()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for new_key, old_keys in converter["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhlaocai"].items():
        name = new_keys.get(new_key)
        if name is None:
            continue
        out[name] = [old_codes[k] for k in old_keys if k in old_codes]
    # Former communes divided among several new ones go to the converter's default new ward.
    for old_key, wards in converter["DICT_PROVINCE_WARD_DIVIDED"].get("tinhlaocai", {}).items():
        default = next((w["newWardKey"] for w in wards if w.get("isDefaultNewWard")), None)
        if old_key in old_codes and default in new_keys:
            out.setdefault(new_keys[default], []).append(old_codes[old_key])
    return out


def tree_rows(*, villages: bool = True, known: set[str] | None = None,
              by_name: dict[tuple[str, str], str] | None = None) -> list[tuple[int, dict[str, str]]]:
    """The rows the importer reads, numbered as lines of a file would be; successor links only to
    the former communes in `known` (the codes in force on 30/06/2025 in this database). A former
    commune whose code the database does not hold (the 2024 mergers renumbered a few) is found
    by its district's and its own full names (`by_name`)."""
    province, wards = new_communes()
    links = absorbed()
    rows: list[dict[str, str]] = [{"code": PROVINCE_CODE, "name": province["name"], "kind": "tinh",
                                   "parent_code": "", "from_codes": PROVINCE_CODE, "change": "merged_into"}]
    for order, w in enumerate(sorted(wards, key=lambda w: w["code"])):
        code = f"{w['code']:05d}"
        kind = KIND_OF.get(w["division_type"], "xa")
        prefix = {"xa": "Xã ", "phuong": "Phường "}.get(kind, "")
        name = w["name"][len(prefix):] if prefix and w["name"].startswith(prefix) else w["name"]
        sources = []
        for old_code, district, ward in links.get(w["name"], []):
            if known is None or old_code in known:
                sources.append(old_code)
            elif by_name and (district, ward) in by_name:
                sources.append(by_name[(district, ward)])
        sources = list(dict.fromkeys(sources))
        rows.append({"code": code, "name": name, "kind": kind, "parent_code": PROVINCE_CODE,
                     "sort_order": str(order), "from_codes": " ".join(sources),
                     "change": "renamed" if len(sources) == 1 else "merged_into"})
        if villages:
            rows += _demo_villages(code, kind)
    return list(enumerate(rows, start=2))


def _demo_villages(commune: str, kind: str) -> list[dict[str, str]]:
    n = 8 + int(commune) % 3
    v_kind, label = ("to-dan-pho", "Tổ dân phố") if kind == "phuong" else ("thon", "Thôn")
    rng = random.Random(int(commune) + 2025)  # noqa: S311 - demo village sizes, not a secret
    out = []
    for i in range(1, n + 1):
        households = rng.randint(60, 260)
        out.append({"code": f"{commune}-{i:02d}", "name": f"{label} {i}", "kind": v_kind, "parent_code": commune,
                    "sort_order": str(i), "households": str(households),
                    "population": str(households * rng.randint(38, 48) // 10), "is_demo": "1"})
    return out


def load_laocai_2025(session: Session, *, villages: bool = True, rebuild: bool = True) -> ImportReport:
    """Load the tree (see the module docstring); does not commit. Nothing is written when the
    importer finds any problem (every one is in the report)."""
    from app.units.time import unit_by_code_on

    existing = unit_by_code_on(session, PROVINCE_CODE, EFFECTIVE)
    if existing is not None and existing.valid_from == EFFECTIVE:
        report = ImportReport()
        report.errors.append(f"The tree in force from {EFFECTIVE:%d/%m/%Y} is already loaded "
                             f"({existing.name}).")
        return report
    from sqlmodel import select

    from app.units import mergers_2024
    from app.units.models import Unit
    from app.units.names import unit_label
    from app.units.time import in_force_clause

    mergers_2024.record(session)  # the 2024 links first: a figure is followed 2023 → 2024 → 2025
    last_day = date(2025, 6, 30)
    old = unit_by_code_on(session, PROVINCE_CODE, last_day)
    communes = session.exec(select(Unit).where(Unit.depth == 2, in_force_clause(last_day))).all()
    known = {c.code for c in communes}
    districts = {d.id: unit_label(d, session) for d in session.exec(
        select(Unit).where(Unit.depth == 1, in_force_clause(last_day))).all()}
    by_name = {(districts.get(c.parent_id, ""), unit_label(c, session)): c.code for c in communes}
    return import_rows(session, tree_rows(villages=villages, known=known, by_name=by_name), effective=EFFECTIVE,
                       year=VILLAGE_YEAR, retire=[PROVINCE_CODE] if old is not None else [], rebuild=rebuild)
