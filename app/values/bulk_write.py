"""Set-wise writes of an import batch: one statement per table and kind of change.

`app.values.bulk` decides, row by row in Python, what each figure does (the rules of
`rules.decide_save`); this module writes the outcome of the whole batch at once:

- PostgreSQL: `INSERT … SELECT FROM unnest(arrays)` (new figures, returning their ids, then
  their audit rows), `UPDATE … FROM unnest(arrays)` (changed figures), `DELETE … = ANY(array)`
  (cleared figures): one statement each, whatever the size of the batch;
- SQLite: the same as one executemany each, at the driver (it loops in C, in process).

Nothing here checks a rule or locks: the caller holds the figures' locks (`rollup.lock_figures`)
and has read the stored figures after taking them.
"""
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import Session

from app.values.models import DataValue

_dv = DataValue.__table__
_CHUNK = 5000  # ids per IN (…) on SQLite (well under its limit of 32,766 parameters)

Key = tuple[int, int, str]  # (unit id, indicator id, period)


@dataclass
class Writes:
    """A batch's outcome, in batch order. Snapshots are `rules.snapshot` dicts."""

    created: list[tuple[Key, dict[str, Any]]] = field(default_factory=list)  # key, new
    updated: list[tuple[Key, int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # key, id, old, new
    deleted: list[tuple[Key, int, dict[str, Any]]] = field(default_factory=list)  # key, id, old
    order: list[tuple[str, int]] = field(default_factory=list)  # (kind, index in its list): the audit order
    authors: dict[int, int | None] = field(default_factory=dict)  # updated id → its stored updated_by_id


def _json(snap: dict[str, Any] | None) -> str | None:
    """A snapshot as `service.audit` writes it (`json.dumps`), formatted directly when its
    figures are plain integers (20,000 `json.dumps` calls cost a tenth of a second)."""
    if snap is None:
        return None
    v, n, d, c, ver = snap["value"], snap["numerator"], snap["denominator"], snap["comment"], snap["version"]
    if type(ver) is not int or len(snap) != 5 or not (v is None or type(v) is int) \
            or not (n is None or type(n) is int) or not (d is None or type(d) is int):
        return json.dumps(snap, ensure_ascii=False, default=str)
    return (f'{{"value": {"null" if v is None else v}, "numerator": {"null" if n is None else n}, '
            f'"denominator": {"null" if d is None else d}, '
            f'"comment": {"null" if c is None else json.dumps(c, ensure_ascii=False)}, "version": {ver}}}')


def write(session: Session, w: Writes, *, now: datetime, user_id: int | None, token_id: int | None,
          via: str) -> None:
    """Write every change of the batch and its audit rows (in batch order). Does not commit."""
    dialect = session.get_bind().dialect
    pg = dialect.name == "postgresql"
    stamp = now if pg else _stamp(dialect, now)
    if w.deleted:
        _delete(session, w, pg=pg)
    if w.updated:
        _update(session, w, pg=pg, now=now, stamp=stamp, user_id=user_id, via=via)
    new_ids = _insert(session, w, pg=pg, now=now, stamp=stamp, user_id=user_id, via=via) if w.created else {}
    _write_audit(session, w, new_ids, pg=pg, now=stamp, user_id=user_id, token_id=token_id, via=via)


def _delete(session: Session, w: Writes, *, pg: bool) -> None:
    ids = [i for _k, i, _o in w.deleted]
    if pg:
        session.execute(text("DELETE FROM data_value WHERE id = ANY(CAST(:ids AS integer[]))"),
                        {"ids": ids})
    else:
        for i in range(0, len(ids), _CHUNK):
            session.execute(delete(_dv).where(_dv.c.id.in_(ids[i:i + _CHUNK])))


def _update(session: Session, w: Writes, *, pg: bool, now: datetime, stamp: Any, user_id: int | None,
            via: str) -> None:
    if pg:
        session.execute(text(
            "UPDATE data_value AS d SET value = t.v, numerator = t.n, denominator = t.d, "
            "comment = t.c, version = t.ver, updated_at = :now, updated_by_id = :by, "
            "updated_via = :via FROM unnest(CAST(:ids AS integer[]), CAST(:v AS bigint[]), "
            "CAST(:n AS bigint[]), CAST(:d AS bigint[]), CAST(:c AS text[]), "
            "CAST(:ver AS integer[])) AS t(id, v, n, d, c, ver) WHERE d.id = t.id"),
            {"ids": [i for _k, i, _o, _n in w.updated],
             "v": [n["value"] for *_x, n in w.updated],
             "n": [n["numerator"] for *_x, n in w.updated],
             "d": [n["denominator"] for *_x, n in w.updated],
             "c": [n["comment"] for *_x, n in w.updated],
             "ver": [n["version"] for *_x, n in w.updated],
             "now": now, "by": user_id, "via": via})
    else:
        # Rows whose updated_by_id is already the writer's are written without it: setting a
        # foreign-key column costs SQLite a quarter of the statement, even to the same value.
        conn, authors = session.connection(), w.authors
        same: list[tuple[Any, ...]] = []
        other: list[tuple[Any, ...]] = []
        for _k, i, _o, n in w.updated:
            figure = (n["value"], n["numerator"], n["denominator"], n["comment"], n["version"], stamp)
            if i in authors and authors[i] == user_id:
                same.append((*figure, via, i))
            else:
                other.append((*figure, user_id, via, i))
        if same:
            conn.exec_driver_sql("UPDATE data_value SET value = ?, numerator = ?, denominator = ?, comment = ?, "
                                 "version = ?, updated_at = ?, updated_via = ? WHERE id = ?", same)
        if other:
            conn.exec_driver_sql("UPDATE data_value SET value = ?, numerator = ?, denominator = ?, comment = ?, "
                                 "version = ?, updated_at = ?, updated_by_id = ?, updated_via = ? WHERE id = ?", other)


def _insert(session: Session, w: Writes, *, pg: bool, now: datetime, stamp: Any, user_id: int | None,
            via: str) -> dict[Key, int]:
    """Insert the new figures; their ids by key (for their audit rows)."""
    keys = [k for k, _n in w.created]
    if pg:
        rows = session.execute(text(
            "INSERT INTO data_value (unit_id, indicator_id, period, value, numerator, denominator, "
            "comment, version, created_at, updated_at, updated_by_id, updated_via) "
            "SELECT u, i, p, v, n, d, c, 1, :now, :now, :by, :via FROM unnest("
            "CAST(:u AS integer[]), CAST(:i AS integer[]), CAST(:p AS varchar[]), "
            "CAST(:v AS bigint[]), CAST(:n AS bigint[]), CAST(:d AS bigint[]), CAST(:c AS text[])"
            ") AS t(u, i, p, v, n, d, c) RETURNING id, unit_id, indicator_id, period"),
            {"u": [k[0] for k in keys], "i": [k[1] for k in keys], "p": [k[2] for k in keys],
             "v": [n["value"] for _k, n in w.created],
             "n": [n["numerator"] for _k, n in w.created],
             "d": [n["denominator"] for _k, n in w.created],
             "c": [n["comment"] for _k, n in w.created],
             "now": now, "by": user_id, "via": via})
    else:
        # The transaction holds SQLite's write lock, so ids above the largest one are free:
        # the new rows get them explicitly (as SQLite would: INTEGER PRIMARY KEY, no
        # AUTOINCREMENT), and need not be read back.
        conn = session.connection()
        top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM data_value").scalar_one()
        conn.exec_driver_sql(
            "INSERT INTO data_value (id, unit_id, indicator_id, period, value, numerator, denominator, "
            "comment, version, created_at, updated_at, updated_by_id, updated_via) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            [(top + n, k[0], k[1], k[2], v["value"], v["numerator"], v["denominator"], v["comment"], stamp,
              stamp, user_id, via) for n, (k, v) in enumerate(w.created, start=1)])
        return {k: top + n for n, k in enumerate(keys, start=1)}
    wanted = set(keys)
    return {(u, i, p): id_ for id_, u, i, p in rows if (u, i, p) in wanted}


