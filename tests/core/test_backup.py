"""`python -m app.cli backup FILE` / `restore FILE`: a backup taken while the app runs restores
into an empty database with the same figures and a clean `rollup check`."""
import os
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

import app.core.db as db_module
from app import cli
from app.core.db import make_engine, write_session
from app.values import service
from app.values.models import DataValue
from tests.concurrency_support import admin_principal, indicator, private_copy, program, unit
from tests.databases import database_url, drop_database

FIGURES = [("04720", "CT17", "2023-04", {"value": 2}), ("04720", "CT01", "2023-03",
           {"numerator": 40, "denominator": 50}), ("04720-01", "CT08", "2023-05", {"value": 1})]


def _figures(eng) -> list[tuple]:
    with Session(eng) as s:
        return sorted((dv.unit_id, dv.indicator_id, dv.period, dv.value, dv.numerator, dv.denominator,
                       dv.version) for dv in s.exec(select(DataValue)).all())


def _empty_database(shared):
    """(engine, cleanup) of a new, empty database of the same kind."""
    if shared.dialect.name == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="mttq-restore-")) / "restored.db"
        eng = make_engine(f"sqlite:///{path}")
        return eng, eng.dispose
    admin = os.environ["TEST_DATABASE_URL"]
    url, name = database_url(admin, "mttq_restore")
    from tests.databases import create_database

    create_database(admin, name)
    eng = make_engine(url)

    def cleanup() -> None:
        eng.dispose()
        drop_database(admin, name)
    return eng, cleanup


def test_backup_then_restore_into_empty_database_same_figures_clean_rollup(engine, monkeypatch, capsys):
    with private_copy(engine) as source:
        with write_session(source) as s:
            for code, ind, period, fig in FIGURES:
                service.save_value(s, admin_principal(s), program(s), unit(s, code), indicator(s, ind),
                                   period, service.Figure(**fig), via="api")
            s.commit()
        keep_open = source.connect()  # SQLite: the saves are still in the WAL, not the main file
        if source.dialect.name == "sqlite":
            keep_open.execute(text("SELECT 1"))
            assert os.path.getsize(source.url.database + "-wal") > 0
        file = Path(tempfile.mkdtemp(prefix="mttq-backup-")) / "backup.bin"
        monkeypatch.setattr(db_module, "engine", source)
        assert cli.main(["backup", str(file)]) == 0
        keep_open.close()
        expected = _figures(source)
        assert len(expected) == 3

        target, cleanup = _empty_database(engine)
        try:
            monkeypatch.setattr(db_module, "engine", target)
            assert cli.main(["restore", str(file)]) == 0  # exit 0: the roll-up check is clean
            assert "0 difference(s)" in capsys.readouterr().out
            assert _figures(target) == expected
            with Session(target) as s:
                from app.rollup.service import check

                assert check(s) == []
            # A second restore into the now non-empty database is refused.
            assert cli.main(["restore", str(file)]) == 1
        finally:
            cleanup()


def test_restore_missing_file_exit_2(engine, monkeypatch, tmp_path):
    assert cli.main(["restore", str(tmp_path / "nothing.bak")]) == 2


def test_rollup_check_command_exit_status(engine, monkeypatch, capsys):
    with private_copy(engine) as eng:
        monkeypatch.setattr(db_module, "engine", eng)
        assert cli.main(["rollup", "check"]) == 0
        with write_session(eng) as s:
            s.execute(text("UPDATE rollup_unit_count SET units = units + 1 WHERE depth = 2"))
            s.commit()
        assert cli.main(["rollup", "check"]) == 1
        out = capsys.readouterr().out
        assert "rollup_unit_count" in out and "difference(s)" in out
        assert cli.main(["rollup", "rebuild"]) == 0
        assert cli.main(["rollup", "check"]) == 0
