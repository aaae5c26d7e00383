"""Private databases for a test run: PostgreSQL ones created beside the server's `test` database,
and copies of the run's migrated, seeded database (the template) for the servers tests start.

Migrating and seeding a database takes seconds (tens on a busy 2-core machine); a server that
finds a database already seeded (`app.seed.run.seed_if_empty`) starts at once. So the session
database is kept as a template right after it is seeded (`keep_template`, tests/conftest.py)
and `seeded_copy` hands out copies of it: a file copy on SQLite, `CREATE DATABASE … TEMPLATE`
on PostgreSQL (the template is a database of its own that nobody connects to, as PostgreSQL
requires of a template). Each pytest process keeps its own template.
"""
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def database_url(admin_url: str, prefix: str) -> tuple[str, str]:
    """(URL, name) for a new database on the server `admin_url` points at (not created yet)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    _admin(admin_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def new_database_url(admin_url: str, prefix: str) -> tuple[str, str]:
    """(URL, name) of a fresh, empty database on the server `admin_url` points at."""
    url, name = database_url(admin_url, prefix)
    create_database(admin_url, name)
    return url, name


def drop_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class _Template:
    admin_url: str  # PostgreSQL server ("" on SQLite)
    source: str  # the template database's name, or the SQLite file's path


_template: _Template | None = None


def keep_template(engine: Engine, admin_url: str, db_name: str | None, tmp: Path) -> None:
    """Keep the just-seeded database behind `engine` as this process's template (call before any
    test touches it). On PostgreSQL the engine's connections are closed first: a database is
    copied only while nobody is connected to it."""
    global _template
    if db_name:
        engine.dispose()
        _url, name = database_url(admin_url, "mttq_tpl")
        create_database(admin_url, name, template=db_name)
        _template = _Template(admin_url, name)
        return
    path = tmp / "template.db"
    src = sqlite3.connect(str(engine.url.database))
    dst = sqlite3.connect(str(path))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    _template = _Template("", str(path))


def drop_template() -> None:
    global _template
    if _template is not None and _template.admin_url:
        drop_database(_template.admin_url, _template.source)
    _template = None


def has_template() -> bool:
    return _template is not None


def seeded_copy(prefix: str, directory: Path) -> tuple[str, str | None]:
    """(URL, PostgreSQL database name or None) of a new copy of the template: migrated, seeded
    with the units, the 2023 program and the demo accounts, no figures. Drop a PostgreSQL copy
    with `drop_database` (a SQLite copy is a file in `directory`)."""
    if _template is None:
        raise RuntimeError("no template yet: request the `engine` fixture first")
    if _template.admin_url:
        url, name = database_url(_template.admin_url, prefix)
        create_database(_template.admin_url, name, template=_template.source)
        return url, name
    path = directory / f"{prefix}.db"
    shutil.copyfile(_template.source, path)
    return f"sqlite:///{path}", None
