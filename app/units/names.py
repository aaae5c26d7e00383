"""How a unit is named on screen: its kind before its own name ("Xã Xuân Long").

"Yên Bái" is both the province and the city under it; only the kind tells them apart, so every
place that names a unit to a person says "Tỉnh Yên Bái" or "Thành phố Yên Bái". Kind names are
rows of `unit_kind` (data, not code); they change once in years, so one process keeps them after
the first read and reads them again only for a kind it has not seen.
"""
from sqlmodel import Session, select

from app.units.models import Unit, UnitKind

_kind_names: dict[str, str] = {}


def kind_names(session: Session | None = None, *, need: str | None = None) -> dict[str, str]:
    """Kind code → name ("xa" → "Xã"), read once per process (again for an unseen kind)."""
    if not _kind_names or (need is not None and need not in _kind_names):
        if session is None:
            from app.core.db import engine

            with Session(engine) as own:
                _kind_names.update({k.code: k.name for k in own.exec(select(UnitKind)).all()})
        else:
            _kind_names.update({k.code: k.name for k in session.exec(select(UnitKind)).all()})
    return _kind_names


def label(unit: Unit, kinds: dict[str, str]) -> str:
    """The kind's name before the unit's own name, unless the name already starts with it."""
    kind = kinds.get(unit.kind)
    if not kind or unit.name.lower().startswith(kind.lower()):
        return unit.name
    return f"{kind} {unit.name}"


def unit_label(unit: Unit | None, session: Session | None = None) -> str:
    """ "Xã Xuân Long", "Thành phố Yên Bái", "Thôn 1"; "" for no unit. Also a template filter."""
    if unit is None:
        return ""
    return label(unit, kind_names(session, need=unit.kind))