def _stamp(dialect: Any, now: datetime) -> Any:
    """`now` as the column type stores it on this database (for driver-level statements)."""
    process = _dv.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    return process(now) if process else now


def _write_audit(session: Session, w: Writes, new_ids: dict[Key, int], *, pg: bool, now: Any,
                 user_id: int | None, token_id: int | None, via: str) -> None:
    rows: list[tuple[Any, ...]] = []  # at, user, token, via, entity id, action, unit, indicator, period, old, new
    add = rows.append
    for kind, idx in w.order:
        if kind == "updated":
            key, id_, old, new = w.updated[idx]
            add((now, user_id, token_id, via, id_, "update", *key, _json(old), _json(new)))
        elif kind == "created":
            key, new = w.created[idx]
            add((now, user_id, token_id, via, new_ids[key], "create", *key, None, _json(new)))
        else:
            key, id_, old = w.deleted[idx]
            add((now, user_id, token_id, via, id_, "delete", *key, _json(old), None))
    if not rows:
        return
    if pg:
        _at, _u, _t, _v, e, a, u, i, p, o, nw = zip(*rows, strict=True)
        session.execute(text(
            'INSERT INTO audit_log (at, user_id, token_id, via, entity, entity_id, action, unit_id, '
            'indicator_id, period, "old", "new") SELECT :now, :uid, :tid, :via, \'data_value\', e, a, u, '
            'i, p, o, nw FROM unnest(CAST(:e AS integer[]), CAST(:a AS varchar[]), CAST(:u AS integer[]), '
            'CAST(:i AS integer[]), CAST(:p AS varchar[]), CAST(:o AS text[]), CAST(:nw AS text[])) '
            'WITH ORDINALITY AS t(e, a, u, i, p, o, nw, ord) ORDER BY ord'),
            {"e": list(e), "a": list(a), "u": list(u), "i": list(i), "p": list(p), "o": list(o), "nw": list(nw),
             "now": now, "uid": user_id, "tid": token_id, "via": via})
    else:
        session.connection().exec_driver_sql(
            'INSERT INTO audit_log (at, user_id, token_id, via, entity, entity_id, action, unit_id, '
            'indicator_id, period, "old", "new") VALUES (?, ?, ?, ?, \'data_value\', ?, ?, ?, ?, ?, ?, ?)', rows)
